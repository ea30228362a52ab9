// Shared pieces of the diffusers schedulers: reading scheduler_config.json with each class's
// own defaults, the beta/alpha tables, and the timestep spacings.
//
// Numbers follow torch in float32: every table entry is a float32 value (Math.fround) held in a
// Float64Array, so that the scheduler arithmetic can round to float32 where torch does.

import type { SchedulerConfig } from './scheduler';

const f32 = Math.fround;

// ---------------------------------------------------------------------------------------------
// Config reading. A missing key or a JSON null takes the class's default (what
// `XScheduler.from_config(config)` does for absent keys); a wrong type or value is an Error that
// names the key and what is accepted.

function describe(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : JSON.stringify(value) ?? String(value);
}

function configError(className: string, key: string, expected: string, value: unknown): Error {
  return new Error(
    `${className}: scheduler_config.json key "${key}" must be ${expected} (got ${describe(value)}). ` +
      `Fix or remove "${key}" in scheduler/scheduler_config.json.`,
  );
}

export function configNumber(config: SchedulerConfig, key: string, fallback: number, className: string): number {
  const value = config[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw configError(className, key, 'a finite number', value);
  return value;
}

export function configInt(
  config: SchedulerConfig,
  key: string,
  fallback: number,
  className: string,
  min = 0,
): number {
  const value = config[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw configError(className, key, `an integer >= ${min}`, value);
  }
  return value;
}

export function configBool(config: SchedulerConfig, key: string, fallback: boolean, className: string): boolean {
  const value = config[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw configError(className, key, 'true or false', value);
  return value;
}

export function configChoice<T extends string>(
  config: SchedulerConfig,
  key: string,
  choices: readonly T[],
  fallback: T,
  className: string,
): T {
  const value = config[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw configError(className, key, `one of ${choices.map((c) => `"${c}"`).join(', ')}`, value);
  }
  return value as T;
}

// ---------------------------------------------------------------------------------------------
// Betas and alphas.

export const BETA_SCHEDULES = ['linear', 'scaled_linear', 'squaredcos_cap_v2'] as const;
export type BetaScheduleName = (typeof BETA_SCHEDULES)[number];

export interface BetaDefaults {
  numTrainTimesteps: number;
  betaStart: number;
  betaEnd: number;
  betaSchedule: BetaScheduleName;
}

/** What PNDM, DDIM, Euler, Euler a, LMS and DPM-Solver default to when the config says nothing. */
export const DDPM_BETA_DEFAULTS: BetaDefaults = {
  numTrainTimesteps: 1000,
  betaStart: 0.0001,
  betaEnd: 0.02,
  betaSchedule: 'linear',
};

export interface BetaOptions extends BetaDefaults {
  /** Overrides the schedule when given (diffusers' `trained_betas`). */
  trainedBetas?: readonly number[];
  /** diffusers' `rescale_betas_zero_snr` (DDIM, LCM, Euler, DPM-Solver). */
  rescaleBetasZeroSnr?: boolean;
}

export interface AlphaTables {
  numTrainTimesteps: number;
  betas: Float64Array;
  alphas: Float64Array;
  alphasCumprod: Float64Array;
}

/**
 * torch.linspace(start, end, steps, dtype=torch.float32) on an x86 CPU, bit for bit (checked
 * against torch 1.13): the first half counts forward from start, the second half back from end
 * (one fused multiply-add each), and the AVX2 kernel fills blocks of 8 from each block's first
 * value by adding k*step; the tail that fills no pair of vectors takes the scalar formula. Torch
 * builds with another kernel (newer scalar-only ones, non-x86) may differ in the last bit of some entries.
 */
export function linspaceF32(start: number, end: number, steps: number): Float64Array {
  const out = new Float64Array(steps);
  if (steps === 1) {
    out[0] = f32(start);
    return out;
  }
  const s = f32(start);
  const e = f32(end);
  const step = f32(f32(e - s) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  // step * i is exact in double (float32 step, i < 2^29), so this equals fmaf but for rare exact ties.
  const scalar = (i: number): number => (i < halfway ? f32(s + step * i) : f32(e - step * (steps - i - 1)));
  const lanes = 8;
  const fillVector = (first: number): void => {
    const base = scalar(first);
    out[first] = base;
    for (let k = 1; k < lanes; k++) out[first + k] = f32(base + f32(k * step));
  };
  let i = 0;
  // Two vectors per turn, so the vector part ends at a multiple of 16.
  for (; i <= steps - 2 * lanes; i += 2 * lanes) {
    fillVector(i);
    fillVector(i + lanes);
  }
  for (; i < steps; i++) out[i] = scalar(i);
  return out;
}

/** diffusers' betas_for_alpha_bar with the "cosine" (GLIDE) transform, computed in double then cast. */
export function cosineBetas(numTrainTimesteps: number, maxBeta = 0.999): Float64Array {
  const alphaBar = (t: number): number => Math.cos(((t + 0.008) / 1.008) * Math.PI / 2) ** 2;
  const out = new Float64Array(numTrainTimesteps);
  for (let i = 0; i < numTrainTimesteps; i++) {
    const t1 = i / numTrainTimesteps;
    const t2 = (i + 1) / numTrainTimesteps;
    out[i] = f32(Math.min(1 - alphaBar(t2) / alphaBar(t1), maxBeta));
  }
  return out;
}

/** torch.cumprod on CPU: accumulates in double, rounds each output to float32. */
export function cumprodF32(values: Float64Array): Float64Array {
  const out = new Float64Array(values.length);
  let acc = 1;
  for (let i = 0; i < values.length; i++) {
    acc *= values[i];
    out[i] = f32(acc);
  }
  return out;
}

/** diffusers' rescale_zero_terminal_snr (arXiv 2305.08891, Algorithm 1), in float32 like torch. */
export function rescaleZeroTerminalSnr(betas: Float64Array): Float64Array {
  const n = betas.length;
  const alphas = betas.map((b) => f32(1 - b));
  const sqrtBar = cumprodF32(alphas).map((a) => f32(Math.sqrt(a)));
  const first = sqrtBar[0];
  const last = sqrtBar[n - 1];
  const factor = f32(first / f32(first - last));
  const scaled = sqrtBar.map((v) => f32(f32(v - last) * factor));
  const bar = scaled.map((v) => f32(v * v));
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const alpha = i === 0 ? bar[0] : f32(bar[i] / bar[i - 1]);
    out[i] = f32(1 - alpha);
  }
  return out;
}

export function makeBetas(options: BetaOptions): Float64Array {
  const n = options.numTrainTimesteps;
  let betas: Float64Array;
  if (options.trainedBetas) {
    betas = Float64Array.from(options.trainedBetas, (b) => f32(b));
  } else if (options.betaSchedule === 'linear') {
    betas = linspaceF32(options.betaStart, options.betaEnd, n);
  } else if (options.betaSchedule === 'scaled_linear') {
    // Only meaningful for latent diffusion: linear in sqrt(beta), then squared in float32.
    betas = linspaceF32(Math.sqrt(options.betaStart), Math.sqrt(options.betaEnd), n).map((b) => f32(b * b));
  } else {
    betas = cosineBetas(n);
  }
  return options.rescaleBetasZeroSnr ? rescaleZeroTerminalSnr(betas) : betas;
}

export function alphaTables(options: BetaOptions): AlphaTables {
  const betas = makeBetas(options);
  const alphas = betas.map((b) => f32(1 - b));
  const alphasCumprod = cumprodF32(alphas);
  if (options.rescaleBetasZeroSnr) {
    // diffusers keeps the last value just above zero so that the first step's sigma stays finite.
    alphasCumprod[alphasCumprod.length - 1] = 2 ** -24;
  }
  return { numTrainTimesteps: betas.length, betas, alphas, alphasCumprod };
}

/**
 * Reads num_train_timesteps, beta_start, beta_end, beta_schedule, trained_betas and (when the class
 * supports it) rescale_betas_zero_snr from the config, then builds the tables.
 */
export function alphaTablesFromConfig(
  config: SchedulerConfig,
  className: string,
  defaults: BetaDefaults = DDPM_BETA_DEFAULTS,
  supportsZeroSnr = false,
): AlphaTables {
  const trained = config.trained_betas;
  let trainedBetas: number[] | undefined;
  if (trained !== undefined && trained !== null) {
    if (!Array.isArray(trained) || trained.length === 0 || !trained.every((b) => typeof b === 'number' && Number.isFinite(b))) {
      throw configError(className, 'trained_betas', 'null or a non-empty array of numbers', trained);
    }
    trainedBetas = trained as number[];
  }
  const numTrainTimesteps = trainedBetas
    ? trainedBetas.length
    : configInt(config, 'num_train_timesteps', defaults.numTrainTimesteps, className, 2);
  return alphaTables({
    numTrainTimesteps,
    betaStart: configNumber(config, 'beta_start', defaults.betaStart, className),
    betaEnd: configNumber(config, 'beta_end', defaults.betaEnd, className),
    betaSchedule: configChoice(config, 'beta_schedule', BETA_SCHEDULES, defaults.betaSchedule, className),
    trainedBetas,
    rescaleBetasZeroSnr: supportsZeroSnr && configBool(config, 'rescale_betas_zero_snr', false, className),
  });
}

// ---------------------------------------------------------------------------------------------
// Timestep spacing (arXiv 2305.08891, Table 2), as the diffusers set_timesteps methods compute it.

export const TIMESTEP_SPACINGS = ['leading', 'trailing', 'linspace'] as const;
export type TimestepSpacing = (typeof TIMESTEP_SPACINGS)[number];

/** numpy's round(): halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}

/** np.linspace(start, stop, num) in float64. */
export function linspace64(start: number, stop: number, num: number): number[] {
  if (num === 1) return [start];
  const step = (stop - start) / (num - 1);
  const out: number[] = [];
  for (let i = 0; i < num; i++) out.push(i * step + start);
  out[num - 1] = stop;
  return out;
}

/** np.arange(start, stop, step) for floats, with numpy's length and fill rule. */
export function arange64(start: number, stop: number, step: number): number[] {
  const length = Math.max(0, Math.ceil((stop - start) / step));
  const out: number[] = [];
  const delta = start + step - start;
  for (let i = 0; i < length; i++) out.push(i === 0 ? start : i === 1 ? start + step : start + i * delta);
  return out;
}

/** Every training timestep, largest first: the schedule diffusers' constructors leave before set_timesteps. */
export function descendingTimesteps(numTrainTimesteps: number): number[] {
  return Array.from({ length: numTrainTimesteps }, (_, i) => numTrainTimesteps - 1 - i);
}

export interface SpacingOptions {
  spacing: TimestepSpacing;
  numTrainTimesteps: number;
  numInferenceSteps: number;
  /** Added for "leading" only, as diffusers does. */
  stepsOffset: number;
  /**
   * Round "linspace" to integers (the discrete schedulers). The sigma schedulers (Euler, LMS)
   * keep the fractional values; "leading" and "trailing" are always whole numbers.
   */
  roundLinspace: boolean;
}

/**
 * The inference timesteps, largest first. Discrete schedulers use them as integers; sigma
 * schedulers interpolate their sigmas at them.
 */
export function spacedTimesteps(options: SpacingOptions): number[] {
  const { spacing, numTrainTimesteps: N, numInferenceSteps: n, stepsOffset } = options;
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`numInferenceSteps must be a whole number >= 1 (got ${n}).`);
  }
  if (spacing === 'linspace') {
    const values = linspace64(0, N - 1, n);
    return (options.roundLinspace ? values.map(roundHalfEven) : values).reverse();
  }
  if (spacing === 'leading') {
    const ratio = Math.floor(N / n);
    const values: number[] = [];
    for (let i = n - 1; i >= 0; i--) values.push(i * ratio + stepsOffset);
    return values;
  }
  const ratio = N / n;
  return arange64(N, 0, -ratio).map((t) => roundHalfEven(t) - 1);
}

// ---------------------------------------------------------------------------------------------
// Float32 elementwise arithmetic, one rounding per torch op, for the discrete schedulers' steps.

/** `c * a` (a 0-d float32 tensor or Python float times a float32 tensor). */
export function mulF32(a: Float32Array, c: number): Float32Array {
  const cf = f32(c);
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = cf * a[i];
  return out;
}

/** `ca * a + cb * b`, three torch ops. */
export function axpbyF32(ca: number, a: Float32Array, cb: number, b: Float32Array): Float32Array {
  const af = f32(ca);
  const bf = f32(cb);
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = f32(af * a[i]) + f32(bf * b[i]);
  return out;
}

/** `(a - cb * b) / d`, three torch ops. */
export function subScaledDivF32(a: Float32Array, cb: number, b: Float32Array, d: number): Float32Array {
  const bf = f32(cb);
  const df = f32(d);
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = f32(a[i] - f32(bf * b[i])) / df;
  return out;
}

/** torch.clamp(a, -limit, limit), in place. */
export function clampInPlace(a: Float32Array, limit: number): Float32Array {
  const hi = f32(limit);
  for (let i = 0; i < a.length; i++) {
    if (a[i] > hi) a[i] = hi;
    else if (a[i] < -hi) a[i] = -hi;
  }
  return a;
}

/**
 * diffusers' dynamic thresholding (_threshold_sample, Imagen): s = quantile(|x0|, ratio) clamped
 * to [1, maxValue]; x0 = clamp(x0, -s, s) / s. The whole array is one image (batch size 1, as the
 * engine steps one latent at a time).
 */
export function thresholdInPlace(a: Float32Array, ratio: number, maxValue: number): Float32Array {
  const sorted = Float32Array.from(a, Math.abs).sort();
  const rank = f32(f32(ratio) * (sorted.length - 1));
  const below = Math.floor(rank);
  const above = Math.min(below + 1, sorted.length - 1);
  const weight = f32(rank - below);
  const lo = sorted[below];
  const hi = sorted[above];
  // torch.lerp's two-sided formula.
  let s = weight < 0.5 ? f32(lo + f32(weight * f32(hi - lo))) : f32(hi - f32(f32(hi - lo) * f32(1 - weight)));
  s = Math.min(Math.max(s, 1), f32(maxValue));
  for (let i = 0; i < a.length; i++) a[i] = f32(Math.min(Math.max(a[i], -s), s) / s);
  return a;
}

/** The model's x0 from an epsilon, sample or v prediction, given sqrt(alpha_prod_t) and sqrt(1 - alpha_prod_t). */
export function predictOriginalF32(
  predictionType: 'epsilon' | 'sample' | 'v_prediction',
  modelOutput: Float32Array,
  sample: Float32Array,
  sqrtAlpha: number,
  sqrtBeta: number,
): Float32Array {
  if (predictionType === 'epsilon') return subScaledDivF32(sample, sqrtBeta, modelOutput, sqrtAlpha);
  if (predictionType === 'sample') return Float32Array.from(modelOutput);
  return axpbyF32(sqrtAlpha, sample, -sqrtBeta, modelOutput);
}

/** DDIM's and LCM's clip_sample / thresholding settings. */
export interface SampleClipping {
  clipSample: boolean;
  clipSampleRange: number;
  thresholding: boolean;
  dynamicThresholdingRatio: number;
  sampleMaxValue: number;
}

/** Reads the SampleClipping keys; only clip_sample's default differs between the classes. */
export function readSampleClipping(config: SchedulerConfig, className: string, clipSampleDefault: boolean): SampleClipping {
  return {
    clipSample: configBool(config, 'clip_sample', clipSampleDefault, className),
    clipSampleRange: configNumber(config, 'clip_sample_range', 1, className),
    thresholding: configBool(config, 'thresholding', false, className),
    dynamicThresholdingRatio: configNumber(config, 'dynamic_thresholding_ratio', 0.995, className),
    sampleMaxValue: configNumber(config, 'sample_max_value', 1, className),
  };
}

/** Thresholds or clips a predicted x0 in place, as the config asks (thresholding wins). */
export function clipPredictedSample(predOriginal: Float32Array, clipping: SampleClipping): void {
  if (clipping.thresholding) {
    thresholdInPlace(predOriginal, clipping.dynamicThresholdingRatio, clipping.sampleMaxValue);
  } else if (clipping.clipSample) {
    clampInPlace(predOriginal, clipping.clipSampleRange);
  }
}

/** diffusers' add_noise for the alphas_cumprod schedulers: sqrt(a) * x + sqrt(1 - a) * noise. */
export function addNoiseF32(alphasCumprod: Float64Array, original: Float32Array, noise: Float32Array, timestep: number): Float32Array {
  const a = alphasCumprod[timestep];
  if (a === undefined || !Number.isInteger(timestep)) {
    throw new Error(`addNoise: timestep must be an integer in [0, ${alphasCumprod.length - 1}] (got ${timestep}).`);
  }
  if (noise.length !== original.length) {
    throw new Error(`addNoise: noise has ${noise.length} values but the sample has ${original.length}.`);
  }
  return axpbyF32(Math.sqrt(a), original, Math.sqrt(f32(1 - a)), noise);
}
