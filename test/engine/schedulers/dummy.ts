// The fixtures of diffusers' tests/schedulers/test_schedulers.py (SchedulerCommonTest), so that
// the golden numbers of its scheduler tests can be checked here. Samples are flat float32 arrays
// in NCHW order with shape (4, 3, 8, 8), as torch lays them out.

const f32 = Math.fround;

export const DUMMY_SHAPE = [4, 3, 8, 8] as const;
export const DUMMY_SIZE = 4 * 3 * 8 * 8;

/**
 * torch.arange(768) (optionally flipped), reshaped to (3, 8, 8, 4), divided by 768 and permuted
 * to (4, 3, 8, 8): element [b, c, h, w] is value(c*256 + h*32 + w*4 + b) / 768.
 */
function arangeSample(flip: boolean): Float32Array {
  const [batch, channels, height, width] = DUMMY_SHAPE;
  const out = new Float32Array(DUMMY_SIZE);
  let i = 0;
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < channels; c++) {
      for (let h = 0; h < height; h++) {
        for (let w = 0; w < width; w++) {
          const source = ((c * height + h) * width + w) * batch + b;
          const value = flip ? DUMMY_SIZE - 1 - source : source;
          out[i++] = f32(value / DUMMY_SIZE);
        }
      }
    }
  }
  return out;
}

/** diffusers' `dummy_sample_deter`. */
export function dummySampleDeter(): Float32Array {
  return arangeSample(false);
}

/** diffusers' `dummy_noise_deter` (the same arange, flipped before the reshape). */
export function dummyNoiseDeter(): Float32Array {
  return arangeSample(true);
}

/**
 * Stands in for diffusers' `dummy_sample` (torch.rand): uniform values in [0, 1) from a fixed
 * seed. The values differ from torch.rand's, so use it only where diffusers compares two runs
 * with each other, never against a golden number.
 */
export function dummySample(seed = 0): Float32Array {
  let state = (seed ^ 0x9e3779b9) >>> 0;
  const out = new Float32Array(DUMMY_SIZE);
  for (let i = 0; i < DUMMY_SIZE; i++) {
    // xorshift32: small, deterministic, good enough for test data.
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    out[i] = f32(state / 2 ** 32);
  }
  return out;
}

/** diffusers' dummy model: `sample * t / (t + 1)` in float32 (t cast to the sample's dtype). */
export function dummyModel(sample: Float32Array, t: number): Float32Array {
  const tf = f32(t);
  const denominator = f32(tf + 1);
  const out = new Float32Array(sample.length);
  for (let i = 0; i < sample.length; i++) out[i] = f32(f32(sample[i] * tf) / denominator);
  return out;
}

/** `a * s` elementwise in float32 (e.g. diffusers' `residual = 0.1 * sample`). */
export function scaled(a: Float32Array, s: number): Float32Array {
  const sf = f32(s);
  return a.map((v) => f32(v * sf));
}

/** `a + s` elementwise in float32 (e.g. diffusers' `residual + 0.2`). */
export function shifted(a: Float32Array, s: number): Float32Array {
  const sf = f32(s);
  return a.map((v) => f32(v + sf));
}

/** torch.sum(torch.abs(x)).item(), accumulated in double (close enough to torch's float sum). */
export function absSum(a: Float32Array): number {
  let total = 0;
  for (let i = 0; i < a.length; i++) total += Math.abs(a[i]);
  return total;
}

/** torch.mean(torch.abs(x)).item(). */
export function absMean(a: Float32Array): number {
  return absSum(a) / a.length;
}

/** Sum of |a - b|, diffusers' "outputs are identical" measure. */
export function absDiffSum(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`absDiffSum: lengths differ (${a.length} vs ${b.length})`);
  let total = 0;
  for (let i = 0; i < a.length; i++) total += Math.abs(a[i] - b[i]);
  return total;
}
