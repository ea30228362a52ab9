import assert from 'node:assert/strict';
import { applyTemplate, findTemplate } from '../../../src/core/templates';
import { prefillSettings } from '../../../src/extension/panel/prefillSettings';

describe('panel prefill from a command argument', () => {
  it('keeps the form values it is given, as before', () => {
    const r = prefillSettings({ prompt: 'a cell', settings: { width: 768, steps: 3, seed: 9, negativePrompt: 'blur' } }, '');
    assert.deepEqual(r, { settings: { prompt: 'a cell', width: 768, steps: 3, seed: 9, negativePrompt: 'blur' }, problems: [] });
    assert.deepEqual(prefillSettings({}, ''), { settings: undefined, problems: [] });
  });

  it('resolves A1111 and diffusers scheduler names to the form\'s names, and keeps "default"', () => {
    assert.equal(prefillSettings({ settings: { prompt: 'x', scheduler: 'Euler a' } }, '').settings?.scheduler, 'euler-a');
    assert.equal(prefillSettings({ settings: { prompt: 'x', scheduler: 'DPMSolverMultistepScheduler' } }, '').settings?.scheduler, 'dpmpp-2m');
    assert.equal(prefillSettings({ settings: { prompt: 'x', scheduler: 'Default' } }, '').settings?.scheduler, 'default');
  });

  it('leaves an unknown scheduler out and says which ones exist', () => {
    const r = prefillSettings({ settings: { prompt: 'x', steps: 4, scheduler: 'warp-drive' } }, '');
    assert.deepEqual(r.settings, { prompt: 'x', steps: 4 });
    assert.equal(r.problems.length, 1);
    assert.match(r.problems[0], /settings\.scheduler: Unknown scheduler "warp-drive"\. Valid schedulers: pndm, ddim/);
  });

  it('wraps the prompt in the template like the "Generate illustration" lens, with its negative prompt', () => {
    const t = findTemplate('medical-cross-section');
    assert.ok(t?.negative);
    const r = prefillSettings({ prompt: 'a heart ', template: t.id, settings: { prompt: 'a heart', seed: 1 } }, '');
    assert.deepEqual(r.problems, []);
    assert.equal(r.settings?.prompt, applyTemplate(t, 'a heart'));
    assert.equal(r.settings?.prompt, 'a heart, medical cross-section diagram, clean lines, labelled areas');
    assert.equal(r.settings?.negativePrompt, t.negative, 'no negative prompt setting: the template\'s');
    assert.equal(r.settings?.seed, 1);
  });

  it('prefers the argument\'s negative prompt, then the negative prompt setting, over the template\'s', () => {
    const own = prefillSettings({ template: 'education-primary', settings: { prompt: 'a volcano', negativePrompt: 'people' } }, 'blurry');
    assert.equal(own.settings?.negativePrompt, 'people');
    const setting = prefillSettings({ template: 'education-primary', settings: { prompt: 'a volcano' } }, 'blurry');
    assert.equal(setting.settings?.negativePrompt, 'blurry');
    assert.equal(setting.settings?.prompt, 'a volcano, simple friendly flat illustration, bright colours, clear shapes');
  });

  it('leaves the prompt alone for an unknown template, or a template without a prompt, and says why', () => {
    const unknown = prefillSettings({ prompt: 'a cat', template: 'medical-xray-vision' }, '');
    assert.deepEqual(unknown.settings, { prompt: 'a cat' });
    assert.match(unknown.problems[0], /^template: unknown template "medical-xray-vision" \(known: education-primary, .*medical-cross-section/);
    const bare = prefillSettings({ template: 'medical-anatomy' }, '');
    assert.equal(bare.settings, undefined);
    assert.match(bare.problems[0], /needs a prompt/);
  });
});
