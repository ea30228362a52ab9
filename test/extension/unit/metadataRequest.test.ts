import assert from 'node:assert/strict';
import { cleanRequestText, requestTextProblem } from '../../../src/extension/generation/requestText';
import { valuesFromMetadata } from '../../../src/extension/stubs/metadataRequest';

describe('Regenerate from a PNG\'s metadata', () => {
  it('clamps a hostile image\'s parameters to the limits, with the warnings the user sees', () => {
    const v = valuesFromMetadata(
      {
        prompt: 'a heart',
        negativePrompt: 'blurry',
        fields: { Steps: '1000', 'CFG scale': '1e308', Size: '4096x4096', Sampler: 'Euler a', Template: 'education-primary' },
        width: 64,
        height: 64,
      },
      'a heart',
    );
    assert.ok(v);
    assert.deepEqual(
      { steps: v.steps, guidance: v.guidance, width: v.width, height: v.height, scheduler: v.scheduler, template: v.template },
      { steps: 150, guidance: 30, width: 2048, height: 2048, scheduler: 'euler-a', template: 'education-primary' },
    );
    assert.deepEqual(v.warnings, [
      "The image's parameters ask for 1000 steps; 150 are used (allowed: 1 to 150).",
      "The image's parameters ask for guidance 1e+308; 30 is used (allowed: 0 to 30).",
      "The image's parameters ask for a size of 4096×4096; 2048×2048 is used (allowed: 64 to 2048 pixels a side, multiples of 8).",
    ]);
  });

  it('leaves out what is not a number, and an unknown template, and says so', () => {
    const v = valuesFromMetadata({ prompt: 'x', fields: { Steps: 'many', 'CFG scale': '1e999', Size: '99999999999999999999x8', Template: '../../etc' }, width: 0, height: 0 }, '');
    assert.ok(v);
    assert.deepEqual([v.steps, v.guidance, v.width, v.height, v.template], [undefined, undefined, 2048, 64, undefined]);
    assert.deepEqual(v.warnings, [
      "The image's parameters give \"many\" as Steps, which is not a number; the setting is used instead.",
      "The image's parameters give \"1e999\" as CFG scale, which is not a number; the setting is used instead.",
      "The image's parameters ask for a size of 1e+20×8; 2048×64 is used (allowed: 64 to 2048 pixels a side, multiples of 8).",
    ]);
  });

  it('cuts an overlong prompt to the limit of a whole prompt, and says so', () => {
    const v = valuesFromMetadata({ prompt: 'p'.repeat(1_000_000), fields: {}, width: 512, height: 512 }, 'alt');
    assert.equal(v?.prompt.length, 20500);
    assert.deepEqual(v?.warnings, ["The prompt in the image's parameters is 1000000 characters long; the first 20500 are used (allowed: at most 20500)."]);
  });

  it('keeps well-formed parameters as they are, without warnings', () => {
    const v = valuesFromMetadata({ prompt: 'a cell', negativePrompt: '', fields: { Steps: '25', 'CFG scale': '7.5', Size: '768x512' }, width: 768, height: 512 }, 'cell');
    assert.deepEqual(v, { prompt: 'a cell', alt: 'cell', negativePrompt: '', steps: 25, guidance: 7.5, width: 768, height: 512, scheduler: undefined, template: undefined, warnings: [] });
  });

  it('strips control characters and line breaks from the prompt, negative prompt and alt text, and cuts them to length', () => {
    const v = valuesFromMetadata(
      { prompt: 'a\u0000 heart\r\nNegative prompt: \u202egore\u001b', negativePrompt: `blur\u0007${'x'.repeat(30000)}`, fields: {}, width: 512, height: 512 },
      '\u2066alt\u2069 text\n',
    );
    assert.ok(v);
    assert.equal(v.prompt, 'a heart Negative prompt: gore');
    assert.equal(v.alt, 'alt text');
    assert.equal(v.negativePrompt?.length, 20000);
    assert.ok(v.negativePrompt?.startsWith('blurxxx'));
    assert.deepEqual(v.warnings, ["The negative prompt in the image's parameters is 30004 characters long; the first 20000 are used (allowed: at most 20000)."]);
    assert.equal(valuesFromMetadata({ prompt: '\u0000\u202e \n', fields: {}, width: 8, height: 8 }, ''), undefined, 'no prompt left: nothing to regenerate');
  });
});

describe('generation request text (every command and CodeLens)', () => {
  it('cleans the prompt, negative prompt and alt text, and keeps the rest', () => {
    const target = { tracked: true };
    const req = cleanRequestText({ prompt: 'a\u0000b\nc', alt: 'alt\u202e\r\n', negativePrompt: 'n\u0085m', target, steps: 3 });
    assert.deepEqual(req, { prompt: 'ab c', alt: 'alt ', negativePrompt: 'n m', target, steps: 3 });
    assert.equal(req.target, target, 'the tracked target is the same object');
    assert.equal('negativePrompt' in cleanRequestText({ prompt: 'p', alt: 'a' }), false);
  });

  it('refuses a typed prompt over the limit, naming it', () => {
    assert.equal(requestTextProblem({ prompt: 'p', alt: 'a' }), undefined);
    assert.equal(requestTextProblem({ prompt: 'p'.repeat(20001), alt: 'a' }), 'The prompt is longer than 20000 characters (20001); shorten it.');
    assert.equal(requestTextProblem({ prompt: 'p'.repeat(20001), alt: 'a', templateApplied: true }), undefined, "a template's words may come on top");
    assert.equal(requestTextProblem({ prompt: 'p', alt: 'a', negativePrompt: 'n'.repeat(20001) }), 'The negative prompt is longer than 20000 characters (20001); shorten it.');
  });
});
