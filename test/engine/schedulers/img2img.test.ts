// img2img and inpainting on every scheduler, as diffusers 0.30 runs them: the strength -> timesteps
// slice of get_timesteps, set_begin_index where the scheduler has it (Euler, Euler a, LMS,
// DPM-Solver, LCM; not DDIM or PNDM), and add_noise before the first step (the begin index) and
// after a step (the step index, inpainting's re-noised original), in float32 as torch.
import * as assert from 'assert';
import { SCHEDULER_NAMES, type SchedulerName } from '../../../src/core/schedulerNames';
import { TorchGenerator } from '../../../src/engine/rng/torchGenerator';
import { DPMSolverMultistepScheduler } from '../../../src/engine/schedulers/dpmSolverMultistep';
import { EulerDiscreteScheduler } from '../../../src/engine/schedulers/euler';
import { EulerAncestralDiscreteScheduler } from '../../../src/engine/schedulers/eulerAncestral';
import { createScheduler } from '../../../src/engine/schedulers/index';
import { LCMScheduler } from '../../../src/engine/schedulers/lcm';
import { LMSDiscreteScheduler } from '../../../src/engine/schedulers/lms';
import type { Scheduler } from '../../../src/engine/schedulers/scheduler';
import { timestepsForStrength } from '../../../src/engine/pipeline/imageToImage';
import { dummyModel, dummyNoiseDeter, dummySampleDeter } from './dummy';
import { SD15_CONFIG, assertSumMean } from './helpers';

const f32 = Math.fround;

/** diffusers' get_timesteps, written out as the pipeline has it (order 1 for all of ours). */
function diffusersTimesteps(all: number[], steps: number, strength: number): { timesteps: number[]; tStart: number } {
  const initTimestep = Math.min(Math.trunc(steps * strength), steps);
  const tStart = Math.max(steps - initTimestep, 0);
  return { timesteps: all.slice(tStart), tStart };
}

const HAS_BEGIN_INDEX: Record<SchedulerName, boolean> = {
  pndm: false, ddim: false, euler: true, 'euler-a': true, lms: true, 'dpmpp-2m': true, 'dpmpp-2m-karras': true, lcm: true,
};

describe('img2img timesteps (get_timesteps) on every scheduler', () => {
  for (const name of SCHEDULER_NAMES) {
    it(`"${name}": timesteps[t_start:] for every steps x strength, the begin index set where diffusers has set_begin_index`, () => {
      for (const steps of [1, 2, 4, 7, 10, 20, 25]) {
        for (const strength of [0.05, 0.1, 0.25, 0.29, 0.3, 0.5, 0.6, 0.7, 0.75, 0.8, 0.99, 1]) {
          if (Math.trunc(steps * strength) < 1) continue;
          if (name === 'lcm' && steps > 50) continue;
          const s = createScheduler(name, SD15_CONFIG);
          s.setTimesteps(steps);
          const full = [...s.timesteps];
          const expected = diffusersTimesteps(full, steps, strength);
          const got = timestepsForStrength(s, steps, strength);
          const what = `${name} ${steps} steps strength ${strength}`;
          assert.deepStrictEqual(got.timesteps, expected.timesteps, what);
          assert.strictEqual(got.tStart, expected.tStart, what);
          assert.strictEqual(got.steps, steps - expected.tStart, what);
          assert.strictEqual(typeof s.setBeginIndex === 'function', HAS_BEGIN_INDEX[name], `${name} set_begin_index`);
        }
      }
    });
  }

  it('SD v1.5 schedules (leading, steps_offset 1): DDIM starts at 701 and PNDM at 751 for 20 steps at 0.75', () => {
    const ddim = createScheduler('ddim', SD15_CONFIG);
    ddim.setTimesteps(20);
    // t_start = 20 - int(20 * 0.75) = 5: timesteps[5:] of 951, 901, ..., 1.
    assert.deepStrictEqual(timestepsForStrength(ddim, 20, 0.75).timesteps, Array.from({ length: 15 }, (_, i) => 701 - 50 * i));
    // PLMS repeats its second timestep (951, 901, 901, 851, ...), and the slice is by index, not by step.
    const pndm = createScheduler('pndm', SD15_CONFIG);
    pndm.setTimesteps(20);
    assert.deepStrictEqual(timestepsForStrength(pndm, 20, 0.75).timesteps, Array.from({ length: 16 }, (_, i) => 751 - 50 * i));
  });

  it('linspace schedules: Euler 10 steps at 0.5, DPM++ 2M 10 steps at 0.3 (10 * 0.3 = 3.0000000000000004 -> 3) and 0.29', () => {
    const euler = createScheduler('euler', SD15_CONFIG);
    euler.setTimesteps(10);
    assert.deepStrictEqual(timestepsForStrength(euler, 10, 0.5).timesteps, [444, 333, 222, 111, 0]);
    const dpm = createScheduler('dpmpp-2m', SD15_CONFIG);
    dpm.setTimesteps(10);
    assert.deepStrictEqual(dpm.timesteps, [999, 899, 799, 699, 599, 500, 400, 300, 200, 100]);
    assert.deepStrictEqual(timestepsForStrength(dpm, 10, 0.3).timesteps, [300, 200, 100]);
    dpm.setTimesteps(10);
    assert.deepStrictEqual(timestepsForStrength(dpm, 10, 0.29).timesteps, [200, 100]);
  });

  it('LCM: the tail of its few timesteps (999, 759, 499, 259 for 4 steps)', () => {
    const lcm = createScheduler('lcm', SD15_CONFIG);
    lcm.setTimesteps(4);
    assert.deepStrictEqual(lcm.timesteps, [999, 759, 499, 259]);
    assert.deepStrictEqual(timestepsForStrength(lcm, 4, 0.5).timesteps, [499, 259]);
  });

  it('a strength that leaves no step is an error', () => {
    const s = createScheduler('euler', SD15_CONFIG);
    s.setTimesteps(10);
    assert.throws(() => timestepsForStrength(s, 10, 0.05), /leaves no timestep/);
  });
});

describe('set_begin_index and add_noise (sigma schedulers, DPM-Solver)', () => {
  const sigmaClasses = [
    ['Euler', (c: Record<string, unknown>) => new EulerDiscreteScheduler(c)],
    ['Euler a', (c: Record<string, unknown>) => new EulerAncestralDiscreteScheduler(c)],
    ['LMS', (c: Record<string, unknown>) => new LMSDiscreteScheduler(c)],
  ] as const;

  for (const [label, make] of sigmaClasses) {
    it(`${label}: scale_model_input uses the begin index, whatever timestep it gets; setTimesteps clears it`, () => {
      const s = make(SD15_CONFIG);
      s.setTimesteps(10);
      s.setBeginIndex(4);
      const x = dummySampleDeter();
      const scaled = s.scaleModelInput(x, s.timesteps[0]);
      const sigma = s.sigmas[4];
      const denom = f32(Math.sqrt(f32(f32(sigma * sigma) + 1)));
      assert.deepStrictEqual(scaled, Float32Array.from(x, (v) => v / denom));
      s.setTimesteps(10);
      const again = s.scaleModelInput(x, s.timesteps[0]);
      const sigma0 = s.sigmas[0];
      const denom0 = f32(Math.sqrt(f32(f32(sigma0 * sigma0) + 1)));
      assert.deepStrictEqual(again, Float32Array.from(x, (v) => v / denom0));
    });

    it(`${label}: add_noise is original + noise * sigma in float32, at the begin index, then at the step index`, () => {
      const s = make(SD15_CONFIG);
      s.setTimesteps(10);
      const x = dummySampleDeter();
      const noise = dummyNoiseDeter();
      const expect = (i: number) => Float32Array.from(x, (v, k) => v + f32(noise[k] * s.sigmas[i]));
      // No begin index: the timestep's place in the schedule.
      assert.deepStrictEqual(s.addNoise(x, noise, s.timesteps[6]), expect(6));
      s.setBeginIndex(3);
      // Before the first step (img2img's initial latents): the begin index, whatever timestep is passed.
      assert.deepStrictEqual(s.addNoise(x, noise, s.timesteps[6]), expect(3));
      const t = s.timesteps[3];
      const input = s.scaleModelInput(x, t);
      s.step(dummyModel(input, t), t, x, new TorchGenerator(0));
      // After it (inpainting's blend with timesteps[i + 1]): the step index, now 4.
      assert.deepStrictEqual(s.addNoise(x, noise, s.timesteps[4]), expect(4));
    });
  }

  it('DPM-Solver: add_noise is alpha_t * x + sigma_t * noise, each op in float32, with the same index rules', () => {
    const s = new DPMSolverMultistepScheduler(SD15_CONFIG);
    s.setTimesteps(10);
    const x = dummySampleDeter();
    const noise = dummyNoiseDeter();
    const expect = (i: number) => {
      const sigma = s.sigmas[i];
      const alphaT = f32(1 / f32(Math.sqrt(f32(f32(sigma * sigma) + 1))));
      const sigmaT = f32(sigma * alphaT);
      return Float32Array.from(x, (v, k) => f32(alphaT * v) + f32(sigmaT * noise[k]));
    };
    assert.deepStrictEqual(s.addNoise(x, noise, s.timesteps[5]), expect(5));
    s.setBeginIndex(2);
    assert.deepStrictEqual(s.addNoise(x, noise, s.timesteps[5]), expect(2));
    s.step(dummyModel(x, s.timesteps[0]), s.timesteps[0], x);
    assert.deepStrictEqual(s.addNoise(x, noise, s.timesteps[3]), expect(3));
  });

  it('DDIM, PNDM and LCM add_noise: sqrt(alpha_cumprod) * x + sqrt(1 - alpha_cumprod) * noise at the timestep (DDPM\'s)', () => {
    for (const name of ['ddim', 'pndm', 'lcm'] as const) {
      const s = createScheduler(name, SD15_CONFIG) as Scheduler & { alphasCumprod: Float64Array };
      s.setTimesteps(10);
      const t = s.timesteps[2];
      const a = s.alphasCumprod[t];
      const ca = f32(Math.sqrt(a));
      const cb = f32(Math.sqrt(f32(1 - a)));
      const x = dummySampleDeter();
      const noise = dummyNoiseDeter();
      assert.deepStrictEqual(s.addNoise(x, noise, t), Float32Array.from(x, (v, k) => f32(ca * v) + f32(cb * noise[k])), name);
    }
  });

  it('add_noise refuses noise of another size', () => {
    for (const name of SCHEDULER_NAMES) {
      const s = createScheduler(name, SD15_CONFIG);
      s.setTimesteps(4);
      assert.throws(() => s.addNoise(new Float32Array(4), new Float32Array(3), s.timesteps[0]), /noise has 3 values/, name);
    }
  });
});

describe('diffusers\' full loops with noise, with set_begin_index(t_start) as the img2img pipeline calls it', () => {
  const TEST = { num_train_timesteps: 1100, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear' };

  /** test_full_loop_with_noise: add_noise(dummy_sample_deter * init_noise_sigma) at timesteps[t_start], then the loop. */
  function loop(s: Scheduler, tStart: number, generator?: TorchGenerator, scale = true): Float32Array {
    s.setBeginIndex?.(tStart);
    const timesteps = s.timesteps.slice(tStart);
    let sample: Float32Array = dummySampleDeter().map((v) => v * (scale ? s.initNoiseSigma : 1));
    sample = s.addNoise(sample, dummyNoiseDeter(), timesteps[0]);
    for (const t of timesteps) {
      const input = s.scaleModelInput(sample, t);
      sample = s.step(dummyModel(input, t), t, input, generator).prevSample;
    }
    return sample;
  }

  it('Euler: sum 57062.9297, mean 74.3007', () => {
    const s = new EulerDiscreteScheduler(TEST);
    s.setTimesteps(10);
    assertSumMean(loop(s, 8, new TorchGenerator(0)), 57062.9297, 74.3007);
  });

  it('Euler a: sum 56163.0508, mean 73.129', () => {
    const s = new EulerAncestralDiscreteScheduler(TEST);
    s.setTimesteps(10);
    assertSumMean(loop(s, 8, new TorchGenerator(0)), 56163.0508, 73.129);
  });

  it('LMS: sum 27663.6895, mean 36.0204', () => {
    const s = new LMSDiscreteScheduler(TEST);
    s.setTimesteps(10);
    assertSumMean(loop(s, 8), 27663.6895, 36.0204);
  });

  it('DPM-Solver++ (starting at step 5): sum 318.4111, mean 0.4146', () => {
    const s = new DPMSolverMultistepScheduler({
      num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', solver_order: 2,
      algorithm_type: 'dpmsolver++', solver_type: 'midpoint', lower_order_final: false, final_sigmas_type: 'sigma_min',
    });
    s.setTimesteps(10);
    s.setBeginIndex(5);
    const timesteps = s.timesteps.slice(5);
    let sample: Float32Array = s.addNoise(dummySampleDeter(), dummyNoiseDeter(), timesteps[0]);
    for (const t of timesteps) sample = s.step(dummyModel(sample, t), t, sample).prevSample;
    assertSumMean(sample, 318.4111, 0.4146);
  });

  it('LCM: the step index starts at the begin index, so only the last step of the whole schedule draws no noise', () => {
    const s = new LCMScheduler(SD15_CONFIG);
    s.setTimesteps(4);
    s.setBeginIndex(2);
    const generator = new TorchGenerator(3);
    const x = dummySampleDeter();
    // Step at index 2 draws, the one at index 3 (the schedule's last) does not.
    let sample = x;
    for (const t of s.timesteps.slice(2)) sample = s.step(dummyModel(sample, t), t, sample, generator).prevSample;
    const reference = new TorchGenerator(3);
    reference.randn(x.length);
    assert.deepStrictEqual(generator.randn(4), reference.randn(4));
  });
});
