import * as assert from 'assert';
import { TorchGenerator } from '../../../src/engine/rng/torchGenerator';
import { DDIMScheduler } from '../../../src/engine/schedulers/ddim';
import type { SchedulerConfig } from '../../../src/engine/schedulers/scheduler';
import { absMean, absSum, dummyModel, dummySampleDeter } from './dummy';
import { SD15_CONFIG, assertClose, assertSumMean, runLoop } from './helpers';

// A port of diffusers' tests/schedulers/test_scheduler_ddim.py (golden numbers and tolerances
// from there); the eta > 0 and "sample" numbers come from diffusers' DDIM step run on torch 1.13
// with torch.Generator().manual_seed(0).

function testConfig(extra: SchedulerConfig = {}): SchedulerConfig {
  return { num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', clip_sample: true, ...extra };
}

function fullLoop(extra: SchedulerConfig = {}, eta = 0, generator?: TorchGenerator): Float32Array {
  const scheduler = new DDIMScheduler(testConfig(extra));
  scheduler.eta = eta;
  scheduler.setTimesteps(10);
  return runLoop(scheduler, { generator });
}

describe('DDIMScheduler (diffusers test_scheduler_ddim.py)', () => {
  it('full loop, no noise: sum 172.0067, mean 0.223967', () => {
    const sample = fullLoop();
    assertSumMean(sample, 172.0067, 0.223967);
  });

  it('full loop, v_prediction: sum 52.5302, mean 0.0684', () => {
    const sample = fullLoop({ prediction_type: 'v_prediction' });
    assertSumMean(sample, 52.5302, 0.0684);
  });

  it('full loop with set_alpha_to_one: sum 149.8295, mean 0.1951', () => {
    const sample = fullLoop({ set_alpha_to_one: true, beta_start: 0.01 });
    assertSumMean(sample, 149.8295, 0.1951);
  });

  it('full loop without set_alpha_to_one: sum 149.0784, mean 0.1941', () => {
    const sample = fullLoop({ set_alpha_to_one: false, beta_start: 0.01 });
    assertSumMean(sample, 149.0784, 0.1941);
  });

  it('full loop from a noised sample (add_noise, img2img): sum 354.5418, mean 0.4616', () => {
    const scheduler = new DDIMScheduler(testConfig());
    scheduler.setTimesteps(10);
    const sample = runLoop(scheduler, { from: 8 });
    assertSumMean(sample, 354.5418, 0.4616);
  });

  it('steps_offset 1, 5 steps: 801, 601, 401, 201, 1', () => {
    const scheduler = new DDIMScheduler(testConfig({ steps_offset: 1 }));
    scheduler.setTimesteps(5);
    assert.deepStrictEqual(scheduler.timesteps, [801, 601, 401, 201, 1]);
  });

  it('variance of eq. (16) at the diffusers test points', () => {
    const scheduler = new DDIMScheduler(testConfig());
    const cases: Array<[number, number, number]> = [
      [0, 0, 0],
      [420, 400, 0.14771],
      [980, 960, 0.3246],
      [487, 486, 0.00979],
      [999, 998, 0.02],
    ];
    for (const [t, prev, expected] of cases) assertClose(scheduler.variance(t, prev), expected, 1e-5, `variance(${t}, ${prev})`);
  });

  it('zero steps, or more steps than training timesteps, is an error', () => {
    const scheduler = new DDIMScheduler(testConfig());
    assert.throws(() => scheduler.setTimesteps(0), /whole number >= 1/);
    assert.throws(() => scheduler.setTimesteps(1001), /num_train_timesteps/);
  });

  it('"sample" prediction type follows diffusers (sum 459.76182 with steps_offset 1)', () => {
    const sample = fullLoop({ prediction_type: 'sample', set_alpha_to_one: false, steps_offset: 1 });
    assertSumMean(sample, 459.7618103027344, 0.598648190498352, 1e-3, 1e-6);
  });

  it('"trailing" and "linspace" timestep spacings', () => {
    const trailing = new DDIMScheduler(testConfig({ timestep_spacing: 'trailing' }));
    trailing.setTimesteps(10);
    assert.deepStrictEqual(trailing.timesteps, [999, 899, 799, 699, 599, 499, 399, 299, 199, 99]);
    const linspace = new DDIMScheduler(testConfig({ timestep_spacing: 'linspace' }));
    linspace.setTimesteps(7);
    assert.deepStrictEqual(linspace.timesteps, [999, 832, 666, 500, 333, 166, 0]);
  });

  it('rescale_betas_zero_snr with v_prediction steps without NaN', () => {
    const sample = fullLoop({ rescale_betas_zero_snr: true, prediction_type: 'v_prediction', timestep_spacing: 'trailing' });
    assert.ok(sample.every(Number.isFinite));
  });

  it('thresholding keeps the predicted x0 within sample_max_value', () => {
    const scheduler = new DDIMScheduler(testConfig({ thresholding: true, sample_max_value: 2 }));
    scheduler.setTimesteps(10);
    const sample = dummySampleDeter().map((v) => v * 8);
    const out = scheduler.step(dummyModel(sample, 901), 901, sample);
    assert.ok(out.predOriginalSample!.every((v) => Math.abs(v) <= 1));
  });
});

describe('DDIMScheduler eta > 0 (noise from the generator, as diffusers draws it)', () => {
  it('eta 0.5 and 1.0 match diffusers on torch with manual_seed(0)', () => {
    const half = fullLoop({}, 0.5, new TorchGenerator(0));
    assertClose(absSum(half), 238.72596740722656, 1e-3, 'sum, eta 0.5');
    assert.strictEqual(half[7], -1);
    const one = fullLoop({}, 1, new TorchGenerator(0));
    assertClose(absSum(one), 234.829833984375, 1e-3, 'sum, eta 1');
    assertClose(absMean(one), 0.3057680130004883, 1e-6, 'mean, eta 1');
    assert.strictEqual(one[7], Math.fround(-0.7111536860466003));
  });

  it('the same seed gives the same image, another seed another one', () => {
    const a = fullLoop({}, 1, new TorchGenerator(42));
    const b = fullLoop({}, 1, new TorchGenerator(42));
    const c = fullLoop({}, 1, new TorchGenerator(43));
    assert.deepStrictEqual(a, b);
    assert.notDeepStrictEqual(a, c);
  });

  it('eta > 0 without a generator is an error that says what to pass', () => {
    assert.throws(() => fullLoop({}, 0.5), /generator/);
  });
});

describe('DDIMScheduler with the Stable Diffusion v1.5 config (from_config of the PNDM config)', () => {
  it('keeps DDIM defaults for keys the PNDM config lacks and takes its own', () => {
    const scheduler = new DDIMScheduler(SD15_CONFIG);
    assert.strictEqual(scheduler.clipping.clipSample, false);
    assert.strictEqual(scheduler.timestepSpacing, 'leading');
    assert.strictEqual(scheduler.finalAlphaCumprod, scheduler.alphasCumprod[0]);
  });

  it('timesteps at 20, 25 and 50 steps', () => {
    const scheduler = new DDIMScheduler(SD15_CONFIG);
    const expectLeading = (n: number, first: number, stride: number): void => {
      scheduler.setTimesteps(n);
      assert.strictEqual(scheduler.timesteps.length, n);
      assert.deepStrictEqual(scheduler.timesteps, Array.from({ length: n }, (_, i) => first - i * stride));
      assert.strictEqual(scheduler.timesteps[n - 1], 1);
    };
    expectLeading(20, 951, 50);
    expectLeading(25, 961, 40);
    expectLeading(50, 981, 20);
  });

  it('rejects an unknown prediction type, naming the key and the valid values', () => {
    assert.throws(
      () => new DDIMScheduler({ ...SD15_CONFIG, prediction_type: 'flow' }),
      /DDIMScheduler.*prediction_type.*"epsilon", "sample", "v_prediction".*"flow"/,
    );
  });
});
