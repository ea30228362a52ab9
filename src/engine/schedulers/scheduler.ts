// The contract every scheduler file implements, after diffusers' SchedulerMixin:
// the model's scheduler_config.json is the constructor's argument, then
// setTimesteps -> (scaleModelInput -> UNet -> step) for each timestep.

import type { TorchGenerator } from '../rng/torchGenerator';

/** scheduler_config.json as diffusers writes it (snake_case keys, all optional). */
export type SchedulerConfig = Record<string, unknown>;

export interface SchedulerStepOutput {
  prevSample: Float32Array;
  /** The model's estimate of the clean latents (x0), when the scheduler computes it; used for previews. */
  predOriginalSample?: Float32Array;
}

export interface Scheduler {
  /** Standard deviation of the initial noise: latents = randn * initNoiseSigma. */
  readonly initNoiseSigma: number;
  /** The values passed to the UNet, in order (may be fractional for sigma-based schedulers). */
  readonly timesteps: number[];
  setTimesteps(numInferenceSteps: number): void;
  /** Returns a new array (or the same one when scaling is the identity). */
  scaleModelInput(sample: Float32Array, timestep: number): Float32Array;
  /**
   * One denoising step. `generator` is the same torch-compatible stream that drew the initial
   * noise; ancestral and LCM steps continue drawing from it, as diffusers does.
   */
  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, generator?: TorchGenerator): SchedulerStepOutput;
}
