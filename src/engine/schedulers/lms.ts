// diffusers' LMSDiscreteScheduler (k-diffusion's sample_lms): a linear multistep method over the
// last `order` derivatives. diffusers integrates each Lagrange basis polynomial with scipy's quad;
// the integrand is a polynomial of degree < 4, so a 3-point Gauss-Legendre rule is exact here.

import type { TorchGenerator } from '../rng/torchGenerator';
import type { Scheduler, SchedulerConfig, SchedulerStepOutput } from './scheduler';
import { TIMESTEP_SPACINGS, alphaTablesFromConfig, configChoice, configInt, type TimestepSpacing } from './betas';
import { SigmaScheduler } from './sigmaScheduler';
import {
  PREDICTION_TYPES,
  interpAtTimestep,
  logF32,
  predictOriginalAtSigma,
  readSigmaSchedule,
  rejectBetaSigmas,
  resampledSigmas,
  trainingSigmas,
  type PredictionType,
} from './sigmas';

const NAME = 'LMSDiscreteScheduler';
const f32 = Math.fround;

// Gauss-Legendre nodes and weights on [-1, 1], exact for polynomials up to degree 5.
const GL_NODES = [-Math.sqrt(3 / 5), 0, Math.sqrt(3 / 5)];
const GL_WEIGHTS = [5 / 9, 8 / 9, 5 / 9];

export class LMSDiscreteScheduler extends SigmaScheduler implements Scheduler {
  readonly numTrainTimesteps: number;
  readonly predictionType: PredictionType;
  readonly timestepSpacing: TimestepSpacing;
  readonly stepsOffset: number;
  readonly useKarrasSigmas: boolean;
  readonly useExponentialSigmas: boolean;
  /** The multistep order (diffusers' `step(order=4)`). */
  order = 4;
  private readonly trainSigmas: Float64Array;
  private readonly logSigmas: Float64Array;
  private derivatives: Float64Array[] = [];

  constructor(config: SchedulerConfig) {
    super(NAME);
    rejectBetaSigmas(config, NAME);
    const tables = alphaTablesFromConfig(config, NAME);
    this.numTrainTimesteps = tables.numTrainTimesteps;
    this.predictionType = configChoice(config, 'prediction_type', PREDICTION_TYPES, 'epsilon', NAME);
    this.timestepSpacing = configChoice(config, 'timestep_spacing', TIMESTEP_SPACINGS, 'linspace', NAME);
    this.stepsOffset = configInt(config, 'steps_offset', 0, NAME);
    const schedule = readSigmaSchedule(config, NAME);
    this.useKarrasSigmas = schedule.useKarrasSigmas;
    this.useExponentialSigmas = schedule.useExponentialSigmas;
    this.trainSigmas = trainingSigmas(tables.alphasCumprod);
    this.logSigmas = logF32(this.trainSigmas);
    // diffusers' constructor ends with set_timesteps(num_train_timesteps).
    this.setTimesteps(this.numTrainTimesteps);
  }

  setTimesteps(numInferenceSteps: number): void {
    let timesteps = this.spacedTimesteps(numInferenceSteps);
    let sigmas = timesteps.map((t) => interpAtTimestep(t, this.trainSigmas));
    const resampled = resampledSigmas(this, sigmas[sigmas.length - 1], sigmas[0], numInferenceSteps, this.logSigmas);
    if (resampled) ({ sigmas, timesteps } = resampled);
    this.sigmas = Float32Array.from([...sigmas, 0]);
    this.timesteps = timesteps.map(f32);
    this.stepIndex = null;
    this.beginIndex = null;
    this.derivatives = [];
  }

  /** Integral over [sigmas[t], sigmas[t+1]] of the Lagrange basis polynomial of node t - current. */
  lmsCoefficient(order: number, t: number, current: number): number {
    const s = this.sigmas;
    const basis = (tau: number): number => {
      let prod = 1;
      for (let k = 0; k < order; k++) {
        if (k === current) continue;
        prod *= (tau - s[t - k]) / (s[t - current] - s[t - k]);
      }
      return prod;
    };
    const a = s[t];
    const b = s[t + 1];
    const half = (b - a) / 2;
    const mid = (a + b) / 2;
    let sum = 0;
    for (let q = 0; q < GL_NODES.length; q++) sum += GL_WEIGHTS[q] * basis(mid + half * GL_NODES[q]);
    return sum * half;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, _generator?: TorchGenerator): SchedulerStepOutput {
    const i = this.beginStep(modelOutput, timestep, sample);
    const sigma = this.sigmas[i];
    const x0 = predictOriginalAtSigma(this.predictionType, modelOutput, sample, sigma);
    // diffusers keeps the derivatives as float32 tensors.
    const derivative = new Float64Array(sample.length);
    for (let k = 0; k < sample.length; k++) derivative[k] = f32((sample[k] - f32(x0[k])) / sigma);
    this.derivatives.push(derivative);
    if (this.derivatives.length > this.order) this.derivatives.shift();

    const order = Math.min(i + 1, this.order);
    const coeffs: number[] = [];
    for (let c = 0; c < order; c++) coeffs.push(this.lmsCoefficient(order, i, c));
    const prev = new Float32Array(sample.length);
    const count = this.derivatives.length;
    // coeffs[0] goes with the newest derivative, as zip(lms_coeffs, reversed(derivatives)); zip
    // stops at the shorter list when the loop started mid-schedule (img2img).
    const terms = Math.min(order, count);
    for (let k = 0; k < sample.length; k++) {
      let acc = 0;
      for (let c = 0; c < terms; c++) acc += coeffs[c] * this.derivatives[count - 1 - c][k];
      prev[k] = sample[k] + acc;
    }
    this.stepIndex = i + 1;
    return { prevSample: prev, predOriginalSample: Float32Array.from(x0) };
  }
}
