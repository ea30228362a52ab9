import * as assert from 'node:assert/strict';
import { float16ToFloat32, float32ToFloat16, fromFloat16Bits, toFloat16Bits } from '../../../src/engine/onnx/float16';

describe('float16 conversion', () => {
  it('matches numpy astype(float16) on known values', () => {
    // np.array([...], dtype=np.float32).astype(np.float16).view(np.uint16)
    const cases: [number, number][] = [
      [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.1, 0x2e66], [1 / 3, 0x3555],
      [65504, 0x7bff], [65519, 0x7bff], [65520, 0x7c00], [1e6, 0x7c00], [-Infinity, 0xfc00],
      [6.103515625e-5, 0x0400], [5.960464477539063e-8, 0x0001], [2.98e-8, 0x0000], [3e-8, 0x0001],
      [1.0009765625, 0x3c01], [1.00048828125, 0x3c00] /* tie -> even */, [1.00146484375, 0x3c02] /* tie -> even */,
      [0.18215, 0x31d4], [-7.5, 0xc780],
    ];
    for (const [v, bits] of cases) assert.equal(toFloat16Bits(v), bits, `${v}`);
    assert.ok(Number.isNaN(fromFloat16Bits(toFloat16Bits(NaN))));
  });

  it('round-trips every float16 value exactly', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = float32ToFloat16(float16ToFloat32(all));
    for (let h = 0; h < 65536; h++) {
      const isNaN = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      if (!isNaN) assert.equal(back[h], h, `0x${h.toString(16)}`);
    }
  });

  it('rounds random float32 values to the nearest float16', () => {
    let s = 12345;
    const src = new Float32Array(20000).map(() => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return ((s / 2 ** 32) - 0.5) * 2 ** ((s % 36) - 26);
    });
    const h = float32ToFloat16(src);
    const back = float16ToFloat32(h);
    for (let i = 0; i < src.length; i++) {
      const err = Math.abs(back[i] - src[i]);
      for (const n of [h[i] - 1, h[i] + 1]) {
        if ((n & 0x7fff) >= 0x7c00 || n < 0 || n > 0xffff) continue;
        if (Math.sign(fromFloat16Bits(n)) !== Math.sign(back[i]) && back[i] !== 0) continue;
        assert.ok(err <= Math.abs(fromFloat16Bits(n) - src[i]), `${src[i]} -> ${back[i]}`);
      }
    }
  });

  it('works on subarrays that do not start at the beginning of their buffer', () => {
    const big = new Float32Array([9, 1, 2, 3]);
    assert.deepEqual([...float32ToFloat16(big.subarray(1))], [0x3c00, 0x4000, 0x4200]);
  });
});
