// The pixel inputs of img2img and inpainting: reading images as diffusers' load_image does (RGB,
// orientation applied, alpha dropped, 16-bit to 8-bit), VaeImageProcessor's size and [-1, 1]
// normalisation, the mask processor's grey + binarise, masked image, and the mask at latent size
// through torch's nearest interpolation.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import sharp from 'sharp';
import { readRgbImage } from '../../../src/engine/image/initImage';
import { binarizedMask, interpolateNearest, maskedImage, nearestIndex, normalizedImage, prepareImageInputs } from '../../../src/engine/pipeline/imageInputs';

const f32 = Math.fround;

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

/** A 16-bit PNG (sharp writes 8-bit ones only): channels 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA. */
function png16(w: number, h: number, channels: 1 | 2 | 3 | 4, values: number[]): Buffer {
  const colourType = { 1: 0, 2: 4, 3: 2, 4: 6 }[channels];
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 16;
  ihdr[9] = colourType;
  const rows: Buffer[] = [];
  for (let y = 0; y < h; y++) {
    const row = Buffer.alloc(1 + w * channels * 2);
    for (let i = 0; i < w * channels; i++) row.writeUInt16BE(values[y * w * channels + i], 1 + 2 * i);
    rows.push(row);
  }
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

describe('img2img / inpainting pixel inputs', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-imginputs-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const file = (name: string) => path.join(dir, name);
  async function raw(name: string, w: number, h: number, channels: 1 | 2 | 3 | 4, data: number[], format: 'png' | 'jpeg' = 'png') {
    const img = sharp(Buffer.from(data), { raw: { width: w, height: h, channels } });
    await (format === 'png' ? img.png() : img.jpeg({ quality: 95 })).toFile(file(name));
    return file(name);
  }

  describe('reading (load_image: RGB)', () => {
    it('RGB, grey, grey + alpha, RGBA and palette PNGs become 8-bit RGB; alpha is dropped, not blended', async () => {
      assert.deepEqual(Array.from((await readRgbImage(await raw('rgb.png', 2, 1, 3, [10, 20, 30, 200, 100, 0]), '--init-image')).rgb), [10, 20, 30, 200, 100, 0]);
      assert.deepEqual(Array.from((await readRgbImage(await raw('grey.png', 2, 1, 1, [7, 250]), '--mask')).rgb), [7, 7, 7, 250, 250, 250]);
      assert.deepEqual(Array.from((await readRgbImage(await raw('ga.png', 2, 1, 2, [90, 0, 180, 255]), '--mask')).rgb), [90, 90, 90, 180, 180, 180]);
      const rgba = await readRgbImage(await raw('rgba.png', 2, 1, 4, [255, 255, 255, 0, 1, 2, 3, 128]), '--init-image');
      assert.deepEqual(Array.from(rgba.rgb), [255, 255, 255, 1, 2, 3]);
      await sharp(Buffer.from([255, 0, 0, 0, 0, 255]), { raw: { width: 2, height: 1, channels: 3 } }).png({ palette: true }).toFile(file('p.png'));
      assert.deepEqual(Array.from((await readRgbImage(file('p.png'), '--init-image')).rgb), [255, 0, 0, 0, 0, 255]);
    });

    it('16-bit PNGs keep the high byte (PIL\'s RGB;16B), greyscale included', async () => {
      fs.writeFileSync(file('rgb16.png'), png16(2, 1, 3, [0x1234, 0xff00, 0x00ff, 0x8000, 0x7fff, 0xffff]));
      assert.deepEqual(Array.from((await readRgbImage(file('rgb16.png'), '--init-image')).rgb), [0x12, 0xff, 0x00, 0x80, 0x7f, 0xff]);
      fs.writeFileSync(file('g16.png'), png16(3, 1, 1, [0x7fff, 0x8000, 300]));
      assert.deepEqual(Array.from((await readRgbImage(file('g16.png'), '--mask')).rgb), [0x7f, 0x7f, 0x7f, 0x80, 0x80, 0x80, 1, 1, 1]);
      fs.writeFileSync(file('ga16.png'), png16(1, 1, 2, [0xc000, 0]));
      assert.deepEqual(Array.from((await readRgbImage(file('ga16.png'), '--mask')).rgb), [0xc0, 0xc0, 0xc0]);
    });

    it('JPEGs, with their EXIF orientation applied (exif_transpose)', async () => {
      const w = 16;
      const h = 8;
      const data = Array.from({ length: w * h * 3 }, (_, i) => (Math.floor(i / 3) % w < 8 ? 20 : 230));
      await sharp(Buffer.from(data), { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toFile(file('rot.jpg'));
      const img = await readRgbImage(file('rot.jpg'), '--init-image');
      assert.deepEqual([img.width, img.height], [h, w]);
      // Rotated 90 degrees clockwise: the dark left half is now on top.
      assert.ok(img.rgb[0] < 60 && img.rgb[img.rgb.length - 1] > 190);
    });

    it('a missing file, a folder and a non-image are errors that name the option and the file', async () => {
      await assert.rejects(readRgbImage(file('none.png'), '--init-image'), /--init-image .*none\.png does not exist/);
      await assert.rejects(readRgbImage(dir, '--mask'), /--mask .* is not a file/);
      fs.writeFileSync(file('text.png'), 'not an image');
      await assert.rejects(readRgbImage(file('text.png'), '--init-image'), /--init-image .*text\.png can't be read as an image/);
    });
  });

  describe('preprocessing (VaeImageProcessor)', () => {
    it('8-bit / 255 in float32, then 2x - 1, laid out [3, H, W]', () => {
      const img = normalizedImage(Uint8Array.from([0, 128, 255, 1, 2, 3]));
      const n = (v: number) => f32(f32(2 * f32(v / 255)) - 1);
      // Pixels (0, 128, 255) and (1, 2, 3): red plane, green plane, blue plane.
      assert.deepEqual(Array.from(img), [n(0), n(1), n(128), n(2), n(255), n(3)]);
      assert.deepEqual([n(0), n(255)], [-1, 1]);
    });

    it('the mask: luma < 128 keeps (0), >= 128 repaints (1); colours go through convert("L")', () => {
      const rgb = Uint8Array.from([127, 127, 127, 128, 128, 128, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 255, 0]);
      // Pure red has luma 76 (kept), pure green 150 (repainted).
      assert.deepEqual(Array.from(binarizedMask(rgb)), [0, 1, 0, 1, 0, 1]);
    });

    it('the masked image is the image where the mask keeps, 0 where it repaints', () => {
      const image = Float32Array.from([0.5, -0.5, 1, -1, 0.25, 0.75]);
      assert.deepEqual(Array.from(maskedImage(image, Float32Array.from([0, 1]))), [0.5, -0, 1, -0, 0.25, 0]);
    });

    it('nearest interpolation indexes as torch does, float32 scale included', () => {
      assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => nearestIndex(i, 64, 8)), [0, 8, 16, 24, 32, 40, 48, 56]);
      assert.deepEqual([0, 1, 2, 3].map((i) => nearestIndex(i, 10, 4)), [0, 2, 5, 7]);
      assert.deepEqual([0, 1, 2].map((i) => nearestIndex(i, 7, 3)), [0, 2, 4]);
      // float32(26 / 22) * 11 = 12.999999 -> 12, where exact arithmetic gives 13.
      assert.equal(nearestIndex(11, 26, 22), 12);
      assert.deepEqual([0, 1, 2, 3].map((i) => nearestIndex(i, 2, 4)), [0, 0, 1, 1]);
      const plane = Float32Array.from({ length: 16 }, (_, i) => i);
      assert.deepEqual(Array.from(interpolateNearest(plane, 4, 4, 2, 2)), [0, 2, 8, 10]);
    });

    it('sizes: the image\'s own, rounded down to a multiple of 8 when not given; a given side resizes (Lanczos); limits', async () => {
      const w = 70;
      const h = 50;
      const px = Array.from({ length: w * h * 3 }, (_, i) => (i * 7) % 256);
      const init = await raw('init.png', w, h, 3, px);
      const own = await prepareImageInputs({ image: init }, 8, 8);
      assert.deepEqual([own.width, own.height, own.resized], [64, 48, '70x50 -> 64x48']);
      assert.equal(own.image.length, 3 * 64 * 48);
      const given = await prepareImageInputs({ image: init, width: 32 }, 8, 8);
      assert.deepEqual([given.width, given.height], [32, 48]);
      const exact = await raw('exact.png', 16, 8, 3, px.slice(0, 16 * 8 * 3));
      const same = await prepareImageInputs({ image: exact }, 8, 8);
      assert.equal(same.resized, undefined);
      assert.deepEqual(Array.from(same.image.subarray(0, 3)), px.slice(0, 9).filter((_, i) => i % 3 === 0).map((v) => f32(f32(2 * f32(v / 255)) - 1)));
      await raw('tiny.png', 5, 5, 3, Array(75).fill(0));
      await assert.rejects(prepareImageInputs({ image: file('tiny.png') }, 8, 8), /is 5x5; .* at least 8x8/);
      await sharp({ create: { width: 3000, height: 2000, channels: 3, background: '#808080' } }).png().toFile(file('big.png'));
      await assert.rejects(prepareImageInputs({ image: file('big.png') }, 8, 8), /is 3000x2000; the largest side made is 2048 pixels\. Pass --width 2048 --height 1360/);
    });

    it('with a mask: the binarised mask, the masked image and the latent mask; a mask of another size is an error', async () => {
      const w = 32;
      const h = 16;
      const init = await raw('i.png', w, h, 3, Array.from({ length: w * h * 3 }, (_, i) => (i * 13) % 256));
      // White on the right half (repaint), black on the left (keep), as a JPEG.
      const mask = await raw('m.jpg', w, h, 1, Array.from({ length: w * h }, (_, i) => (i % w >= 16 ? 255 : 0)), 'jpeg');
      const r = await prepareImageInputs({ image: init, mask }, 8, 8);
      const m = r.mask!;
      assert.deepEqual(Array.from(m.full.subarray(0, w)), Array.from({ length: w }, (_, x) => (x >= 16 ? 1 : 0)));
      assert.deepEqual(Array.from(m.latent), Array.from({ length: 8 }, (_, i) => (i % 4 >= 2 ? 1 : 0)));
      for (let c = 0; c < 3; c++) {
        assert.equal(Math.abs(m.maskedImage[c * w * h + 20]), 0);
        assert.equal(m.maskedImage[c * w * h + 3], r.image[c * w * h + 3]);
      }
      const small = await raw('small.png', 16, 16, 1, Array(256).fill(255));
      await assert.rejects(prepareImageInputs({ image: init, mask: small }, 8, 8), /--mask .*small\.png is 16x16 but --init-image .*i\.png is 32x16: the mask must be the same size as the image/);
    });
  });
});
