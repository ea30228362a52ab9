import assert from 'node:assert/strict';
import { applyTemplate, findTemplate } from '../../../src/core/templates';
import { readConfig } from '../../../src/extension/config';
import { defaultSettings, toGenerateParams } from '../../../src/extension/panel/panelState';

const cfg = readConfig({ get: <T>() => undefined as T });

describe('panel jobs and the AI label', () => {
  it('marks a medical prompt, a medical template\'s included, as medical like the commands do', () => {
    const params = (prompt: string) => toGenerateParams({ ...defaultSettings(cfg), prompt }, '/m', 1, { folder: '/ws/images' }, 1);
    assert.equal(params('anatomy of the human heart').domain, 'medical');
    const t = findTemplate('medical-histology');
    assert.ok(t);
    assert.equal(params(applyTemplate(t, 'a leaf')).domain, 'medical');
    assert.equal(params('a lighthouse at dusk').domain, 'general');
  });
});
