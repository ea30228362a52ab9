// diffusers' DPMSolverMultistepScheduler (DPM-Solver / DPM-Solver++, orders 1-3, ODE and SDE
// variants). With use_karras_sigmas this is A1111's "DPM++ 2M Karras". Timesteps are integers
// (diffusers casts them to int64); sigmas are a float32 table; step arithmetic is float64.

import type { TorchGenerator } from '../rng/torchGenerator';
import type { Scheduler, SchedulerConfig, SchedulerStepOutput } from './scheduler';
import {
  TIMESTEP_SPACINGS,
  alphaTablesFromConfig,
  arange64,
  configBool,
  configChoice,
  configInt,
  descendingTimesteps,
  linspace64,
  roundHalfEven,
  type TimestepSpacing,
} from './betas';
import {
  PREDICTION_TYPES,
  checkOneSigmaSchedule,
  checkSameLength,
  checkStepsLeft,
  drawNoise,
  exponentialSigmas,
  interpAtTimestep,
  karrasSigmas,
  logF32,
  rejectBetaSigmas,
  rejectUnsupported,
  sigmaToT,
  trainingSigmas,
  type PredictionType,
} from './sigmas';

const NAME = 'DPMSolverMultistepScheduler';
const f32 = Math.fround;

const ALGORITHMS = ['dpmsolver', 'dpmsolver++', 'sde-dpmsolver', 'sde-dpmsolver++'] as const;
type Algorithm = (typeof ALGORITHMS)[number];

/** alpha_t and sigma_t of the VP process at noise level sigma. */
function alphaSigma(sigma: number): [number, number] {
  const alpha = 1 / Math.sqrt(sigma * sigma + 1);
  return [alpha, sigma * alpha];
}

function lambdaOf(alpha: number, sigma: number): number {
  return Math.log(alpha) - Math.log(sigma);
}

export class DPMSolverMultistepScheduler implements Scheduler {
  readonly initNoiseSigma = 1;
  readonly numTrainTimesteps: number;
  readonly solverOrder: number;
  readonly predictionType: PredictionType;
  readonly algorithmType: Algorithm;
  readonly solverType: 'midpoint' | 'heun';
  readonly lowerOrderFinal: boolean;
  readonly eulerAtFinal: boolean;
  readonly useKarrasSigmas: boolean;
  readonly useExponentialSigmas: boolean;
  readonly useLuLambdas: boolean;
  readonly finalSigmasType: 'zero' | 'sigma_min';
  readonly lambdaMinClipped: number;
  readonly timestepSpacing: TimestepSpacing;
  readonly stepsOffset: number;
  private readonly cosineSchedule: boolean;
  private readonly trainSigmas: Float64Array;
  private readonly logSigmas: Float64Array;
  /** lambda_t = log(alpha_t) - log(sigma_t) of each training timestep, float32 as torch holds it. */
  private readonly lambdas: Float64Array;
  timesteps: number[];
  /** One more entry than timesteps: the sigma after the last step. */
  sigmas: Float32Array;
  private modelOutputs: (Float64Array | null)[];
  private lowerOrderNums = 0;
  private stepIndex: number | null = null;
  /** diffusers' _begin_index: set by the pipeline (img2img), cleared by setTimesteps. */
  private beginIndex: number | null = null;

  constructor(config: SchedulerConfig) {
    rejectBetaSigmas(config, NAME);
    rejectUnsupported(config, 'use_flow_sigmas', NAME, 'flow-matching models are not Stable Diffusion v1.5 models');
    rejectUnsupported(config, 'use_dynamic_shifting', NAME, 'flow-matching models are not Stable Diffusion v1.5 models');
    rejectUnsupported(config, 'thresholding', NAME, 'dynamic thresholding is for pixel-space models, not latent diffusion');
    rejectUnsupported(config, 'variance_type', NAME, 'models that predict a learned variance are not supported');
    const tables = alphaTablesFromConfig(config, NAME, undefined, true);
    this.numTrainTimesteps = tables.numTrainTimesteps;
    this.cosineSchedule = config.beta_schedule === 'squaredcos_cap_v2';
    this.solverOrder = configInt(config, 'solver_order', 2, NAME, 1);
    if (this.solverOrder > 3) {
      throw new Error(`${NAME}: scheduler_config.json key "solver_order" must be 1, 2 or 3 (got ${this.solverOrder}).`);
    }
    this.predictionType = configChoice(config, 'prediction_type', PREDICTION_TYPES, 'epsilon', NAME);
    // diffusers maps the names of its sibling solvers onto this one's.
    const algorithm = config.algorithm_type === 'deis' ? 'dpmsolver++' : config.algorithm_type;
    this.algorithmType = configChoice({ algorithm_type: algorithm }, 'algorithm_type', ALGORITHMS, 'dpmsolver++', NAME);
    const solver = ['logrho', 'bh1', 'bh2'].includes(config.solver_type as string) ? 'midpoint' : config.solver_type;
    this.solverType = configChoice({ solver_type: solver }, 'solver_type', ['midpoint', 'heun'] as const, 'midpoint', NAME);
    this.lowerOrderFinal = configBool(config, 'lower_order_final', true, NAME);
    this.eulerAtFinal = configBool(config, 'euler_at_final', false, NAME);
    this.useKarrasSigmas = configBool(config, 'use_karras_sigmas', false, NAME);
    this.useExponentialSigmas = configBool(config, 'use_exponential_sigmas', false, NAME);
    this.useLuLambdas = configBool(config, 'use_lu_lambdas', false, NAME);
    checkOneSigmaSchedule(this, NAME);
    this.finalSigmasType = configChoice(config, 'final_sigmas_type', ['zero', 'sigma_min'] as const, 'zero', NAME);
    if (this.finalSigmasType === 'zero' && !this.algorithmType.endsWith('dpmsolver++')) {
      throw new Error(
        `${NAME}: scheduler_config.json key "final_sigmas_type" = "zero" is not supported with ` +
          `algorithm_type "${this.algorithmType}"; set "final_sigmas_type": "sigma_min" or use "dpmsolver++".`,
      );
    }
    const clip = config.lambda_min_clipped;
    if (clip !== undefined && clip !== null && typeof clip !== 'number') {
      throw new Error(`${NAME}: scheduler_config.json key "lambda_min_clipped" must be a number (got ${JSON.stringify(clip)}).`);
    }
    this.lambdaMinClipped = typeof clip === 'number' ? clip : -Infinity;
    this.timestepSpacing = configChoice(config, 'timestep_spacing', TIMESTEP_SPACINGS, 'linspace', NAME);
    this.stepsOffset = configInt(config, 'steps_offset', 0, NAME);

    const ac = tables.alphasCumprod;
    this.trainSigmas = trainingSigmas(ac);
    this.logSigmas = logF32(this.trainSigmas);
    this.lambdas = new Float64Array(ac.length);
    for (let i = 0; i < ac.length; i++) {
      const alpha = f32(Math.sqrt(ac[i]));
      const sigma = f32(Math.sqrt(f32(1 - ac[i])));
      this.lambdas[i] = f32(f32(Math.log(alpha)) - f32(Math.log(sigma)));
    }
    this.timesteps = descendingTimesteps(this.numTrainTimesteps);
    this.sigmas = Float32Array.from(this.trainSigmas);
    this.modelOutputs = new Array<Float64Array | null>(this.solverOrder).fill(null);
  }

  /** The integer timesteps of the spacing, before the sigma schedule may replace them. */
  private spacedTimesteps(n: number): number[] {
    // Clip where lambda(t) falls below lambda_min_clipped (matters for the cosine schedule).
    let clippedIdx = 0;
    const N = this.numTrainTimesteps;
    while (clippedIdx < N && this.lambdas[N - 1 - clippedIdx] < this.lambdaMinClipped) clippedIdx++;
    const lastTimestep = N - clippedIdx;
    if (this.timestepSpacing === 'linspace') {
      return linspace64(0, lastTimestep - 1, n + 1).map(roundHalfEven).reverse().slice(0, n);
    }
    if (this.timestepSpacing === 'leading') {
      const ratio = Math.floor(lastTimestep / (n + 1));
      const out: number[] = [];
      for (let i = n; i >= 1; i--) out.push(i * ratio + this.stepsOffset);
      return out;
    }
    return arange64(lastTimestep, 0, -N / n).map((t) => roundHalfEven(t) - 1);
  }

  setTimesteps(numInferenceSteps: number): void {
    if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1) {
      throw new Error(`${NAME}.setTimesteps: numInferenceSteps must be a whole number >= 1 (got ${numInferenceSteps}).`);
    }
    let timesteps = this.spacedTimesteps(numInferenceSteps);
    const train = this.trainSigmas;
    const descendingTrain = Array.from(train).reverse();
    const toT = (s: number): number => sigmaToT(s, this.logSigmas);
    // int64 cast: numpy rounds only where diffusers calls round(), otherwise it truncates.
    const rounded = (t: number): number => (this.cosineSchedule ? Math.trunc(t) : roundHalfEven(t));
    let sigmas: number[];
    if (this.useKarrasSigmas) {
      sigmas = karrasSigmas(descendingTrain[descendingTrain.length - 1], descendingTrain[0], numInferenceSteps);
      timesteps = sigmas.map((s) => rounded(toT(s)));
    } else if (this.useLuLambdas) {
      const lambdas = Array.from(this.logSigmas).reverse();
      const lo = lambdas[lambdas.length - 1];
      const hi = lambdas[0];
      sigmas = linspace64(0, 1, numInferenceSteps).map((ramp) => Math.exp(hi + ramp * (lo - hi)));
      timesteps = sigmas.map((s) => rounded(toT(s)));
    } else if (this.useExponentialSigmas) {
      sigmas = exponentialSigmas(descendingTrain[descendingTrain.length - 1], descendingTrain[0], numInferenceSteps);
      timesteps = sigmas.map((s) => Math.trunc(toT(s)));
    } else {
      sigmas = timesteps.map((t) => interpAtTimestep(t, train));
    }
    const last = this.finalSigmasType === 'sigma_min' ? train[0] : 0;
    this.sigmas = Float32Array.from([...sigmas, last]);
    this.timesteps = timesteps;
    this.modelOutputs = new Array<Float64Array | null>(this.solverOrder).fill(null);
    this.lowerOrderNums = 0;
    this.stepIndex = null;
    this.beginIndex = null;
  }

  /** diffusers' set_begin_index: the first step's index, whatever timestep it is given. */
  setBeginIndex(beginIndex: number): void {
    if (!Number.isInteger(beginIndex) || beginIndex < 0 || beginIndex >= this.timesteps.length) {
      throw new Error(`${NAME}.setBeginIndex: ${beginIndex} is not an index of the ${this.timesteps.length} timesteps.`);
    }
    this.beginIndex = beginIndex;
  }

  scaleModelInput(sample: Float32Array, _timestep: number): Float32Array {
    return sample;
  }

  private initStepIndex(timestep: number): number {
    const matches: number[] = [];
    for (let i = 0; i < this.timesteps.length && matches.length < 2; i++) if (this.timesteps[i] === timestep) matches.push(i);
    // diffusers: no match -> the last step; repeated -> the second match.
    if (matches.length === 0) return this.timesteps.length - 1;
    return matches.length > 1 ? matches[1] : matches[0];
  }

  /** The data prediction (dpmsolver++) or noise prediction (dpmsolver) the solver integrates. */
  private convertModelOutput(modelOutput: Float32Array, sample: Float32Array, i: number): Float64Array {
    const [alpha, sigma] = alphaSigma(this.sigmas[i]);
    const out = new Float64Array(sample.length);
    const dataPrediction = this.algorithmType.endsWith('dpmsolver++');
    for (let k = 0; k < out.length; k++) {
      const m = modelOutput[k];
      const x = sample[k];
      let v: number;
      if (dataPrediction) {
        if (this.predictionType === 'epsilon') v = (x - sigma * m) / alpha;
        else if (this.predictionType === 'sample') v = m;
        else v = alpha * x - sigma * m;
      } else {
        if (this.predictionType === 'epsilon') v = m;
        else if (this.predictionType === 'sample') v = (x - alpha * m) / sigma;
        else v = alpha * m + sigma * x;
      }
      // diffusers keeps the converted output as a float32 tensor.
      out[k] = f32(v);
    }
    return out;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, generator?: TorchGenerator): SchedulerStepOutput {
    checkSameLength(NAME, modelOutput, sample);
    if (this.stepIndex === null) this.stepIndex = this.beginIndex ?? this.initStepIndex(timestep);
    const i = this.stepIndex;
    const steps = this.timesteps.length;
    checkStepsLeft(NAME, i, this.sigmas);
    const lowerOrderFinal =
      i === steps - 1 &&
      (this.eulerAtFinal || (this.lowerOrderFinal && steps < 15) || this.finalSigmasType === 'zero');
    const lowerOrderSecond = i === steps - 2 && this.lowerOrderFinal && steps < 15;

    const converted = this.convertModelOutput(modelOutput, sample, i);
    for (let k = 0; k < this.solverOrder - 1; k++) this.modelOutputs[k] = this.modelOutputs[k + 1];
    this.modelOutputs[this.solverOrder - 1] = converted;

    const sde = this.algorithmType.startsWith('sde-');
    const noise = sde ? drawNoise(generator, modelOutput.length, NAME) : null;

    let prev: Float32Array;
    if (this.solverOrder === 1 || this.lowerOrderNums < 1 || lowerOrderFinal) {
      prev = this.firstOrder(converted, sample, noise, i);
    } else if (this.solverOrder === 2 || this.lowerOrderNums < 2 || lowerOrderSecond) {
      prev = this.secondOrder(sample, noise, i);
    } else {
      prev = this.thirdOrder(sample, noise, i);
    }
    if (this.lowerOrderNums < this.solverOrder) this.lowerOrderNums++;
    this.stepIndex = i + 1;
    const result: SchedulerStepOutput = { prevSample: prev };
    if (this.algorithmType.endsWith('dpmsolver++')) result.predOriginalSample = Float32Array.from(converted);
    return result;
  }

  private firstOrder(m: Float64Array, sample: Float32Array, noise: Float32Array | null, i: number): Float32Array {
    const [alphaT, sigmaT] = alphaSigma(this.sigmas[i + 1]);
    const [alphaS, sigmaS] = alphaSigma(this.sigmas[i]);
    const h = lambdaOf(alphaT, sigmaT) - lambdaOf(alphaS, sigmaS);
    const out = new Float32Array(sample.length);
    let a: number;
    let b: number;
    let c = 0;
    switch (this.algorithmType) {
      case 'dpmsolver++':
        a = sigmaT / sigmaS;
        b = -(alphaT * (Math.exp(-h) - 1));
        break;
      case 'dpmsolver':
        a = alphaT / alphaS;
        b = -(sigmaT * (Math.exp(h) - 1));
        break;
      case 'sde-dpmsolver++':
        a = (sigmaT / sigmaS) * Math.exp(-h);
        b = alphaT * (1 - Math.exp(-2 * h));
        c = sigmaT * Math.sqrt(1 - Math.exp(-2 * h));
        break;
      default:
        a = alphaT / alphaS;
        b = -2 * (sigmaT * (Math.exp(h) - 1));
        c = sigmaT * Math.sqrt(Math.exp(2 * h) - 1);
    }
    for (let k = 0; k < out.length; k++) out[k] = a * sample[k] + b * m[k] + (noise ? c * noise[k] : 0);
    return out;
  }

  private secondOrder(sample: Float32Array, noise: Float32Array | null, i: number): Float32Array {
    const [alphaT, sigmaT] = alphaSigma(this.sigmas[i + 1]);
    const [alphaS0, sigmaS0] = alphaSigma(this.sigmas[i]);
    const [alphaS1, sigmaS1] = alphaSigma(this.sigmas[i - 1]);
    const lambdaT = lambdaOf(alphaT, sigmaT);
    const lambdaS0 = lambdaOf(alphaS0, sigmaS0);
    const lambdaS1 = lambdaOf(alphaS1, sigmaS1);
    const m0 = this.modelOutputs[this.solverOrder - 1] as Float64Array;
    const m1 = this.modelOutputs[this.solverOrder - 2] as Float64Array;
    const h = lambdaT - lambdaS0;
    const r0 = (lambdaS0 - lambdaS1) / h;
    // x_t = a * sample + b0 * D0 + b1 * D1 + c * noise, with D0 = m0 and D1 = (m0 - m1) / r0.
    let a: number;
    let b0: number;
    let b1: number;
    let c = 0;
    const em = Math.exp(-h) - 1;
    const ep = Math.exp(h) - 1;
    const heun = this.solverType === 'heun';
    switch (this.algorithmType) {
      case 'dpmsolver++':
        a = sigmaT / sigmaS0;
        b0 = -(alphaT * em);
        b1 = heun ? alphaT * (em / h + 1) : -0.5 * (alphaT * em);
        break;
      case 'dpmsolver':
        a = alphaT / alphaS0;
        b0 = -(sigmaT * ep);
        b1 = heun ? -(sigmaT * (ep / h - 1)) : -0.5 * (sigmaT * ep);
        break;
      case 'sde-dpmsolver++': {
        const e2 = 1 - Math.exp(-2 * h);
        a = (sigmaT / sigmaS0) * Math.exp(-h);
        b0 = alphaT * e2;
        b1 = heun ? alphaT * (e2 / (-2 * h) + 1) : 0.5 * (alphaT * e2);
        c = sigmaT * Math.sqrt(e2);
        break;
      }
      default:
        a = alphaT / alphaS0;
        b0 = -2 * (sigmaT * ep);
        b1 = heun ? -2 * (sigmaT * (ep / h - 1)) : -(sigmaT * ep);
        c = sigmaT * Math.sqrt(Math.exp(2 * h) - 1);
    }
    const out = new Float32Array(sample.length);
    for (let k = 0; k < out.length; k++) {
      const d1 = (1 / r0) * (m0[k] - m1[k]);
      out[k] = a * sample[k] + b0 * m0[k] + b1 * d1 + (noise ? c * noise[k] : 0);
    }
    return out;
  }

  private thirdOrder(sample: Float32Array, noise: Float32Array | null, i: number): Float32Array {
    if (this.algorithmType === 'sde-dpmsolver') {
      // diffusers has no third-order sde-dpmsolver update (it would return nothing).
      throw new Error(`${NAME}: solver_order 3 is not available with algorithm_type "sde-dpmsolver"; use solver_order 2.`);
    }
    const [alphaT, sigmaT] = alphaSigma(this.sigmas[i + 1]);
    const [alphaS0, sigmaS0] = alphaSigma(this.sigmas[i]);
    const [alphaS1, sigmaS1] = alphaSigma(this.sigmas[i - 1]);
    const [alphaS2, sigmaS2] = alphaSigma(this.sigmas[i - 2]);
    const lambdaT = lambdaOf(alphaT, sigmaT);
    const lambdaS0 = lambdaOf(alphaS0, sigmaS0);
    const lambdaS1 = lambdaOf(alphaS1, sigmaS1);
    const lambdaS2 = lambdaOf(alphaS2, sigmaS2);
    const o = this.solverOrder;
    const m0 = this.modelOutputs[o - 1] as Float64Array;
    const m1 = this.modelOutputs[o - 2] as Float64Array;
    const m2 = this.modelOutputs[o - 3] as Float64Array;
    const h = lambdaT - lambdaS0;
    const r0 = (lambdaS0 - lambdaS1) / h;
    const r1 = (lambdaS1 - lambdaS2) / h;
    let a: number;
    let b0: number;
    let b1: number;
    let b2: number;
    let c = 0;
    if (this.algorithmType === 'dpmsolver++') {
      const em = Math.exp(-h) - 1;
      a = sigmaT / sigmaS0;
      b0 = -(alphaT * em);
      b1 = alphaT * (em / h + 1);
      b2 = -(alphaT * ((em + h) / (h * h) - 0.5));
    } else if (this.algorithmType === 'dpmsolver') {
      const ep = Math.exp(h) - 1;
      a = alphaT / alphaS0;
      b0 = -(sigmaT * ep);
      b1 = -(sigmaT * (ep / h - 1));
      b2 = -(sigmaT * ((ep - h) / (h * h) - 0.5));
    } else {
      const e2 = 1 - Math.exp(-2 * h);
      a = (sigmaT / sigmaS0) * Math.exp(-h);
      b0 = alphaT * e2;
      b1 = alphaT * (e2 / (-2 * h) + 1);
      b2 = alphaT * ((e2 - 2 * h) / (2 * h) ** 2 - 0.5);
      c = sigmaT * Math.sqrt(e2);
    }
    const out = new Float32Array(sample.length);
    for (let k = 0; k < out.length; k++) {
      const d10 = (1 / r0) * (m0[k] - m1[k]);
      const d11 = (1 / r1) * (m1[k] - m2[k]);
      const d1 = d10 + (r0 / (r0 + r1)) * (d10 - d11);
      const d2 = (1 / (r0 + r1)) * (d10 - d11);
      out[k] = a * sample[k] + b0 * m0[k] + b1 * d1 + b2 * d2 + (noise ? c * noise[k] : 0);
    }
    return out;
  }

  /**
   * Noises clean samples (img2img / inpainting), as diffusers' add_noise: the sigma at the begin
   * index before the first step, at the current step index after it, or (no begin index) at
   * `timestep`'s place; then alpha_t * x + sigma_t * noise, every op in float32 as torch.
   */
  addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array {
    if (noise.length !== original.length) {
      throw new Error(`${NAME}.addNoise: noise has ${noise.length} values but the sample has ${original.length}; they must match.`);
    }
    const index = this.beginIndex === null ? this.initStepIndex(timestep) : (this.stepIndex ?? this.beginIndex);
    const sigma = this.sigmas[index];
    // _sigma_to_alpha_sigma_t: alpha_t = 1 / ((sigma**2 + 1) ** 0.5), sigma_t = sigma * alpha_t.
    const alphaT = f32(1 / f32(Math.sqrt(f32(f32(sigma * sigma) + 1))));
    const sigmaT = f32(sigma * alphaT);
    const out = new Float32Array(original.length);
    for (let k = 0; k < out.length; k++) out[k] = f32(alphaT * original[k]) + f32(sigmaT * noise[k]);
    return out;
  }
}
