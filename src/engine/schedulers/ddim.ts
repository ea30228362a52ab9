// diffusers' DDIMScheduler (Song et al. 2020, arXiv 2010.02502), eq. (12) and (16), in float32
// as torch computes it.

import type { TorchGenerator } from '../rng/torchGenerator';
import type { Scheduler, SchedulerConfig, SchedulerStepOutput } from './scheduler';
import {
  addNoiseF32,
  alphaTablesFromConfig,
  axpbyF32,
  clampInPlace,
  configBool,
  configChoice,
  configInt,
  configNumber,
  spacedTimesteps,
  subScaledDivF32,
  thresholdInPlace,
  TIMESTEP_SPACINGS,
  type TimestepSpacing,
} from './betas';

const f32 = Math.fround;
const NAME = 'DDIMScheduler';

export const PREDICTION_TYPES = ['epsilon', 'sample', 'v_prediction'] as const;
export type PredictionType = (typeof PREDICTION_TYPES)[number];

export class DDIMScheduler implements Scheduler {
  readonly initNoiseSigma = 1;
  readonly order = 1;
  timesteps: number[];
  /**
   * DDIM's eta (the `eta` pipeline argument): 0 is deterministic DDIM, 1 is DDPM-like. With
   * eta > 0, step() draws noise from the generator after computing x_{t-1}, as diffusers does.
   */
  eta = 0;
  /** diffusers' use_clipped_model_output step argument. */
  useClippedModelOutput = false;

  readonly numTrainTimesteps: number;
  readonly alphasCumprod: Float64Array;
  readonly finalAlphaCumprod: number;
  readonly predictionType: PredictionType;
  readonly timestepSpacing: TimestepSpacing;
  readonly stepsOffset: number;
  readonly clipSample: boolean;
  readonly clipSampleRange: number;
  readonly thresholding: boolean;
  readonly dynamicThresholdingRatio: number;
  readonly sampleMaxValue: number;
  numInferenceSteps: number | undefined;

  constructor(config: SchedulerConfig) {
    const tables = alphaTablesFromConfig(config, NAME, undefined, true);
    this.numTrainTimesteps = tables.numTrainTimesteps;
    this.alphasCumprod = tables.alphasCumprod;
    // For the last step there is no previous alpha: 1, or alphas_cumprod[0] as SD v1.5 configures it.
    this.finalAlphaCumprod = configBool(config, 'set_alpha_to_one', true, NAME) ? 1 : this.alphasCumprod[0];
    this.predictionType = configChoice(config, 'prediction_type', PREDICTION_TYPES, 'epsilon', NAME);
    this.timestepSpacing = configChoice(config, 'timestep_spacing', TIMESTEP_SPACINGS, 'leading', NAME);
    this.stepsOffset = configInt(config, 'steps_offset', 0, NAME);
    this.clipSample = configBool(config, 'clip_sample', true, NAME);
    this.clipSampleRange = configNumber(config, 'clip_sample_range', 1, NAME);
    this.thresholding = configBool(config, 'thresholding', false, NAME);
    this.dynamicThresholdingRatio = configNumber(config, 'dynamic_thresholding_ratio', 0.995, NAME);
    this.sampleMaxValue = configNumber(config, 'sample_max_value', 1, NAME);
    this.timesteps = Array.from({ length: this.numTrainTimesteps }, (_, i) => this.numTrainTimesteps - 1 - i);
  }

  setTimesteps(numInferenceSteps: number): void {
    if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1) {
      throw new Error(`${NAME}.setTimesteps: the number of steps must be a whole number >= 1 (got ${numInferenceSteps}).`);
    }
    if (numInferenceSteps > this.numTrainTimesteps) {
      throw new Error(
        `${NAME}.setTimesteps: ${numInferenceSteps} steps is more than the ${this.numTrainTimesteps} ` +
          'timesteps the model was trained with (num_train_timesteps).',
      );
    }
    this.numInferenceSteps = numInferenceSteps;
    this.timesteps = spacedTimesteps({
      spacing: this.timestepSpacing,
      numTrainTimesteps: this.numTrainTimesteps,
      numInferenceSteps,
      stepsOffset: this.stepsOffset,
      roundLinspace: true,
    });
  }

  scaleModelInput(sample: Float32Array, _timestep?: number): Float32Array {
    return sample;
  }

  /** alphas_cumprod at t, or the final value for t < 0 (past the end of the chain). */
  private alphaProd(t: number): number {
    if (t < 0) return this.finalAlphaCumprod;
    const a = this.alphasCumprod[t];
    if (a === undefined || !Number.isInteger(t)) {
      throw new Error(`${NAME}: timestep ${t} is not an integer in [0, ${this.numTrainTimesteps - 1}].`);
    }
    return a;
  }

  /** sigma_t^2 of eq. (16) with eta = 1, in float32. */
  variance(timestep: number, prevTimestep: number): number {
    const alphaProdT = this.alphaProd(timestep);
    const alphaProdPrev = this.alphaProd(prevTimestep);
    const betaProdT = f32(1 - alphaProdT);
    const betaProdPrev = f32(1 - alphaProdPrev);
    return f32(f32(betaProdPrev / betaProdT) * f32(1 - f32(alphaProdT / alphaProdPrev)));
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, generator?: TorchGenerator): SchedulerStepOutput {
    if (this.numInferenceSteps === undefined) {
      throw new Error(`${NAME}.step: call setTimesteps(numInferenceSteps) before step().`);
    }
    if (modelOutput.length !== sample.length) {
      throw new Error(`${NAME}.step: model output has ${modelOutput.length} values but the sample has ${sample.length}.`);
    }
    const prevTimestep = timestep - Math.floor(this.numTrainTimesteps / this.numInferenceSteps);
    const alphaProdT = this.alphaProd(timestep);
    const alphaProdPrev = this.alphaProd(prevTimestep);
    const betaProdT = f32(1 - alphaProdT);
    const sqrtAlpha = f32(Math.sqrt(alphaProdT));
    const sqrtBeta = f32(Math.sqrt(betaProdT));

    let predOriginal: Float32Array;
    let predEpsilon: Float32Array;
    if (this.predictionType === 'epsilon') {
      predOriginal = subScaledDivF32(sample, sqrtBeta, modelOutput, sqrtAlpha);
      predEpsilon = modelOutput;
    } else if (this.predictionType === 'sample') {
      predOriginal = Float32Array.from(modelOutput);
      predEpsilon = subScaledDivF32(sample, sqrtAlpha, predOriginal, sqrtBeta);
    } else {
      predOriginal = axpbyF32(sqrtAlpha, sample, -sqrtBeta, modelOutput);
      predEpsilon = axpbyF32(sqrtAlpha, modelOutput, sqrtBeta, sample);
    }

    if (this.thresholding) thresholdInPlace(predOriginal, this.dynamicThresholdingRatio, this.sampleMaxValue);
    else if (this.clipSample) clampInPlace(predOriginal, this.clipSampleRange);

    const stdDev = f32(f32(this.eta) * f32(Math.sqrt(this.variance(timestep, prevTimestep))));
    if (this.useClippedModelOutput) predEpsilon = subScaledDivF32(sample, sqrtAlpha, predOriginal, sqrtBeta);

    // x_{t-1} = sqrt(a_prev) * x0 + sqrt(1 - a_prev - sigma^2) * eps (+ sigma * z)
    const directionCoeff = f32(Math.sqrt(f32(f32(1 - alphaProdPrev) - f32(stdDev * stdDev))));
    const prevSample = axpbyF32(f32(Math.sqrt(alphaProdPrev)), predOriginal, directionCoeff, predEpsilon);

    if (this.eta > 0) {
      if (!generator) {
        throw new Error(`${NAME}.step: eta > 0 needs the generator that drew the initial noise.`);
      }
      const noise = generator.randn(modelOutput.length);
      for (let i = 0; i < prevSample.length; i++) prevSample[i] = prevSample[i] + f32(stdDev * noise[i]);
    }
    return { prevSample, predOriginalSample: predOriginal };
  }

  /** diffusers' add_noise (img2img): the noised sample at an integer training timestep. */
  addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array {
    return addNoiseF32(this.alphasCumprod, original, noise, timestep);
  }
}
