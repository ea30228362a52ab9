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

  it('applies the chosen template like the commands: wrapped prompt, its negative prompt, its domain, its name in the PNG', () => {
    const base = { ...defaultSettings(cfg), prompt: ' a volcano ', negativePrompt: '' };
    const edu = toGenerateParams({ ...base, template: 'education-primary' }, '/m', 1, { folder: '/ws/images' }, 1);
    assert.equal(edu.prompt, 'a volcano, simple friendly flat illustration, bright colours, clear shapes');
    assert.equal(edu.negativePrompt, findTemplate('education-primary')?.negative);
    assert.equal(edu.domain, 'education');
    assert.deepEqual(edu.extraParameters, { Template: 'education-primary' });
    const med = toGenerateParams({ ...base, negativePrompt: 'people', template: 'medical-imaging' }, '/m', 1, { folder: '/ws/images' }, 1);
    assert.equal(med.domain, 'medical', 'a medical template labels even a harmless subject');
    assert.equal(med.negativePrompt, 'people', 'the form\'s own negative prompt wins');
    const none = toGenerateParams(base, '/m', 1, { folder: '/ws/images' }, 1);
    assert.equal(none.prompt, ' a volcano ', 'no template: the prompt as written');
    assert.equal(none.extraParameters, undefined);
  });
});
