import assert from 'node:assert/strict';
import { readConfig } from '../../../src/extension/config';
import { JobList, defaultSettings, restoreResults, toGenerateParams } from '../../../src/extension/panel/panelState';
import { PanelSettings } from '../../../src/core/webviewMessages';

const cfg = readConfig({ get: <T>(k: string) => ({ steps: 30, guidance: 6, scheduler: 'Euler a', size: '768x512', negativePrompt: 'blurry' } as Record<string, unknown>)[k] as T });

describe('results panel state', () => {
  it('fills the form from the user settings', () => {
    const s = defaultSettings(cfg);
    assert.deepEqual(
      { w: s.width, h: s.height, steps: s.steps, g: s.guidance, sched: s.scheduler, neg: s.negativePrompt, seed: s.seed },
      { w: 768, h: 512, steps: 30, g: 6, sched: 'euler-a', neg: 'blurry', seed: undefined },
    );
  });

  it('sends one image to the chosen file and a batch to the folder', () => {
    const s: PanelSettings = { ...defaultSettings(cfg), prompt: 'a heart', scheduler: 'default', batch: 1 };
    const one = toGenerateParams(s, '/models/sd', 42, { file: '/ws/images/a-42.png', folder: '/ws/images' }, 2);
    assert.equal(one.outFile, '/ws/images/a-42.png');
    assert.equal(one.outDir, undefined);
    assert.equal(one.scheduler, undefined, "the model's default scheduler is left to the engine");
    assert.equal(one.seed, 42);
    assert.equal(one.promptWeighting, true);
    const many = toGenerateParams({ ...s, batch: 4, scheduler: 'ddim' }, '/models/sd', 42, { file: '/ws/images/a-42.png', folder: '/ws/images' }, 2);
    assert.equal(many.outFile, undefined);
    assert.equal(many.outDir, '/ws/images');
    assert.equal(many.scheduler, 'ddim');
  });

  it('sends prompts to the engine on one line, without control characters', () => {
    const s: PanelSettings = { ...defaultSettings(cfg), prompt: 'a\u0000 heart\nNegative prompt: \u202egore', negativePrompt: 'text\r\n\u2066blur', batch: 1 };
    const p = toGenerateParams(s, '/models/sd', 1, { folder: '/ws/images' }, 0);
    assert.equal(p.prompt, 'a heart Negative prompt: gore');
    assert.equal(p.negativePrompt, 'text blur');
    const t = toGenerateParams({ ...s, template: 'education-primary' }, '/models/sd', 1, { folder: '/ws/images' }, 0);
    assert.ok(t.prompt.startsWith('a heart Negative prompt: gore, '), t.prompt);
  });

  it('starts from a source image: img2img without a mask, inpainting with one, with diffusers\' default strengths', () => {
    const s: PanelSettings = { ...defaultSettings(cfg), prompt: 'a heart', batch: 1 };
    const txt = toGenerateParams({ ...s, strength: 0.4 }, '/m', 1, { folder: '/ws/images' }, 0);
    assert.equal(txt.initImage, undefined, 'no source: text to image, whatever the strength field says');
    assert.equal(txt.strength, undefined);
    const redraw = toGenerateParams({ ...s, strength: 0.4 }, '/m', 1, { folder: '/ws/images' }, 0, { image: '/ws/scan.jpg' });
    assert.deepEqual([redraw.initImage, redraw.mask, redraw.strength], ['/ws/scan.jpg', undefined, 0.4]);
    assert.equal(toGenerateParams(s, '/m', 1, { folder: '/ws' }, 0, { image: '/ws/scan.jpg' }).strength, 0.8);
    const inpaint = toGenerateParams(s, '/m', 1, { folder: '/ws' }, 0, { image: '/ws/scan.jpg', mask: '/store/mask-1.png' });
    assert.deepEqual([inpaint.initImage, inpaint.mask, inpaint.strength], ['/ws/scan.jpg', '/store/mask-1.png', 1]);
  });

  it('sends the English prompt beside a Chinese one to the model; the Chinese text stays the form\'s prompt', () => {
    const s: PanelSettings = { ...defaultSettings(cfg), prompt: '植物细胞结构图', modelPrompt: 'labelled diagram of a plant cell', batch: 1 };
    assert.equal(toGenerateParams(s, '/m', 1, { folder: '/ws' }, 0).prompt, 'labelled diagram of a plant cell');
    assert.equal(toGenerateParams({ ...s, modelPrompt: '  ' }, '/m', 1, { folder: '/ws' }, 0).prompt, '植物细胞结构图');
  });

  it('tracks the running job and the waiting ones', () => {
    const jobs = new JobList();
    jobs.add('a', 'first');
    jobs.add('b', 'second');
    jobs.add('c', 'third');
    assert.equal(jobs.running(), 'a');
    assert.deepEqual(jobs.list().map((j) => j.position), [0, 1, 2]);
    jobs.remove('a');
    jobs.setPosition('b', 0);
    jobs.setPosition('c', 1);
    assert.equal(jobs.running(), 'b');
    assert.deepEqual(jobs.list().map((j) => [j.jobId, j.position]), [['b', 0], ['c', 1]]);
  });

  it('restores saved results and drops malformed ones', () => {
    const settings = { ...defaultSettings(cfg), prompt: 'x' };
    const good = { id: 'img-1', path: '/ws/a.png', image: { path: '/ws/a.png', seed: 1, width: 512, height: 512, infotext: 'x' }, settings };
    const restored = restoreResults([
      good,
      { ...good, id: '../evil' },
      { ...good, settings: { ...settings, width: 7 } },
      { id: 'img-2' },
      'junk',
    ]);
    assert.deepEqual(restored.map((r) => r.id), ['img-1']);
    assert.deepEqual(restoreResults(undefined), []);
  });
});
