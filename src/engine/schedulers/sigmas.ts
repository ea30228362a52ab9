// Shared pieces of the sigma-based diffusers schedulers (Euler, Euler ancestral, LMS, DPM-Solver):
// the sigma table of the training schedule, its interpolation at fractional timesteps, the
// Karras / exponential / Lu schedules and the sigma -> timestep inverse.
//
// Precision follows diffusers: its training sigma table is a float32 tensor (torch float32 ops),
// the inference schedules are built by numpy in float64 and stored as float32. Values that
// diffusers holds as float32 are Math.fround-ed here; the rest stays float64.

import type { TorchGenerator } from '../rng/torchGenerator';
import { configBool, linspace64 } from './betas';

const f32 = Math.fround;

/** `((1 - alphas_cumprod) / alphas_cumprod) ** 0.5` in torch float32, index = training timestep. */
export function trainingSigmas(alphasCumprod: ArrayLike<number>): Float64Array {
  const out = new Float64Array(alphasCumprod.length);
  for (let i = 0; i < out.length; i++) {
    const a = alphasCumprod[i];
    out[i] = f32(Math.sqrt(f32(f32(1 - a) / a)));
  }
  return out;
}

// numpy's float32 log on x86 (every CPU with AVX2+FMA3 or AVX-512F) is its own SIMD kernel, not
// libm: a rational approximation with up to ~4 ulp error. diffusers' sigma -> timestep inverse
// reads that table, so the fractional Karras timesteps depend on it; this replicates the kernel
// (range reduction to [sqrt(1/2), sqrt(2)), 5th/5th-order P/Q in float32 FMA, + e * ln2).
const LOG_P = [0, 9.999999999999998702752e-1, 2.112677543073053063722, 1.480000633576506585156,
  3.808837741388407920751e-1, 2.589979117907922693523e-2].map(f32);
const LOG_Q = [1, 2.612677543073109236779, 2.453006071784736363091, 9.864942958519418960339e-1,
  1.546476374983906719538e-1, 5.875095403124574342950e-3].map(f32);
const LN2_F = f32(Math.LN2);
const SQRT1_2_F = f32(Math.SQRT1_2);
const bitsView = new DataView(new ArrayBuffer(4));

/** float32 fused multiply-add: a * b is exact in float64 for float32 inputs. */
function fmaF32(a: number, b: number, c: number): number {
  return f32(a * b + c);
}

/** np.log of one float32 value, as numpy's AVX2/AVX-512F kernel computes it. */
export function npLogF32(value: number): number {
  let x = f32(value);
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return NaN;
  if (x === 0) return -Infinity;
  if (x === Infinity) return Infinity;
  let bias = 0;
  if (x < 2 ** -126) {
    // Subnormal: scale into the normal range first (exact), as the kernel does.
    x = f32(x * 2 ** 100);
    bias = 100;
  }
  bitsView.setFloat32(0, x);
  const bits = bitsView.getUint32(0);
  // x = m * 2^e with m in [0.5, 1).
  let e = ((bits >>> 23) & 0xff) - 126 - bias;
  bitsView.setUint32(0, (bits & 0x807fffff) | (126 << 23));
  let m = bitsView.getFloat32(0);
  if (m <= SQRT1_2_F) {
    m = m + m;
    e -= 1;
  }
  const r = f32(m - 1);
  let num = fmaF32(LOG_P[5], r, LOG_P[4]);
  let den = fmaF32(LOG_Q[5], r, LOG_Q[4]);
  for (let k = 3; k >= 0; k--) {
    num = fmaF32(num, r, LOG_P[k]);
    den = fmaF32(den, r, LOG_Q[k]);
  }
  return fmaF32(e, LN2_F, f32(num / den));
}

/** np.log of a float32 array (float32 results). */
export function logF32(values: ArrayLike<number>): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < out.length; i++) out[i] = npLogF32(values[i]);
  return out;
}

/** np.interp(x, arange(len(fp)), fp) in float64 (numpy's formula: slope * (x - xp[j]) + fp[j]). */
export function interpAtTimestep(x: number, fp: ArrayLike<number>): number {
  const last = fp.length - 1;
  if (Number.isNaN(x)) return NaN;
  if (x <= 0) return fp[0];
  if (x >= last) return fp[last];
  const j = Math.floor(x);
  if (x === j) return fp[j];
  const slope = fp[j + 1] - fp[j];
  return slope * (x - j) + fp[j];
}

/** Karras et al. (2022) schedule with rho = 7, float64 as numpy computes it. */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, n: number): number[] {
  const rho = 7;
  const minInvRho = sigmaMin ** (1 / rho);
  const maxInvRho = sigmaMax ** (1 / rho);
  return linspace64(0, 1, n).map((ramp) => (maxInvRho + ramp * (minInvRho - maxInvRho)) ** rho);
}

/** Exponential schedule: evenly spaced in log sigma, from sigmaMax down to sigmaMin. */
export function exponentialSigmas(sigmaMin: number, sigmaMax: number, n: number): number[] {
  return linspace64(Math.log(sigmaMax), Math.log(sigmaMin), n).map(Math.exp);
}

/**
 * diffusers' `_sigma_to_t`: the fractional training timestep whose log sigma interpolates
 * `sigma`, given the float32 log sigma table (ascending timesteps). float64 result.
 */
export function sigmaToT(sigma: number, logSigmas: ArrayLike<number>): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  const n = logSigmas.length;
  // numpy takes the last index whose log sigma is <= logSigma (argmax of a cumulative count), capped at n - 2.
  let count = 0;
  let lowIdx = 0;
  let best = -1;
  for (let i = 0; i < n; i++) {
    if (logSigma - logSigmas[i] >= 0) count++;
    if (count > best) {
      best = count;
      lowIdx = i;
    }
  }
  lowIdx = Math.min(lowIdx, n - 2);
  const highIdx = lowIdx + 1;
  const low = logSigmas[lowIdx];
  const high = logSigmas[highIdx];
  // (low - high) is a float32 - float32 subtraction in numpy. The numerator stays float64 under
  // numpy >= 2 (NEP 50), which this follows; numpy 1.x rounded it to float32 (value-based
  // casting), which moves some fractional Karras timesteps of Euler/LMS by one float32 ulp.
  let w = (low - logSigma) / f32(low - high);
  w = Math.min(Math.max(w, 0), 1);
  return (1 - w) * lowIdx + w * highIdx;
}

/** Where `timestep` sits in the schedule: the second match if it repeats (diffusers' index_for_timestep). */
export function indexForTimestep(timesteps: readonly number[], timestep: number, className: string): number {
  const matches: number[] = [];
  for (let i = 0; i < timesteps.length && matches.length < 2; i++) if (timesteps[i] === timestep) matches.push(i);
  if (matches.length === 0) {
    throw new Error(
      `${className}: timestep ${timestep} is not in the schedule; pass one of scheduler.timesteps ` +
        '(and call setTimesteps first).',
    );
  }
  return matches.length > 1 ? matches[1] : matches[0];
}

/** `sample / ((sigma**2 + 1) ** 0.5)` with torch's float32 scalar arithmetic. */
export function scaleBySigma(sample: Float32Array, sigma: number): Float32Array {
  const denom = f32(Math.sqrt(f32(f32(sigma * sigma) + 1)));
  const out = new Float32Array(sample.length);
  for (let i = 0; i < sample.length; i++) out[i] = sample[i] / denom;
  return out;
}

/** init_noise_sigma of Euler/LMS: the largest sigma, or sqrt(max^2 + 1) for "leading" spacing (float32). */
export function initNoiseSigmaFor(sigmas: Float32Array, spacing: string): number {
  let max = -Infinity;
  for (const s of sigmas) if (s > max) max = s;
  if (spacing === 'linspace' || spacing === 'trailing') return max;
  return f32(Math.sqrt(f32(f32(max * max) + 1)));
}

/** Noise for a stochastic step, drawn where diffusers draws it. */
export function drawNoise(generator: TorchGenerator | undefined, n: number, className: string): Float32Array {
  if (!generator) {
    throw new Error(
      `${className}.step: this step draws noise; pass the pipeline's TorchGenerator as the generator argument.`,
    );
  }
  return generator.randn(n);
}

/** Checks that arrays passed to step have the same length. */
export function checkSameLength(className: string, a: Float32Array, b: Float32Array): void {
  if (a.length !== b.length) {
    throw new Error(`${className}.step: modelOutput has ${a.length} values but sample has ${b.length}; they must match.`);
  }
}

/** add_noise's noise must match the sample it noises. */
export function checkNoise(className: string, original: Float32Array, noise: Float32Array): void {
  if (noise.length !== original.length) {
    throw new Error(`${className}.addNoise: noise has ${noise.length} values but the sample has ${original.length}; they must match.`);
  }
}

/** Step i needs sigmas[i + 1]: past the end, step was called more often than setTimesteps allows. */
export function checkStepsLeft(className: string, i: number, sigmas: Float32Array): void {
  if (i + 1 >= sigmas.length) {
    throw new Error(`${className}.step: called more times than there are timesteps; call setTimesteps again.`);
  }
}

export const PREDICTION_TYPES = ['epsilon', 'v_prediction', 'sample'] as const;
export type PredictionType = (typeof PREDICTION_TYPES)[number];

/**
 * The sigma schedulers' pred_original_sample, kept in float64 for their step arithmetic: epsilon
 * at `sigmaHat` (Euler's churned sigma; sigma elsewhere), v_prediction at sigma, sample as is.
 */
export function predictOriginalAtSigma(
  predictionType: PredictionType,
  modelOutput: Float32Array,
  sample: Float32Array,
  sigma: number,
  sigmaHat = sigma,
): Float64Array {
  const vOut = -sigma / Math.sqrt(sigma * sigma + 1);
  const vIn = 1 / (sigma * sigma + 1);
  const out = new Float64Array(sample.length);
  for (let k = 0; k < out.length; k++) {
    const s = sample[k];
    const m = modelOutput[k];
    if (predictionType === 'epsilon') out[k] = s - sigmaHat * m;
    else if (predictionType === 'v_prediction') out[k] = m * vOut + s * vIn;
    else out[k] = m;
  }
  return out;
}

/** diffusers' use_beta_sigmas, which this engine leaves out (its Beta distribution ppf comes from scipy). */
export function rejectBetaSigmas(config: Record<string, unknown>, className: string): void {
  rejectUnsupported(config, 'use_beta_sigmas', className, 'beta sigmas need scipy; use use_karras_sigmas or use_exponential_sigmas');
}

export interface SigmaSchedule {
  useKarrasSigmas: boolean;
  useExponentialSigmas: boolean;
}

/** The two schedules exclude each other, as in diffusers. */
export function checkOneSigmaSchedule(schedule: SigmaSchedule, className: string): void {
  if (schedule.useKarrasSigmas && schedule.useExponentialSigmas) {
    throw new Error(
      `${className}: scheduler_config.json keys "use_karras_sigmas" and "use_exponential_sigmas" are both true; ` +
        'only one of them can be used.',
    );
  }
}

/** Reads use_karras_sigmas and use_exponential_sigmas (both false by default). */
export function readSigmaSchedule(config: Record<string, unknown>, className: string): SigmaSchedule {
  const schedule = {
    useKarrasSigmas: configBool(config, 'use_karras_sigmas', false, className),
    useExponentialSigmas: configBool(config, 'use_exponential_sigmas', false, className),
  };
  checkOneSigmaSchedule(schedule, className);
  return schedule;
}

/**
 * Euler's and LMS's Karras / exponential schedules: n sigmas from `hi` down to `lo` and the
 * fractional timesteps they invert to; null when the config asks for neither.
 */
export function resampledSigmas(
  schedule: SigmaSchedule,
  lo: number,
  hi: number,
  n: number,
  logSigmas: ArrayLike<number>,
): { sigmas: number[]; timesteps: number[] } | null {
  if (!schedule.useKarrasSigmas && !schedule.useExponentialSigmas) return null;
  const sigmas = schedule.useKarrasSigmas ? karrasSigmas(lo, hi, n) : exponentialSigmas(lo, hi, n);
  return { sigmas, timesteps: sigmas.map((s) => sigmaToT(s, logSigmas)) };
}

/** Rejects a config flag this engine does not implement, naming it and what to use. */
export function rejectUnsupported(config: Record<string, unknown>, key: string, className: string, why: string): void {
  const value = config[key];
  if (value === undefined || value === null || value === false) return;
  throw new Error(
    `${className}: scheduler_config.json key "${key}" = ${JSON.stringify(value)} is not supported (${why}). ` +
      `Remove "${key}" or set it to false.`,
  );
}
