// A bit-exact replica of torch.Generator('cpu') + torch.randn for float32, so that a seed gives the
// same initial latents (and the same ancestral-step noise) as diffusers running on PyTorch's CPU
// generator. What torch does, read from its sources (CPUGeneratorImpl.cpp, core/MT19937RNGEngine.h,
// core/DistributionsHelper.h, core/TransformationHelper.h, native/cpu/DistributionTemplates.h):
// - manual_seed(s): mt19937 seeded with the low 32 bits of the 64-bit seed, cached normal cleared.
// - numel >= 16 (contiguous float): every element first gets a 24-bit uniform from one 32-bit draw,
//   then Box-Muller in float over blocks of 16 (u1 = 1 - data[j], u2 = data[j + 8]); when numel % 16
//   != 0 the last 16 elements get fresh uniforms and are transformed again. We follow the AVX2 kernel
//   (normal_fill_16_AVX2) that x86-64 builds run; torch builds without AVX2 (e.g. ARM) use libm
//   instead and can differ from it in the last bit of some values.
// - numel < 16: the scalar normal_distribution<double>: two 53-bit uniforms from two 64-bit draws,
//   cos goes out now and sin is cached in the generator for the next scalar draw (the cache survives
//   across calls but is not used by the block path).

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;
const TWO_PI_F = Math.fround(2 * Math.PI);
const INV_2_24 = 1 / 16777216;
const INV_2_53 = 1 / 9007199254740992;
const f = Math.fround;

export class TorchGenerator {
  private readonly state = new Uint32Array(N);
  private index = N;
  private cachedNormal: number | undefined;

  /** `seed`: any integer torch accepts (a number up to 2**53 - 1, or a bigint up to 2**64 - 1; negatives wrap as in torch). */
  constructor(seed: number | bigint) {
    this.seed(seed);
  }

  /** Like Generator.manual_seed: restarts the stream. */
  seed(seed: number | bigint): void {
    let big: bigint;
    if (typeof seed === 'bigint') {
      big = seed;
    } else {
      if (!Number.isSafeInteger(seed)) {
        throw new RangeError(`TorchGenerator: seed must be an integer within ±(2**53 - 1) or a bigint, got ${seed}`);
      }
      big = BigInt(seed);
    }
    const low32 = Number(BigInt.asUintN(64, big) & 0xffffffffn);
    const s = this.state;
    s[0] = low32;
    for (let i = 1; i < N; i++) {
      const prev = s[i - 1] ^ (s[i - 1] >>> 30);
      s[i] = Math.imul(1812433253, prev) + i;
    }
    this.index = N;
    this.cachedNormal = undefined;
  }

  private twist(): void {
    const s = this.state;
    let k = 0;
    for (; k < N - M; k++) {
      const y = (s[k] & UPPER_MASK) | (s[k + 1] & LOWER_MASK);
      s[k] = s[k + M] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    for (; k < N - 1; k++) {
      const y = (s[k] & UPPER_MASK) | (s[k + 1] & LOWER_MASK);
      s[k] = s[k + M - N] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    const y = (s[N - 1] & UPPER_MASK) | (s[0] & LOWER_MASK);
    s[N - 1] = s[M - 1] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    this.index = 0;
  }

  /** The next raw 32-bit draw (generator->random()). */
  nextUint32(): number {
    if (this.index >= N) this.twist();
    let y = this.state[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** uniform_real_distribution<float>(0, 1): low 24 bits of one draw. */
  private uniformFloat(): number {
    return (this.nextUint32() & 0xffffff) * INV_2_24;
  }

  /** uniform_real_distribution<double>(0, 1): low 53 bits of random64() = (first << 32) | second. */
  private uniformDouble(): number {
    const hi = this.nextUint32() & 0x1fffff;
    const lo = this.nextUint32();
    return (hi * 4294967296 + lo) * INV_2_53;
  }

  /** normal_distribution<double>(0, 1) with torch's per-generator cache of the second value. */
  private normalDouble(): number {
    if (this.cachedNormal !== undefined) {
      const v = this.cachedNormal;
      this.cachedNormal = undefined;
      return v;
    }
    const u1 = this.uniformDouble();
    const u2 = this.uniformDouble();
    const r = Math.sqrt(-2 * Math.log(1 - u2));
    const theta = 2 * Math.PI * u1;
    this.cachedNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** torch.randn(n, generator=this) as float32; the stream continues across calls. */
  randn(n: number): Float32Array {
    if (!Number.isInteger(n) || n < 0) {
      throw new RangeError(`TorchGenerator.randn: n must be a non-negative integer, got ${n}`);
    }
    const out = new Float32Array(n);
    if (n < 16) {
      for (let i = 0; i < n; i++) out[i] = this.normalDouble();
      return out;
    }
    for (let i = 0; i < n; i++) out[i] = this.uniformFloat();
    for (let i = 0; i + 16 <= n; i += 16) boxMuller16(out, i);
    if (n % 16 !== 0) {
      const start = n - 16;
      for (let i = start; i < n; i++) out[i] = this.uniformFloat();
      boxMuller16(out, start);
    }
    return out;
  }
}

/**
 * normal_fill_16_AVX2: Box-Muller on 8 pairs (j, j + 8) with float32 vector arithmetic and the
 * Cephes-style log/sincos polynomials of ATen's avx_mathfun.h (not libm). The compiled torch wheels
 * fuse each multiply that feeds an add into one FMA, so we do the same; plain libm-style maths
 * would be off by one ulp for about one number in six.
 */
function boxMuller16(data: Float32Array, at: number): void {
  for (let j = at; j < at + 8; j++) {
    const u1 = f(1 - data[j]);
    const u2 = data[j + 8];
    const radius = f(Math.sqrt(f(-2 * logF(u1))));
    sinCosF(f(TWO_PI_F * u2));
    data[j] = f(radius * cosOut);
    data[j + 8] = f(radius * sinOut);
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Float32 fused multiply-add (one rounding), for float32 inputs. */
function fmaF(a: number, b: number, c: number): number {
  const p = a * b; // exact: two 24-bit significands fit in a double
  const s = p + c;
  const r = f(s);
  if (r === s) return r;
  // s may be a rounding of the exact sum; that only matters when s lands on a float midpoint.
  const bv = s - p;
  const err = p - (s - bv) + (c - bv);
  if (err === 0) return r;
  const d = s - r;
  const other = r + 2 * d;
  if (f(other) !== other) return r;
  return (err > 0) === (d > 0) ? other : r;
}

const LOG_P = [
  7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
  2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
].map(f);
const LOG_Q1 = f(-2.1219444e-4);
const LOG_Q2 = f(0.693359375);
const SQRTHF = f(0.707106781186547524);

/** log256_ps for one lane; x in (0, 1]. */
function logF(x0: number): number {
  f32[0] = x0;
  const bits = u32[0];
  let e = f((bits >>> 23) - 0x7f + 1);
  u32[0] = (bits & ~0x7f800000) | 0x3f000000; // mantissa in [0.5, 1)
  let x = f32[0];
  if (x < SQRTHF) {
    e = f(e - 1);
    x = f(f(x - 1) + x);
  } else {
    x = f(x - 1);
  }
  const z = f(x * x);
  let y = LOG_P[0];
  for (let i = 1; i < LOG_P.length; i++) y = fmaF(y, x, LOG_P[i]);
  y = f(y * x);
  y = fmaF(y, z, f(e * LOG_Q1));
  y = fmaF(z, -0.5, y);
  x = f(x + y);
  return fmaF(e, LOG_Q2, x);
}

const FOPI = f(1.27323954473516);
const DP1 = f(-0.78515625);
const DP2 = f(-2.4187564849853515625e-4);
const DP3 = f(-3.77489497744594108e-8);
const COS_P0 = f(2.443315711809948e-5);
const COS_P1 = f(-1.388731625493765e-3);
const COS_P2 = f(4.166664568298827e-2);
const SIN_P0 = f(-1.9515295891e-4);
const SIN_P1 = f(8.3321608736e-3);
const SIN_P2 = f(-1.6666654611e-1);
let sinOut = 0;
let cosOut = 0;

/** sincos256_ps for one lane; theta in [0, 2*pi). Results in sinOut / cosOut (no allocation). */
function sinCosF(theta: number): void {
  const x0 = Math.abs(theta);
  let j = Math.trunc(f(x0 * FOPI));
  j = (j + 1) & ~1;
  const y = j;
  const sinSign = (theta < 0 ? 1 : 0) ^ ((j & 4) >> 2);
  const cosSign = (~(j - 2) & 4) >> 2;
  const sinUsesSinPoly = (j & 2) === 0;
  let x = fmaF(y, DP1, x0);
  x = fmaF(y, DP2, x);
  x = fmaF(y, DP3, x);
  const z = f(x * x);
  let yc = fmaF(COS_P0, z, COS_P1);
  yc = fmaF(yc, z, COS_P2);
  yc = f(yc * z);
  yc = fmaF(yc, z, -f(z * 0.5));
  yc = f(yc + 1);
  let ys = fmaF(SIN_P0, z, SIN_P1);
  ys = fmaF(ys, z, SIN_P2);
  ys = f(ys * z);
  ys = fmaF(ys, x, x);
  const s = sinUsesSinPoly ? ys : yc;
  const c = sinUsesSinPoly ? yc : ys;
  sinOut = sinSign ? -s : s;
  cosOut = cosSign ? -c : c;
}

/** A random seed in [0, 2**32), as AUTOMATIC1111 picks one when the seed is -1. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 4294967296);
}
