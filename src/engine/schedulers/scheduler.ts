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
  /**
   * diffusers' add_noise (img2img, inpainting): `original` noised with `noise` to the level of
   * `timestep`, in float32 as torch computes it. The sigma schedulers read the level at the begin
   * index (before the first step) or the current step index (after it) once setBeginIndex was
   * called, else at the timestep's index in the schedule.
   */
  addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array;
  /**
   * diffusers' set_begin_index, on the schedulers that have it (Euler, Euler a, LMS, DPM-Solver,
   * LCM; not DDIM or PNDM): the index of the first timestep the pipeline runs, when it starts
   * mid-schedule (img2img). setTimesteps clears it, as in diffusers.
   */
  setBeginIndex?(beginIndex: number): void;
}

/**
 * diffusers' `scheduler.order` (timesteps per denoising step): 1 for every scheduler here (PNDM,
 * DDIM, Euler, Euler a, LMS, DPM-Solver multistep and LCM all declare order = 1; only Heun-like
 * solvers have 2). The img2img timestep slice `timesteps[t_start * order:]` uses it.
 */
export const SCHEDULER_ORDER = 1;
