import * as assert from 'assert';
import { TorchGenerator } from '../../../src/engine/rng/torchGenerator';
import { LCMScheduler } from '../../../src/engine/schedulers/lcm';
import type { SchedulerConfig } from '../../../src/engine/schedulers/scheduler';
import { dummyModel, dummySampleDeter } from './dummy';
import { SD15_CONFIG, assertClose, assertSumMean, runLoop } from './helpers';

// A port of diffusers' tests/schedulers/test_scheduler_lcm.py (golden numbers and tolerances from
// there; the multistep loop draws its noise from torch.manual_seed(0), here TorchGenerator(0)).

function testConfig(extra: SchedulerConfig = {}): SchedulerConfig {
  return {
    num_train_timesteps: 1000,
    beta_start: 0.00085,
    beta_end: 0.012,
    beta_schedule: 'scaled_linear',
    prediction_type: 'epsilon',
    ...extra,
  };
}

function fullLoop(steps: number, seed = 0, extra: SchedulerConfig = {}): Float32Array {
  const scheduler = new LCMScheduler(testConfig(extra));
  const generator = new TorchGenerator(seed);
  scheduler.setTimesteps(steps);
  return runLoop(scheduler, { generator });
}

describe('LCMScheduler (diffusers test_scheduler_lcm.py)', () => {
  it('one step (no noise): sum 18.7097, mean 0.0244', () => {
    const sample = fullLoop(1);
    assertSumMean(sample, 18.7097, 0.0244, 1e-3);
  });

  it('10 steps with noise from manual_seed(0): sum 197.7616, mean 0.2575', () => {
    const sample = fullLoop(10);
    assertSumMean(sample, 197.7616, 0.2575, 1e-3);
  });

  it('another seed gives other noise, the same seed the same result', () => {
    assert.deepStrictEqual(fullLoop(4, 7), fullLoop(4, 7));
    assert.notDeepStrictEqual(fullLoop(4, 7), fullLoop(4, 8));
  });

  it('picks evenly spaced timesteps from the 50-step distillation schedule', () => {
    const scheduler = new LCMScheduler(testConfig());
    const expected: Record<number, number[]> = {
      1: [999],
      2: [999, 499],
      4: [999, 759, 499, 259],
      8: [999, 879, 759, 639, 499, 379, 259, 139],
      10: [999, 899, 799, 699, 599, 499, 399, 299, 199, 99],
    };
    for (const [n, timesteps] of Object.entries(expected)) {
      scheduler.setTimesteps(Number(n));
      assert.deepStrictEqual(scheduler.timesteps, timesteps, `${n} steps`);
    }
    scheduler.setTimesteps(50);
    assert.strictEqual(scheduler.timesteps[49], 19);
  });

  it('original_inference_steps changes the schedule', () => {
    const scheduler = new LCMScheduler(testConfig({ original_inference_steps: 100 }));
    scheduler.setTimesteps(4);
    assert.deepStrictEqual(scheduler.timesteps, [999, 749, 499, 249]);
  });

  it('more steps than original_inference_steps is an error that names the limit', () => {
    const scheduler = new LCMScheduler(testConfig());
    assert.throws(() => scheduler.setTimesteps(51), /at most 50 steps/);
    assert.throws(() => scheduler.setTimesteps(0), /whole number >= 1/);
  });

  it('boundary condition scalings: c_skip -> 1 and c_out -> 0 as t -> 0', () => {
    const scheduler = new LCMScheduler(testConfig());
    const atZero = scheduler.boundaryScalings(0);
    assert.strictEqual(atZero.cSkip, 1);
    assert.strictEqual(atZero.cOut, 0);
    const at999 = scheduler.boundaryScalings(999);
    assertClose(at999.cSkip, 0.25 / (9990 ** 2 + 0.25), 1e-12, 'c_skip(999)');
    assertClose(at999.cOut, 9990 / Math.sqrt(9990 ** 2 + 0.25), 1e-7, 'c_out(999)');
  });

  it('draws noise on every step but the last, and returns the denoised x0 for previews', () => {
    const scheduler = new LCMScheduler(testConfig());
    scheduler.setTimesteps(4);
    const generator = new TorchGenerator(0);
    let sample = dummySampleDeter();
    const outputs = scheduler.timesteps.map((t) => {
      const out = scheduler.step(dummyModel(sample, t), t, sample, generator);
      sample = out.prevSample;
      return out;
    });
    for (const out of outputs.slice(0, 3)) assert.notDeepStrictEqual(out.prevSample, out.predOriginalSample);
    assert.deepStrictEqual(outputs[3].prevSample, outputs[3].predOriginalSample);
    // Three draws of 768 values: the generator has moved exactly that far.
    const fresh = new TorchGenerator(0);
    fresh.randn(768 * 3);
    assert.deepStrictEqual(generator.randn(4), fresh.randn(4));
  });

  it('a multistep step without a generator is an error; the last step needs none', () => {
    const scheduler = new LCMScheduler(testConfig());
    scheduler.setTimesteps(2);
    const sample = dummySampleDeter();
    assert.throws(() => scheduler.step(sample, 999, sample), /generator/);
    const last = new LCMScheduler(testConfig());
    last.setTimesteps(1);
    assert.doesNotThrow(() => last.step(dummyModel(sample, 999), 999, sample));
  });

  it('v_prediction and clip_sample run through a loop with finite values', () => {
    const sample = fullLoop(4, 0, { prediction_type: 'v_prediction', clip_sample: true });
    assert.ok(sample.every(Number.isFinite));
  });

  it('built from the Stable Diffusion v1.5 config it keeps its scaled_linear betas and takes set_alpha_to_one false', () => {
    const scheduler = new LCMScheduler(SD15_CONFIG);
    assert.strictEqual(scheduler.finalAlphaCumprod, scheduler.alphasCumprod[0]);
    assert.strictEqual(scheduler.alphasCumprod[0], new LCMScheduler({}).alphasCumprod[0]);
    scheduler.setTimesteps(4);
    assert.deepStrictEqual(scheduler.timesteps, [999, 759, 499, 259]);
  });

  it('rejects bad config values, naming the key', () => {
    assert.throws(() => new LCMScheduler({ original_inference_steps: 0 }), /original_inference_steps.*integer >= 1/);
    assert.throws(() => new LCMScheduler({ timestep_scaling: 'ten' }), /timestep_scaling.*number/);
    assert.throws(() => new LCMScheduler({ prediction_type: 'eps' }), /prediction_type.*"epsilon"/);
  });
});
