import * as assert from 'assert';
import * as path from 'path';
import { BATCH, GUIDANCE, SIZE, STEPS, STRENGTH } from '../../../src/core/limits';
import { generationInfotext, parseInfotext } from '../../../src/core/infotext';
import type { GenerateParams } from '../../../src/core/protocol';
import { validateGenerateParams } from '../../../src/core/protocol';
import { resolveJob } from '../../../src/engine/pipeline/jobParams';

const model = { size: 512, vaeScaleFactor: 8, schedulerConfig: { _class_name: 'PNDMScheduler' } };
const base: GenerateParams = { model: '/m', prompt: 'a plant cell', seed: 1, outDir: '/tmp' };

function refuses(extra: Partial<GenerateParams>, message: RegExp): void {
  assert.throws(() => resolveJob({ ...base, ...extra }, model), (err: Error & { kind?: string }) => {
    assert.strictEqual(err.kind, 'badInput');
    assert.match(err.message, message);
    return true;
  });
}

describe('engine job parameters (CLI and RPC)', () => {
  it('refuses values outside the shared limits, naming the range', () => {
    refuses({ steps: 1000 }, new RegExp(`^--steps must be a whole number of at least ${STEPS.min} and at most ${STEPS.max}, got 1000\\.$`));
    refuses({ steps: 0 }, /--steps.*at least 1/);
    refuses({ guidance: 1e308 }, new RegExp(`^--guidance must be 0 or more and at most ${GUIDANCE.max} .*got 1e\\+308\\.$`));
    refuses({ guidance: -2 }, /--guidance must be 0 or more/);
    refuses({ width: 4096 }, new RegExp(`^--width 4096 can't be used: it must be a multiple of 8 pixels between 8 and ${SIZE.max} .*try ${SIZE.max}\\.$`));
    refuses({ height: 4096 }, /--height 4096/);
    refuses({ batch: BATCH.max + 1 }, new RegExp(`^--batch must be from 1 to ${BATCH.max}, got ${BATCH.max + 1}\\.$`));
    // A whole prompt: what the user wrote (at most 20000) and a template's words around it.
    refuses({ prompt: 'x'.repeat(20501) }, /^--prompt is 20501 characters long; at most 20500 are allowed\. Shorten it\.$/);
    refuses({ negativePrompt: 'x'.repeat(20001) }, /^--negative-prompt is 20001 characters long/);
    refuses({ seed: Number.MAX_SAFE_INTEGER, batch: 2 }, /--seed must be a whole number from 0 to 9007199254740990/);
  });

  it('accepts the largest values of the limits', () => {
    const job = resolveJob({ ...base, steps: STEPS.max, guidance: GUIDANCE.max, width: SIZE.max, height: SIZE.max, batch: BATCH.max }, model);
    assert.deepStrictEqual([job.steps, job.guidance, job.width, job.height, job.seeds.length], [STEPS.max, GUIDANCE.max, SIZE.max, SIZE.max, BATCH.max]);
  });

  it('still makes small images for small models (one VAE block a side)', () => {
    const job = resolveJob({ ...base, width: 32, height: 48 }, { size: 32, vaeScaleFactor: 4 });
    assert.deepStrictEqual([job.width, job.height], [32, 48]);
  });

  it('the RPC validator refuses a batch outside the limits', () => {
    assert.throws(() => validateGenerateParams({ jobId: 'j', ...base, batch: 64 }), /"batch" must be a whole number from 1 to 16, got 64/);
  });

  it('cleans prompts, negative prompts and extra parameters before they reach the PNG', () => {
    const job = resolveJob(
      {
        ...base,
        prompt: 'a\u0000 heart\u001b\r\nNegative prompt: \u202egore',
        negativePrompt: 'blurry\n\u2066text\u2069',
        extraParameters: { Template: 'education\u0000-primary', 'Course / unit': 'Bio\u0085logy' },
      },
      model,
    );
    assert.strictEqual(job.prompt, 'a heart Negative prompt: gore');
    assert.strictEqual(job.negativePrompt, 'blurry text');
    assert.deepStrictEqual(job.extraParameters, { Template: 'education-primary', 'Course / unit': 'Bio logy' });
    // What the PNG says reads back as the same prompt and negative prompt.
    const back = parseInfotext(generationInfotext({
      prompt: job.prompt, negativePrompt: job.negativePrompt, steps: job.steps, sampler: 'PLMS', guidance: job.guidance,
      seed: job.seeds[0], width: job.width, height: job.height, version: '0.1.0', extra: job.extraParameters,
    }));
    assert.deepStrictEqual([back.prompt, back.negativePrompt, back.fields['Template']], [job.prompt, job.negativePrompt, 'education-primary']);
  });

  it('refuses extra parameter keys that would not read back as keys', () => {
    refuses({ extraParameters: { 'Steps: 1, Seed': 'x' } }, /^extraParameters key "Steps: 1, Seed" can't be used/);
    refuses({ extraParameters: { 'a\nb': 'x' } }, /extraParameters key "a b"/);
    refuses({ extraParameters: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])) }, /at most 32/);
  });

  it('img2img and inpainting: --init-image with the default strengths of diffusers (0.8, 1 with a mask), paths made absolute', () => {
    const img = resolveJob({ ...base, initImage: 'in.png' }, model);
    assert.deepStrictEqual(img.init, { image: path.resolve('in.png'), mask: undefined, strength: STRENGTH.default, width: undefined, height: undefined });
    assert.strictEqual(STRENGTH.default, 0.8);
    const inpaint = resolveJob({ ...base, initImage: '/a/in.png', mask: '/a/m.png', width: 64 }, model);
    assert.deepStrictEqual(inpaint.init, { image: '/a/in.png', mask: '/a/m.png', strength: 1, width: 64, height: undefined });
    assert.strictEqual(resolveJob({ ...base, initImage: '/a/in.png', strength: 0 + 0.35 }, model).init?.strength, 0.35);
    assert.strictEqual(resolveJob(base, model).init, undefined);
  });

  it('img2img: strength outside 0..1, a strength that leaves no step, and --mask or --strength without --init-image are refused', () => {
    refuses({ initImage: '/in.png', strength: 1.5 }, /^--strength must be a number from 0 to 1 \(how much of the init image is changed\), got 1\.5\.$/);
    refuses({ initImage: '/in.png', strength: -0.1 }, /--strength must be a number from 0 to 1/);
    refuses({ initImage: '/in.png', strength: Number.NaN }, /--strength must be a number from 0 to 1/);
    // diffusers runs int(steps * strength) steps: 20 * 0.04 = 0.8 -> none.
    refuses({ initImage: '/in.png', strength: 0.04, steps: 20 }, /^--strength 0\.04 with --steps 20 leaves no step to run .*use --strength 0\.05 or more, or more --steps\.$/);
    refuses({ initImage: '/in.png', strength: 0 }, /leaves no step to run/);
    refuses({ mask: '/m.png' }, /^--mask needs --init-image/);
    refuses({ strength: 0.5 }, /^--strength needs --init-image/);
    refuses({ initImage: '/in.png', mask: '' }, /--mask is empty/);
  });

  it('the RPC validator takes initImage, strength and mask', () => {
    const p = validateGenerateParams({ jobId: 'j', model: '/m', prompt: 'p', initImage: '/i.png', strength: 0.5, mask: '/m.png' });
    assert.deepStrictEqual([p.initImage, p.strength, p.mask], ['/i.png', 0.5, '/m.png']);
    assert.throws(() => validateGenerateParams({ jobId: 'j', model: '/m', prompt: 'p', strength: '0.5' }), /strength/);
    assert.throws(() => validateGenerateParams({ jobId: 'j', model: '/m', prompt: 'p', initImage: 3 }), /initImage/);
  });
});
