// diffusers' DDIMScheduler (Song et al. 2020, arXiv 2010.02502), eq. (12) and (16), in float32
// as torch computes it.

import type { TorchGenerator } from '../rng/torchGenerator';
import type { Scheduler, SchedulerConfig, SchedulerStepOutput } from './scheduler';
import { AlphaScheduler } from './alphaScheduler';
import {
  alphaTablesFromConfig,
  axpbyF32,
  clipPredictedSample,
  configBool,
  configChoice,
  configInt,
  descendingTimesteps,
  predictOriginalF32,
  readSampleClipping,
  spacedTimesteps,
  subScaledDivF32,
  TIMESTEP_SPACINGS,
  type SampleClipping,
  type TimestepSpacing,
} from './betas';

const f32 = Math.fround;
const NAME = 'DDIMScheduler';

export const PREDICTION_TYPES = ['epsilon', 'sample', 'v_prediction'] as const;
export type PredictionType = (typeof PREDICTION_TYPES)[number];

export class DDIMScheduler extends AlphaScheduler implements Scheduler {
  /**
   * DDIM's eta (the `eta` pipeline argument): 0 is deterministic DDIM, 1 is DDPM-like. With
   * eta > 0, step() draws noise from the generator after computing x_{t-1}, as diffusers does.
   */
  eta = 0;
  /** diffusers' use_clipped_model_output step argument. */
  useClippedModelOutput = false;

  readonly predictionType: PredictionType;
  readonly timestepSpacing: TimestepSpacing;
  readonly stepsOffset: number;
  readonly clipping: SampleClipping;

  constructor(config: SchedulerConfig) {
    super(NAME, alphaTablesFromConfig(config, NAME, undefined, true), configBool(config, 'set_alpha_to_one', true, NAME));
    this.predictionType = configChoice(config, 'prediction_type', PREDICTION_TYPES, 'epsilon', NAME);
    this.timestepSpacing = configChoice(config, 'timestep_spacing', TIMESTEP_SPACINGS, 'leading', NAME);
    this.stepsOffset = configInt(config, 'steps_offset', 0, NAME);
    this.clipping = readSampleClipping(config, NAME, true);
    this.timesteps = descendingTimesteps(this.numTrainTimesteps);
  }

  setTimesteps(numInferenceSteps: number): void {
    this.checkStepCount(numInferenceSteps);
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

  /** sigma_t^2 of eq. (16) with eta = 1, in float32. */
  variance(timestep: number, prevTimestep: number): number {
    const alphaProdT = this.alphaProd(timestep);
    const alphaProdPrev = this.alphaProd(prevTimestep);
    const betaProdT = f32(1 - alphaProdT);
    const betaProdPrev = f32(1 - alphaProdPrev);
    return f32(f32(betaProdPrev / betaProdT) * f32(1 - f32(alphaProdT / alphaProdPrev)));
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, generator?: TorchGenerator): SchedulerStepOutput {
    const numInferenceSteps = this.requireTimesteps();
    this.checkSameLength(modelOutput, sample);
    const prevTimestep = timestep - Math.floor(this.numTrainTimesteps / numInferenceSteps);
    const alphaProdT = this.alphaProd(timestep);
    const alphaProdPrev = this.alphaProd(prevTimestep);
    const betaProdT = f32(1 - alphaProdT);
    const sqrtAlpha = f32(Math.sqrt(alphaProdT));
    const sqrtBeta = f32(Math.sqrt(betaProdT));

    const predOriginal = predictOriginalF32(this.predictionType, modelOutput, sample, sqrtAlpha, sqrtBeta);
    let predEpsilon: Float32Array;
    if (this.predictionType === 'epsilon') predEpsilon = modelOutput;
    else if (this.predictionType === 'sample') predEpsilon = subScaledDivF32(sample, sqrtAlpha, predOriginal, sqrtBeta);
    else predEpsilon = axpbyF32(sqrtAlpha, modelOutput, sqrtBeta, sample);

    clipPredictedSample(predOriginal, this.clipping);
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
}
