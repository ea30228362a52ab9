// What diffusers' DDIM, LCM and PNDM schedulers share: the alphas_cumprod table with its
// final value (set_alpha_to_one), alpha lookup at integer timesteps, the identity input scaling,
// add_noise and the argument checks. Each subclass keeps its own schedule and step.

import { addNoiseF32, type AlphaTables } from './betas';

/** Subclasses add setTimesteps and step, completing the Scheduler interface. */
export abstract class AlphaScheduler {
  readonly initNoiseSigma = 1;
  readonly order = 1;
  timesteps: number[] = [];
  readonly numTrainTimesteps: number;
  readonly alphasCumprod: Float64Array;
  /** The "previous" alpha of the last step: 1 (set_alpha_to_one), or alphas_cumprod[0] as SD v1.5 configures it. */
  readonly finalAlphaCumprod: number;
  numInferenceSteps: number | undefined;

  protected constructor(
    protected readonly className: string,
    tables: AlphaTables,
    setAlphaToOne: boolean,
  ) {
    this.numTrainTimesteps = tables.numTrainTimesteps;
    this.alphasCumprod = tables.alphasCumprod;
    this.finalAlphaCumprod = setAlphaToOne ? 1 : this.alphasCumprod[0];
  }

  scaleModelInput(sample: Float32Array, _timestep?: number): Float32Array {
    return sample;
  }

  /** diffusers' add_noise (img2img): the noised sample at an integer training timestep. */
  addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array {
    return addNoiseF32(this.alphasCumprod, original, noise, timestep);
  }

  /** alphas_cumprod at t, or the final value for t < 0 (past the end of the chain). */
  protected alphaProd(t: number): number {
    if (t < 0) return this.finalAlphaCumprod;
    const a = this.alphasCumprod[t];
    if (a === undefined || !Number.isInteger(t)) {
      throw new Error(`${this.className}: timestep ${t} is not an integer in [0, ${this.numTrainTimesteps - 1}].`);
    }
    return a;
  }

  protected checkStepCount(numInferenceSteps: number): void {
    if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1) {
      throw new Error(
        `${this.className}.setTimesteps: the number of steps must be a whole number >= 1 (got ${numInferenceSteps}).`,
      );
    }
  }

  protected requireTimesteps(): number {
    if (this.numInferenceSteps === undefined) {
      throw new Error(`${this.className}.step: call setTimesteps(numInferenceSteps) before step().`);
    }
    return this.numInferenceSteps;
  }

  protected checkSameLength(modelOutput: Float32Array, sample: Float32Array): void {
    if (modelOutput.length !== sample.length) {
      throw new Error(
        `${this.className}.step: model output has ${modelOutput.length} values but the sample has ${sample.length}.`,
      );
    }
  }
}
