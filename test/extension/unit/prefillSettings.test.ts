import assert from 'node:assert/strict';
import { findTemplate } from '../../../src/core/templates';
import { prefillSettings } from '../../../src/extension/panel/prefillSettings';

describe('panel prefill from a command argument', () => {
  it('keeps the form values it is given; settings without a template choose none, a bare prompt keeps the form\'s', () => {
    const r = prefillSettings({ prompt: 'a cell', settings: { width: 768, steps: 3, seed: 9, negativePrompt: 'blur' } }, '');
    assert.deepEqual(r, { settings: { prompt: 'a cell', width: 768, steps: 3, seed: 9, negativePrompt: 'blur', template: '' }, problems: [] });
    assert.deepEqual(prefillSettings({ prompt: 'a cell' }, ''), { settings: { prompt: 'a cell' }, problems: [] });
    assert.deepEqual(prefillSettings({}, ''), { settings: undefined, problems: [] });
  });

  it('resolves A1111 and diffusers scheduler names to the form\'s names, and keeps "default"', () => {
    assert.equal(prefillSettings({ settings: { prompt: 'x', scheduler: 'Euler a' } }, '').settings?.scheduler, 'euler-a');
    assert.equal(prefillSettings({ settings: { prompt: 'x', scheduler: 'DPMSolverMultistepScheduler' } }, '').settings?.scheduler, 'dpmpp-2m');
    assert.equal(prefillSettings({ settings: { prompt: 'x', scheduler: 'Default' } }, '').settings?.scheduler, 'default');
  });

  it('leaves an unknown scheduler out and says which ones exist', () => {
    const r = prefillSettings({ settings: { prompt: 'x', steps: 4, scheduler: 'warp-drive' } }, '');
    assert.deepEqual(r.settings, { prompt: 'x', steps: 4, template: '' });
    assert.equal(r.problems.length, 1);
    assert.match(r.problems[0], /settings\.scheduler: Unknown scheduler "warp-drive"\. Valid schedulers: pndm, ddim/);
  });

  it('chooses the template in the form and keeps the subject as the prompt, with the template\'s negative prompt', () => {
    const t = findTemplate('medical-cross-section');
    assert.ok(t?.negative);
    const r = prefillSettings({ prompt: 'a heart ', template: t.id, settings: { prompt: 'a heart', seed: 1 } }, '');
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.settings, { prompt: 'a heart', seed: 1, template: t.id, negativePrompt: t.negative });
    const inside = prefillSettings({ settings: { prompt: 'a heart', template: t.id } }, '');
    assert.equal(inside.settings?.template, t.id, 'a template inside the settings (gallery, Reuse) counts too');
    assert.equal(prefillSettings({ template: t.id }, '').settings?.template, t.id, 'a template alone just chooses it');
  });

  it('prefers the argument\'s negative prompt, then the negative prompt setting, over the template\'s', () => {
    const own = prefillSettings({ template: 'education-primary', settings: { prompt: 'a volcano', negativePrompt: 'people' } }, 'blurry');
    assert.equal(own.settings?.negativePrompt, 'people');
    const setting = prefillSettings({ template: 'education-primary', settings: { prompt: 'a volcano' } }, 'blurry');
    assert.equal(setting.settings?.negativePrompt, 'blurry');
    assert.equal(setting.settings?.prompt, 'a volcano');
  });

  it('brings values from elsewhere within the limits, cleaned of control characters, and says what changed', () => {
    const r = prefillSettings({ settings: { prompt: 'a\u0000 heart\r\n\u202ecell', negativePrompt: 'blur\u001b', steps: 1000, guidance: 1e308, width: 4096, height: 1024, seed: -3 } }, '');
    assert.deepEqual(r.settings, { prompt: 'a heart cell', negativePrompt: 'blur', steps: 150, guidance: 30, width: 2048, height: 512, template: '' });
    assert.deepEqual(r.problems, [
      'The values given to the panel ask for 1000 steps; 150 are used (allowed: 1 to 150).',
      'The values given to the panel ask for guidance 1e+308; 30 is used (allowed: 0 to 30).',
      'The values given to the panel ask for a size of 4096×1024; 2048×512 is used (allowed: 64 to 2048 pixels a side, multiples of 8).',
      'The values given to the panel give the seed -3; a random seed is used instead (allowed: 0 to 9007199254740991).',
    ]);
    assert.deepEqual(prefillSettings({ prompt: 'x\u0000y' }, '').settings, { prompt: 'xy' });
  });

  it('chooses no template for an unknown one, and says which exist', () => {
    const unknown = prefillSettings({ prompt: 'a cat', template: 'medical-xray-vision' }, '');
    assert.deepEqual(unknown.settings, { prompt: 'a cat' });
    assert.match(unknown.problems[0], /^template: unknown template "medical-xray-vision" \(known: education-primary, .*medical-cross-section.*, or a composed edu\.LEVEL\.SUBJECT\.TYPE or med\.MODALITY\.VIEW\); no template is chosen\.$/);
    const inSettings = prefillSettings({ settings: { prompt: 'a cat', template: 'nope' } }, '');
    assert.deepEqual(inSettings.settings, { prompt: 'a cat', template: '' });
    assert.equal(inSettings.problems.length, 1);
  });

  it('chooses a composed template (a directive\'s level, subject and type; a PNG\'s Template:) with its negative prompt', () => {
    const composed = prefillSettings({ settings: { prompt: 'a plant cell', template: 'edu.high.biology.labelled-diagram' } }, '');
    assert.deepEqual(composed.problems, []);
    assert.equal(composed.settings?.template, 'edu.high.biology.labelled-diagram');
    assert.match(composed.settings?.negativePrompt ?? '', /^text, letters, watermark/);
    assert.equal(prefillSettings({ prompt: 'a knee', template: 'med.mri.sagittal' }, 'blurry').settings?.template, 'med.mri.sagittal');
  });
});
