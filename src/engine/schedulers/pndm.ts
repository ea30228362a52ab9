// diffusers' PNDMScheduler (Liu et al. 2022, arXiv 2202.09778): Runge-Kutta warm-up steps (PRK)
// followed by linear multistep steps (PLMS). Stable Diffusion v1.5 sets skip_prk_steps, which
// gives crowsonkb's PLMS: the first step is taken twice (a Heun-like correction), so the
// timesteps hold num_inference_steps + 1 entries with the second one repeated.

import type { TorchGenerator } from '../rng/torchGenerator';
import type { Scheduler, SchedulerConfig, SchedulerStepOutput } from './scheduler';
import { AlphaScheduler } from './alphaScheduler';
import {
  alphaTablesFromConfig,
  axpbyF32,
  configBool,
  configChoice,
  configInt,
  predictOriginalF32,
  spacedTimesteps,
  TIMESTEP_SPACINGS,
  type TimestepSpacing,
} from './betas';

const f32 = Math.fround;
const NAME = 'PNDMScheduler';
const PNDM_ORDER = 4;

export const PNDM_PREDICTION_TYPES = ['epsilon', 'v_prediction'] as const;
export type PndmPredictionType = (typeof PNDM_PREDICTION_TYPES)[number];

/** Float32 linear combination sum(c_k * a_k) in the order torch evaluates it (left to right). */
function combine(terms: Array<[number, Float32Array]>, scale = 1, divide = 1): Float32Array {
  const n = terms[0][1].length;
  const out = new Float32Array(n);
  const coeffs = terms.map(([c]) => f32(c));
  const s = f32(scale);
  for (let i = 0; i < n; i++) {
    let acc = coeffs[0] === 1 ? terms[0][1][i] : f32(coeffs[0] * terms[0][1][i]);
    for (let k = 1; k < terms.length; k++) {
      const c = coeffs[k];
      const v = terms[k][1][i];
      acc = f32(acc + (c === 1 ? v : c === -1 ? -v : f32(c * v)));
    }
    if (scale !== 1) acc = f32(s * acc);
    if (divide !== 1) acc = f32(acc / divide);
    out[i] = acc;
  }
  return out;
}

export class PNDMScheduler extends AlphaScheduler implements Scheduler {
  /** The Runge-Kutta timesteps (empty with skip_prk_steps), then the multistep ones. */
  prkTimesteps: number[] = [];
  plmsTimesteps: number[] = [];

  readonly skipPrkSteps: boolean;
  readonly predictionType: PndmPredictionType;
  readonly timestepSpacing: TimestepSpacing;
  readonly stepsOffset: number;

  // Running state of the multistep method.
  private ets: Float32Array[] = [];
  private counter = 0;
  private curSample: Float32Array | undefined;
  private curModelOutput: Float32Array | undefined;

  constructor(config: SchedulerConfig) {
    super(NAME, alphaTablesFromConfig(config, NAME), configBool(config, 'set_alpha_to_one', false, NAME));
    this.skipPrkSteps = configBool(config, 'skip_prk_steps', false, NAME);
    this.predictionType = configChoice(config, 'prediction_type', PNDM_PREDICTION_TYPES, 'epsilon', NAME);
    this.timestepSpacing = configChoice(config, 'timestep_spacing', TIMESTEP_SPACINGS, 'leading', NAME);
    this.stepsOffset = configInt(config, 'steps_offset', 0, NAME);
  }

  setTimesteps(numInferenceSteps: number): void {
    this.checkStepCount(numInferenceSteps);
    if (!this.skipPrkSteps && numInferenceSteps < PNDM_ORDER) {
      throw new Error(
        `${NAME}.setTimesteps: \`num_inference_steps\` must be >= ${PNDM_ORDER} when skip_prk_steps is false ` +
          `(got ${numInferenceSteps}); use more steps or set skip_prk_steps to true.`,
      );
    }
    this.numInferenceSteps = numInferenceSteps;
    // Ascending, as diffusers keeps its _timesteps.
    const base = spacedTimesteps({
      spacing: this.timestepSpacing,
      numTrainTimesteps: this.numTrainTimesteps,
      numInferenceSteps,
      stepsOffset: this.stepsOffset,
      roundLinspace: true,
    }).reverse();

    if (this.skipPrkSteps) {
      // [t0 .. t_{n-2}, t_{n-2}, t_{n-1}] reversed: the largest timestep once, the next one twice.
      this.prkTimesteps = [];
      const n = base.length;
      const plms = [...base.slice(0, n - 1), ...base.slice(Math.max(0, n - 2), n - 1), ...base.slice(n - 1)];
      this.plmsTimesteps = plms.reverse();
    } else {
      // The last 4 timesteps, each followed by its half step, every value but the ends doubled.
      const half = Math.floor(Math.floor(this.numTrainTimesteps / numInferenceSteps) / 2);
      const pairs: number[] = [];
      for (const t of base.slice(-PNDM_ORDER)) pairs.push(t, t + half);
      const doubled: number[] = [];
      for (const t of pairs.slice(0, -1)) doubled.push(t, t);
      this.prkTimesteps = doubled.slice(1, -1).reverse();
      this.plmsTimesteps = base.slice(0, -3).reverse();
    }
    this.timesteps = [...this.prkTimesteps, ...this.plmsTimesteps];
    this.ets = [];
    this.counter = 0;
    this.curSample = undefined;
    this.curModelOutput = undefined;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, _generator?: TorchGenerator): SchedulerStepOutput {
    this.checkSameLength(modelOutput, sample);
    const prevSample =
      this.counter < this.prkTimesteps.length && !this.skipPrkSteps
        ? this.stepPrk(modelOutput, timestep, sample)
        : this.stepPlms(modelOutput, timestep, sample);
    // PNDM has no x0 of its own; this estimate from the current output is only for previews.
    return { prevSample, predOriginalSample: this.estimateOriginal(modelOutput, timestep, sample) };
  }

  /** One Runge-Kutta sub-step (4 of them make one step). */
  stepPrk(modelOutput: Float32Array, timestep: number, sample: Float32Array): Float32Array {
    const numInferenceSteps = this.requireTimesteps();
    const diffToPrev = this.counter % 2 ? 0 : Math.floor(Math.floor(this.numTrainTimesteps / numInferenceSteps) / 2);
    const prevTimestep = timestep - diffToPrev;
    const stepTimestep = this.prkTimesteps[Math.floor(this.counter / 4) * 4];

    let output = modelOutput;
    const phase = this.counter % 4;
    if (phase === 0) {
      this.curModelOutput = this.accumulate(1 / 6, modelOutput);
      this.ets.push(modelOutput);
      this.curSample = sample;
    } else if (phase === 1 || phase === 2) {
      this.curModelOutput = this.accumulate(1 / 3, modelOutput);
    } else {
      output = this.accumulate(1 / 6, modelOutput);
      this.curModelOutput = undefined;
    }
    const prev = this.prevSample(this.curSample ?? sample, stepTimestep, prevTimestep, output);
    this.counter++;
    return prev;
  }

  /** One linear multistep step. */
  stepPlms(modelOutput: Float32Array, timestep: number, sample: Float32Array): Float32Array {
    const numInferenceSteps = this.requireTimesteps();
    if (!this.skipPrkSteps && this.ets.length < 3) {
      throw new Error(
        `${NAME}.stepPlms: with skip_prk_steps false, run the ${PNDM_ORDER * 3} Runge-Kutta sub-steps ` +
          '(step() does so in order) before the multistep ones.',
      );
    }
    const ratio = Math.floor(this.numTrainTimesteps / numInferenceSteps);
    let current = timestep;
    let prevTimestep = timestep - ratio;
    if (this.counter !== 1) {
      this.ets = this.ets.slice(-3);
      this.ets.push(modelOutput);
    } else {
      // The repeated first timestep: redo the first step with the averaged output.
      prevTimestep = timestep;
      current = timestep + ratio;
    }

    let output: Float32Array;
    let x = sample;
    const e = this.ets;
    const k = e.length;
    if (k === 1 && this.counter === 0) {
      output = modelOutput;
      this.curSample = sample;
    } else if (k === 1 && this.counter === 1) {
      output = combine([[1, modelOutput], [1, e[0]]], 1, 2);
      x = this.curSample ?? sample;
      this.curSample = undefined;
    } else if (k === 2) {
      output = combine([[3, e[1]], [-1, e[0]]], 1, 2);
    } else if (k === 3) {
      output = combine([[23, e[2]], [-16, e[1]], [5, e[0]]], 1, 12);
    } else {
      output = combine([[55, e[k - 1]], [-59, e[k - 2]], [37, e[k - 3]], [-9, e[k - 4]]], 1 / 24);
    }
    const prev = this.prevSample(x, current, prevTimestep, output);
    this.counter++;
    return prev;
  }

  /** cur_model_output += c * model_output (starting from the integer 0, as diffusers does). */
  private accumulate(c: number, modelOutput: Float32Array): Float32Array {
    const scaledOutput = combine([[c, modelOutput]]);
    const current = this.curModelOutput;
    if (!current) return scaledOutput;
    return combine([[1, current], [1, scaledOutput]]);
  }

  /** Formula (9) of the PNDM paper: x_{t-delta} from x_t and the (combined) noise estimate. */
  private prevSample(sample: Float32Array, timestep: number, prevTimestep: number, modelOutput: Float32Array): Float32Array {
    const alphaProdT = this.alphaProd(timestep);
    const alphaProdPrev = this.alphaProd(prevTimestep);
    const betaProdT = f32(1 - alphaProdT);
    const betaProdPrev = f32(1 - alphaProdPrev);

    let eps = modelOutput;
    if (this.predictionType === 'v_prediction') {
      eps = axpbyF32(f32(Math.sqrt(alphaProdT)), modelOutput, f32(Math.sqrt(betaProdT)), sample);
    }
    const sampleCoeff = f32(Math.sqrt(f32(alphaProdPrev / alphaProdT)));
    const denom = f32(
      f32(alphaProdT * f32(Math.sqrt(betaProdPrev))) + f32(Math.sqrt(f32(f32(alphaProdT * betaProdT) * alphaProdPrev))),
    );
    const diff = f32(alphaProdPrev - alphaProdT);
    const out = new Float32Array(sample.length);
    for (let i = 0; i < out.length; i++) {
      out[i] = f32(sampleCoeff * sample[i]) - f32(f32(diff * eps[i]) / denom);
    }
    return out;
  }

  private estimateOriginal(modelOutput: Float32Array, timestep: number, sample: Float32Array): Float32Array {
    const alphaProdT = this.alphaProd(timestep);
    const sqrtAlpha = f32(Math.sqrt(alphaProdT));
    const sqrtBeta = f32(Math.sqrt(f32(1 - alphaProdT)));
    return predictOriginalF32(this.predictionType, modelOutput, sample, sqrtAlpha, sqrtBeta);
  }
}
