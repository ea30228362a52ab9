import assert from 'node:assert/strict';
import { applyTemplate, findTemplate } from '../../../src/core/templates';
import { readConfig } from '../../../src/extension/config';
import { defaultSettings, toGenerateParams } from '../../../src/extension/panel/panelState';

const cfg = readConfig({ get: <T>() => undefined as T });

describe('panel jobs and the AI label', () => {
  it('labels by declaration, never by the words of the prompt', () => {
    const params = (prompt: string, domain?: 'medical' | 'general') => toGenerateParams({ ...defaultSettings(cfg), prompt }, '/m', 1, { folder: '/ws/images' }, 1, undefined, domain);
    assert.equal(params('chest X-ray (CXR) of pneumonia').domain, 'general', 'words only suggest');
    assert.equal(params('a friendly heart diagram for primary school', 'medical').domain, 'medical', 'the document declared it');
    const t = findTemplate('medical-histology');
    assert.ok(t);
    assert.equal(toGenerateParams({ ...defaultSettings(cfg), prompt: 'a leaf', template: t.id }, '/m', 1, { folder: '/ws' }, 1).domain, 'medical', 'a medical template implies it');
    assert.ok(applyTemplate(t, 'a leaf').includes('a leaf'));
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
