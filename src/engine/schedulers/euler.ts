// diffusers' EulerDiscreteScheduler (Karras et al. 2022, Algorithm 2; k-diffusion's sample_euler).
// Timesteps are fractional float32 values, sigmas a float32 table; step arithmetic is float64.

import type { TorchGenerator } from '../rng/torchGenerator';
import type { Scheduler, SchedulerConfig, SchedulerStepOutput } from './scheduler';
import {
  TIMESTEP_SPACINGS,
  alphaTablesFromConfig,
  configChoice,
  configInt,
  configNumber,
  linspaceF32,
  type TimestepSpacing,
} from './betas';
import { SigmaScheduler } from './sigmaScheduler';
import {
  PREDICTION_TYPES,
  drawNoise,
  interpAtTimestep,
  logF32,
  predictOriginalAtSigma,
  readSigmaSchedule,
  rejectBetaSigmas,
  resampledSigmas,
  trainingSigmas,
  type PredictionType,
} from './sigmas';

const NAME = 'EulerDiscreteScheduler';
const f32 = Math.fround;

export class EulerDiscreteScheduler extends SigmaScheduler implements Scheduler {
  readonly numTrainTimesteps: number;
  readonly predictionType: PredictionType;
  readonly timestepSpacing: TimestepSpacing;
  readonly interpolationType: 'linear' | 'log_linear';
  readonly useKarrasSigmas: boolean;
  readonly useExponentialSigmas: boolean;
  readonly timestepType: 'discrete' | 'continuous';
  readonly finalSigmasType: 'zero' | 'sigma_min';
  readonly stepsOffset: number;
  readonly sigmaMin: number | undefined;
  readonly sigmaMax: number | undefined;
  /** Stochastic churn (k-diffusion's s_churn etc.); the defaults make the step deterministic. */
  sChurn = 0;
  sTmin = 0;
  sTmax = Infinity;
  sNoise = 1;

  /** float32 sigma of each training timestep (index = timestep). */
  private readonly trainSigmas: Float64Array;
  private readonly logSigmas: Float64Array;

  constructor(config: SchedulerConfig) {
    super(NAME);
    rejectBetaSigmas(config, NAME);
    const tables = alphaTablesFromConfig(config, NAME, undefined, true);
    this.numTrainTimesteps = tables.numTrainTimesteps;
    this.predictionType = configChoice(config, 'prediction_type', PREDICTION_TYPES, 'epsilon', NAME);
    this.interpolationType = configChoice(config, 'interpolation_type', ['linear', 'log_linear'] as const, 'linear', NAME);
    const schedule = readSigmaSchedule(config, NAME);
    this.useKarrasSigmas = schedule.useKarrasSigmas;
    this.useExponentialSigmas = schedule.useExponentialSigmas;
    const sigmaMin = config.sigma_min;
    const sigmaMax = config.sigma_max;
    this.sigmaMin = sigmaMin === undefined || sigmaMin === null ? undefined : configNumber(config, 'sigma_min', 0, NAME);
    this.sigmaMax = sigmaMax === undefined || sigmaMax === null ? undefined : configNumber(config, 'sigma_max', 0, NAME);
    this.timestepSpacing = configChoice(config, 'timestep_spacing', TIMESTEP_SPACINGS, 'linspace', NAME);
    this.timestepType = configChoice(config, 'timestep_type', ['discrete', 'continuous'] as const, 'discrete', NAME);
    this.stepsOffset = configInt(config, 'steps_offset', 0, NAME);
    this.finalSigmasType = configChoice(config, 'final_sigmas_type', ['zero', 'sigma_min'] as const, 'zero', NAME);

    this.trainSigmas = trainingSigmas(tables.alphasCumprod);
    this.logSigmas = logF32(this.trainSigmas);
    this.useTrainingSchedule(this.trainSigmas);
    if (this.timestepType === 'continuous' && this.predictionType === 'v_prediction') {
      const n = this.numTrainTimesteps;
      this.timesteps = Array.from(this.sigmas.subarray(0, n), (s) => f32(0.25 * f32(Math.log(s))));
    }
  }

  setTimesteps(numInferenceSteps: number): void {
    let timesteps = this.spacedTimesteps(numInferenceSteps);
    const train = this.trainSigmas;
    let sigmas: number[];
    if (this.interpolationType === 'linear') {
      sigmas = timesteps.map((t) => interpAtTimestep(t, train));
    } else {
      // diffusers builds n + 1 log-spaced sigmas here (torch float32) and still appends the final one.
      const start = f32(Math.log(train[train.length - 1]));
      const end = f32(Math.log(train[0]));
      sigmas = Array.from(linspaceF32(start, end, numInferenceSteps + 1), (x) => f32(Math.exp(x)));
    }
    const lo = this.sigmaMin ?? sigmas[sigmas.length - 1];
    const hi = this.sigmaMax ?? sigmas[0];
    const resampled = resampledSigmas(this, lo, hi, numInferenceSteps, this.logSigmas);
    if (resampled) ({ sigmas, timesteps } = resampled);
    const last = this.finalSigmasType === 'sigma_min' ? train[0] : 0;
    this.sigmas = Float32Array.from([...sigmas, last]);
    if (this.timestepType === 'continuous' && this.predictionType === 'v_prediction') {
      this.timesteps = Array.from(this.sigmas.subarray(0, this.sigmas.length - 1), (s) => f32(0.25 * f32(Math.log(s))));
    } else {
      this.timesteps = timesteps.map(f32);
    }
    this.stepIndex = null;
    this.beginIndex = null;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, generator?: TorchGenerator): SchedulerStepOutput {
    const i = this.beginStep(modelOutput, timestep, sample);
    const sigma = this.sigmas[i];
    const gamma = this.sTmin <= sigma && sigma <= this.sTmax ? Math.min(this.sChurn / (this.sigmas.length - 1), Math.SQRT2 - 1) : 0;
    const sigmaHat = f32(sigma * (gamma + 1));
    let x = sample;
    if (gamma > 0) {
      // Only here does Euler draw from the generator, as in diffusers.
      const noise = drawNoise(generator, modelOutput.length, NAME);
      const scale = Math.sqrt(sigmaHat * sigmaHat - sigma * sigma);
      x = new Float32Array(sample.length);
      for (let k = 0; k < x.length; k++) x[k] = sample[k] + noise[k] * this.sNoise * scale;
    }
    const dt = this.sigmas[i + 1] - sigmaHat;
    const x0 = predictOriginalAtSigma(this.predictionType, modelOutput, x, sigma, sigmaHat);
    const prev = new Float32Array(x.length);
    for (let k = 0; k < x.length; k++) {
      const derivative = (x[k] - x0[k]) / sigmaHat;
      prev[k] = x[k] + derivative * dt;
    }
    this.stepIndex = i + 1;
    return { prevSample: prev, predOriginalSample: Float32Array.from(x0) };
  }
}
