// Setup the scheduler tests share: Stable Diffusion v1.5's scheduler config, diffusers' full
// loop over the dummy model, and its golden sum / mean checks.
import * as assert from 'assert';
import type { TorchGenerator } from '../../../src/engine/rng/torchGenerator';
import type { Scheduler, SchedulerConfig } from '../../../src/engine/schedulers/scheduler';
import { absMean, absSum, dummyModel, dummyNoiseDeter, dummySampleDeter } from './dummy';

/** Stable Diffusion v1.5's scheduler/scheduler_config.json (a PNDM config, as the model ships it). */
export const SD15_CONFIG: SchedulerConfig = {
  _class_name: 'PNDMScheduler',
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  num_train_timesteps: 1000,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  trained_betas: null,
  clip_sample: false,
};

export interface LoopOptions {
  /** Passed to every step (the stochastic schedulers draw from it). */
  generator?: TorchGenerator;
  /** Start at this index of the timesteps, after add_noise(dummy_noise_deter) at that timestep (img2img). */
  from?: number;
}

type NoisingScheduler = Scheduler & { addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array };

/**
 * diffusers' full_loop over a scheduler that has had setTimesteps: dummy_sample_deter *
 * init_noise_sigma, then scale_model_input -> dummy model -> step at every timestep.
 */
export function runLoop(scheduler: NoisingScheduler, options: LoopOptions = {}): Float32Array {
  let sample: Float32Array = dummySampleDeter().map((v) => v * scheduler.initNoiseSigma);
  const timesteps = scheduler.timesteps.slice(options.from ?? 0);
  if (options.from !== undefined) sample = scheduler.addNoise(sample, dummyNoiseDeter(), timesteps[0]);
  for (const t of timesteps) {
    const input = scheduler.scaleModelInput(sample, t);
    sample = scheduler.step(dummyModel(input, t), t, input, options.generator).prevSample;
  }
  return sample;
}

/** diffusers' golden-number check: |actual - expected| < tolerance. */
export function assertClose(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < tolerance, `${what}: ${actual} is not within ${tolerance} of ${expected}`);
}

/** torch.sum(abs) and torch.mean(abs) of a result against diffusers' golden pair (its usual tolerances by default). */
export function assertSumMean(sample: Float32Array, sum: number, mean: number, sumTolerance = 1e-2, meanTolerance = 1e-3): void {
  assertClose(absSum(sample), sum, sumTolerance, 'sum');
  assertClose(absMean(sample), mean, meanTolerance, 'mean');
}
