// The port of Pillow's LANCZOS resize and RGB -> L conversion, against Pillow's own output
// (pilResize.golden.json, written by Pillow 12.3 from the source picture its `source` formula
// describes): diffusers resizes init images and masks with exactly these.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { pilResizeLanczos } from '../../../src/engine/image/pilResize';
import { rgbToLuma } from '../../../src/engine/image/initImage';
import { binarizedMask } from '../../../src/engine/pipeline/imageInputs';

interface Golden {
  pillow: string;
  resize: { from: [number, number]; to: [number, number]; rgb: number[] }[];
  luma: { size: [number, number]; L: number[] };
  mask: { from: [number, number]; to: [number, number]; binary: number[] };
}

const golden = JSON.parse(readFileSync(path.join(__dirname, 'pilResize.golden.json'), 'utf8')) as Golden;

/** The golden file's source picture: (x*37 + y*91 + c*53 + x*y*7) % 256. */
function source(w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) out[(y * w + x) * 3 + c] = (x * 37 + y * 91 + c * 53 + x * y * 7) % 256;
  return out;
}

describe(`Pillow's resampler, ported (golden output of Pillow ${golden.pillow})`, () => {
  for (const c of golden.resize) {
    it(`LANCZOS ${c.from.join('x')} -> ${c.to.join('x')} gives Pillow's pixels exactly`, () => {
      const [w, h] = c.from;
      const [ow, oh] = c.to;
      assert.deepEqual(Array.from(pilResizeLanczos(source(w, h), w, h, 3, ow, oh)), c.rgb);
    });
  }

  it('the same size is a copy (Image.resize returns self.copy())', () => {
    const src = source(9, 7);
    const out = pilResizeLanczos(src, 9, 7, 3, 9, 7);
    assert.deepEqual(out, src);
    assert.notEqual(out, src);
  });

  it('a flat colour stays flat; one channel (L) works too', () => {
    const flat = new Uint8Array(20 * 10).fill(77);
    assert.ok(pilResizeLanczos(flat, 20, 10, 1, 13, 6).every((v) => v === 77));
  });

  it('convert("L") is ITU-R 601-2 luma with Pillow\'s integer rounding', () => {
    const [w, h] = golden.luma.size;
    assert.deepEqual(Array.from(rgbToLuma(source(w, h))), golden.luma.L);
    assert.deepEqual(Array.from(rgbToLuma(Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 128, 128, 128]))), [76, 150, 29, 128]);
  });

  it('a mask resized, converted to L and binarised at 0.5 as diffusers\' mask processor does', () => {
    const [w, h] = golden.mask.from;
    const [ow, oh] = golden.mask.to;
    const resized = pilResizeLanczos(source(w, h), w, h, 3, ow, oh);
    assert.deepEqual(Array.from(binarizedMask(resized)), golden.mask.binary);
  });
});
