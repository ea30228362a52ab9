// What diffusers' Euler, Euler ancestral and LMS schedulers share word for word ("Copied from"
// in diffusers): the sigmas / timesteps arrays, the step index found from the first timestep,
// the input scaling, add_noise and init_noise_sigma. Each subclass keeps its schedule and step.

import { descendingTimesteps, spacedTimesteps, type TimestepSpacing } from './betas';
import { checkNoise, checkSameLength, checkStepsLeft, indexForTimestep, initNoiseSigmaFor, scaleBySigma } from './sigmas';

/** Subclasses add setTimesteps and step, completing the Scheduler interface. */
export abstract class SigmaScheduler {
  abstract readonly numTrainTimesteps: number;
  abstract readonly timestepSpacing: TimestepSpacing;
  abstract readonly stepsOffset: number;
  timesteps: number[] = [];
  /** One more entry than timesteps: the sigma after the last step. */
  sigmas: Float32Array = new Float32Array(0);
  protected stepIndex: number | null = null;
  /** diffusers' _begin_index: set by the pipeline (img2img), cleared by setTimesteps. */
  protected beginIndex: number | null = null;

  protected constructor(protected readonly className: string) {}

  get initNoiseSigma(): number {
    return initNoiseSigmaFor(this.sigmas, this.timestepSpacing);
  }

  scaleModelInput(sample: Float32Array, timestep: number): Float32Array {
    return scaleBySigma(sample, this.sigmas[this.currentIndex(timestep)]);
  }

  /** diffusers' set_begin_index: the first step's index, whatever timestep it is given. */
  setBeginIndex(beginIndex: number): void {
    if (!Number.isInteger(beginIndex) || beginIndex < 0 || beginIndex >= this.timesteps.length) {
      throw new Error(`${this.className}.setBeginIndex: ${beginIndex} is not an index of the ${this.timesteps.length} timesteps.`);
    }
    this.beginIndex = beginIndex;
  }

  /**
   * Noises clean samples to a sigma (img2img / inpainting), as diffusers' add_noise: without a
   * begin index at `timestep`'s place in the schedule; with one, at the begin index before the
   * first step (img2img's initial latents) and at the current step index after it (inpainting's
   * re-noised original). `original + noise * sigma`, two float32 ops.
   */
  addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array {
    checkNoise(this.className, original, noise);
    const index = this.beginIndex === null ? indexForTimestep(this.timesteps, timestep, this.className) : (this.stepIndex ?? this.beginIndex);
    const sigma = this.sigmas[index];
    const out = new Float32Array(original.length);
    for (let k = 0; k < out.length; k++) out[k] = original[k] + Math.fround(noise[k] * sigma);
    return out;
  }

  /** The inference timesteps of the configured spacing, float32 (fractional for "linspace"). */
  protected spacedTimesteps(numInferenceSteps: number): number[] {
    return spacedTimesteps({
      spacing: this.timestepSpacing,
      numTrainTimesteps: this.numTrainTimesteps,
      numInferenceSteps,
      stepsOffset: this.stepsOffset,
      roundLinspace: false,
    }).map(Math.fround);
  }

  /** Before setTimesteps: every training timestep, largest first, as diffusers' constructor leaves it. */
  protected useTrainingSchedule(trainSigmas: Float64Array): void {
    const n = this.numTrainTimesteps;
    this.sigmas = new Float32Array(n + 1);
    for (let i = 0; i < n; i++) this.sigmas[i] = trainSigmas[n - 1 - i];
    this.timesteps = descendingTimesteps(n);
  }

  /** The index of this step (found from the first timestep, then counted); checks the inputs. */
  protected beginStep(modelOutput: Float32Array, timestep: number, sample: Float32Array): number {
    checkSameLength(this.className, modelOutput, sample);
    const i = this.currentIndex(timestep);
    checkStepsLeft(this.className, i, this.sigmas);
    return i;
  }

  /** diffusers' _init_step_index: the begin index when set, else where the timestep is. */
  private currentIndex(timestep: number): number {
    if (this.stepIndex === null) this.stepIndex = this.beginIndex ?? indexForTimestep(this.timesteps, timestep, this.className);
    return this.stepIndex;
  }
}
