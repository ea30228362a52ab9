import assert from 'node:assert/strict';
import { type EngineJob, type GenerationSettings, negativePromptFor, settingsFromInfotext, toEngineParams } from '../../src/core/generationSettings';
import { applyTemplate, findTemplate } from '../../src/core/templates';

const defaults = { negativePrompt: '', steps: 30, guidance: 6, width: 768, height: 512, scheduler: 'euler-a' };

function params(s: GenerationSettings, job: Partial<EngineJob> = {}) {
  return toEngineParams(s, { model: '/m', seed: 42, defaults, template: findTemplate(s.template), output: { outDir: '/staging/job' }, previewEvery: 0, ...job });
}

describe('generation settings → engine parameters (every front end)', () => {
  it('fills what the settings leave open from the configuration, and keeps what they say', () => {
    const p = params({ prompt: 'a heart' });
    assert.deepEqual(
      [p.model, p.prompt, p.seed, p.steps, p.guidance, p.width, p.height, p.scheduler, p.batch, p.promptWeighting, p.outDir, p.domain],
      ['/m', 'a heart', 42, 30, 6, 768, 512, 'euler-a', 1, true, '/staging/job', 'general'],
    );
    const own = params({ prompt: 'a heart', steps: 4, guidance: 1, width: 512, height: 768, scheduler: 'ddim', batch: 4 });
    assert.deepEqual([own.steps, own.guidance, own.width, own.height, own.scheduler, own.batch], [4, 1, 512, 768, 'ddim', 4]);
    assert.equal(params({ prompt: 'a', scheduler: 'default' }).scheduler, undefined, "'default': the model's own scheduler, left to the engine");
    assert.equal(params({ prompt: 'a' }, { defaults: { ...defaults, scheduler: 'default' } }).scheduler, undefined);
  });

  it('sends one image to its file, confined to the workspace folder', () => {
    const p = params({ prompt: 'a' }, { output: { outFile: '/ws/images/a-42.png', confineTo: '/ws' } });
    assert.deepEqual([p.outFile, p.confineTo, p.outDir], ['/ws/images/a-42.png', '/ws', undefined]);
  });

  it('sends prompts on one line, without control characters', () => {
    const p = params({ prompt: 'a\u0000 heart\nNegative prompt: \u202egore', negativePrompt: 'text\r\n\u2066blur' });
    assert.equal(p.prompt, 'a heart Negative prompt: gore');
    assert.equal(p.negativePrompt, 'text blur');
    const t = params({ prompt: 'a\u0000 heart\nx', template: 'education-primary' });
    assert.ok(t.prompt.startsWith('a heart x, '), t.prompt);
  });

  it('has one negative-prompt rule: the job\'s own, else the setting, else the template\'s', () => {
    const t = findTemplate('education-primary');
    assert.ok(t?.negative);
    assert.equal(negativePromptFor('people', 'blurry', t), 'people');
    assert.equal(negativePromptFor(undefined, 'blurry', t), 'blurry');
    assert.equal(negativePromptFor('', '', t), t.negative);
    assert.equal(negativePromptFor(' ', '', undefined), undefined);
  });

  it('applies a template: wrapped prompt, its negative prompt, its domain, its name in the PNG; a style comes last', () => {
    const edu = params({ prompt: ' a volcano ', template: 'education-primary', style: 'flat textbook look' });
    assert.equal(edu.prompt, 'a volcano, simple friendly flat illustration, bright colours, clear shapes, flat textbook look');
    assert.equal(edu.negativePrompt, findTemplate('education-primary')?.negative);
    assert.equal(edu.domain, 'education');
    assert.deepEqual(edu.extraParameters, { Template: 'education-primary', 'Course style': 'flat textbook look' });
    const none = params({ prompt: ' a volcano ' });
    assert.equal(none.prompt, ' a volcano ', 'no template: the prompt as written');
    assert.equal(none.extraParameters, undefined);
  });

  it('labels by declaration, never by the words of the prompt; a medical template implies it', () => {
    assert.equal(params({ prompt: 'chest X-ray (CXR) of pneumonia' }).domain, 'general', 'words only suggest');
    assert.equal(params({ prompt: 'a friendly heart diagram' }, { domain: 'medical', labelLanguage: 'zh' }).domain, 'medical');
    const t = findTemplate('medical-histology');
    assert.ok(t);
    assert.equal(params({ prompt: 'a leaf', template: t.id }).domain, 'medical');
    assert.ok(applyTemplate(t, 'a leaf').includes('a leaf'));
  });

  it('starts from a source image: img2img without a mask, inpainting with one, with diffusers\' default strengths', () => {
    const txt = params({ prompt: 'a heart', strength: 0.4 });
    assert.equal(txt.initImage, undefined, 'no source: text to image, whatever the strength says');
    assert.equal(txt.strength, undefined);
    const redraw = params({ prompt: 'a heart', strength: 0.4 }, { source: { image: '/ws/scan.jpg' } });
    assert.deepEqual([redraw.initImage, redraw.mask, redraw.strength], ['/ws/scan.jpg', undefined, 0.4]);
    assert.equal(params({ prompt: 'a' }, { source: { image: '/ws/scan.jpg' } }).strength, 0.8);
    const inpaint = params({ prompt: 'a' }, { source: { image: '/ws/scan.jpg', mask: '/store/mask-1.png' } });
    assert.deepEqual([inpaint.initImage, inpaint.mask, inpaint.strength], ['/ws/scan.jpg', '/store/mask-1.png', 1]);
  });

  it('sends the English prompt beside a Chinese one to the model', () => {
    assert.equal(params({ prompt: '植物细胞结构图', modelPrompt: 'labelled diagram of a plant cell' }).prompt, 'labelled diagram of a plant cell');
    assert.equal(params({ prompt: '植物细胞结构图', modelPrompt: '  ' }).prompt, '植物细胞结构图');
  });
});

describe('settings from an image\'s parameters (Regenerate, Variations, the gallery, Reuse)', () => {
  it('clamps a hostile image\'s parameters to the limits, with the warnings the user sees', () => {
    const v = settingsFromInfotext(
      { prompt: 'a heart', negativePrompt: 'blurry', fields: { Steps: '1000', 'CFG scale': '1e308', Size: '4096x4096', Sampler: 'Euler a', Seed: '-1' }, width: 64, height: 64 },
      'a heart',
    );
    assert.ok(v);
    const s = v.settings;
    assert.deepEqual([s.steps, s.guidance, s.width, s.height, s.scheduler, s.seed], [150, 30, 2048, 2048, 'euler-a', undefined]);
    assert.deepEqual(v.warnings, [
      "The image's parameters ask for 1000 steps; 150 are used (allowed: 1 to 150).",
      "The image's parameters ask for guidance 1e+308; 30 is used (allowed: 0 to 30).",
      "The image's parameters ask for a size of 4096×4096; 2048×2048 is used (allowed: 64 to 2048 pixels a side, multiples of 8).",
      "The image's parameters give the seed -1; a random seed is used instead (allowed: 0 to 9007199254740991).",
    ]);
  });

  it('leaves out what is not a number, and an unknown template, and says so', () => {
    const v = settingsFromInfotext({ prompt: 'x', fields: { Steps: 'many', 'CFG scale': '1e999', Size: '99999999999999999999x8', Template: '../../etc' }, width: 0, height: 0 });
    assert.ok(v);
    const s = v.settings;
    assert.deepEqual([s.steps, s.guidance, s.width, s.height, s.template, s.prompt], [undefined, undefined, 2048, 64, undefined, 'x']);
    assert.deepEqual(v.warnings, [
      "The image's parameters give \"many\" as Steps, which is not a number; the setting is used instead.",
      "The image's parameters give \"1e999\" as CFG scale, which is not a number; the setting is used instead.",
      "The image's parameters ask for a size of 1e+20×8; 2048×64 is used (allowed: 64 to 2048 pixels a side, multiples of 8).",
    ]);
  });

  it('gives back the subject and the template of a templated prompt, and a whole prompt otherwise', () => {
    const made = settingsFromInfotext({ prompt: 'a volcano, simple friendly flat illustration, bright colours, clear shapes', fields: { Template: 'education-primary' } });
    assert.deepEqual([made?.settings.prompt, made?.settings.template], ['a volcano', 'education-primary']);
    const edited = settingsFromInfotext({ prompt: 'a volcano at night', fields: { Template: 'education-primary' } });
    assert.deepEqual([edited?.settings.prompt, edited?.settings.template], ['a volcano at night', undefined]);
    // Made again, either gives the same prompt to the model.
    assert.equal(params(made!.settings).prompt, 'a volcano, simple friendly flat illustration, bright colours, clear shapes');
  });

  it('takes a course style off the end, so a styled, templated prompt gives back its subject, template and style', () => {
    const first = params({ prompt: 'a volcano', template: 'education-primary', style: 'flat textbook look' });
    const back = settingsFromInfotext({ prompt: first.prompt, fields: first.extraParameters });
    assert.deepEqual([back?.settings.prompt, back?.settings.template, back?.settings.style], ['a volcano', 'education-primary', 'flat textbook look']);
    assert.equal(params(back!.settings).prompt, first.prompt, 'made again: the same prompt for the model');
    // A style field the prompt does not end with (edited in another tool) is not taken off.
    const edited = settingsFromInfotext({ prompt: 'a volcano, watercolour', fields: { 'Course style': 'flat textbook look' } });
    assert.deepEqual([edited?.settings.prompt, edited?.settings.style], ['a volcano, watercolour', undefined]);
    const plain = settingsFromInfotext({ prompt: 'a volcano, flat textbook look', fields: { 'Course style': 'flat textbook look' } });
    assert.deepEqual([plain?.settings.prompt, plain?.settings.style], ['a volcano', 'flat textbook look']);
    const long = 'w'.repeat(501);
    const tooLong = settingsFromInfotext({ prompt: `a volcano, ${long}`, fields: { 'Course style': long } });
    assert.equal(tooLong?.settings.style, undefined, 'longer than a course style may be: left in the prompt');
  });

  it('cuts an overlong prompt to the limit of a whole prompt, and says so', () => {
    const v = settingsFromInfotext({ prompt: 'p'.repeat(1_000_000), fields: {}, width: 512, height: 512 }, 'alt');
    assert.equal(v?.settings.prompt.length, 20500);
    assert.deepEqual(v?.warnings, ["The prompt in the image's parameters is 1000000 characters long; the first 20500 are used (allowed: at most 20500)."]);
  });

  it('keeps well-formed parameters as they are, without warnings, and keeps the image\'s label', () => {
    const v = settingsFromInfotext({ prompt: 'a cell', negativePrompt: '', fields: { Steps: '25', 'CFG scale': '7.5', Size: '768x512', Seed: '7', 'Denoising strength': '0.6' }, width: 768, height: 512 });
    assert.deepEqual(v, { settings: { prompt: 'a cell', negativePrompt: '', steps: 25, guidance: 7.5, width: 768, height: 512, seed: 7, strength: 0.6 }, warnings: [] });
  });

  it('strips control characters and line breaks, and cuts to length; nothing left is no job', () => {
    const v = settingsFromInfotext({ prompt: 'a\u0000 heart\r\nNegative prompt: \u202egore\u001b', negativePrompt: `blur\u0007${'x'.repeat(30000)}`, fields: {}, width: 512, height: 512 });
    assert.ok(v);
    assert.equal(v.settings.prompt, 'a heart Negative prompt: gore');
    assert.equal(v.settings.negativePrompt?.length, 20000);
    assert.deepEqual(v.warnings, ["The negative prompt in the image's parameters is 30004 characters long; the first 20000 are used (allowed: at most 20000)."]);
    assert.equal(settingsFromInfotext({ prompt: '\u0000\u202e \n', fields: {}, width: 8, height: 8 }), undefined);
  });
});
