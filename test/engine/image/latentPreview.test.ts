import * as assert from 'assert';
import sharp from 'sharp';
import { decodedToRgb, latentsToRgb, previewPng, SD15_LATENT_RGB_FACTORS } from '../../../src/engine/image/latentPreview';

// Float32 samples and what torch 1.13 + numpy give for diffusers' postprocess
// ((x / 2 + 0.5).clamp(0, 1), then (x * 255).round().astype(uint8)). The first eight land exactly
// on .5 after * 255, where numpy rounds half to even (64.5 -> 64, not 65).
const SAMPLES = [
  -0.4941176176071167, -0.29803919792175293, -0.10196077823638916, 0.09411764144897461, 0.2901960611343384,
  0.48627448081970215, 0.6823529005050659, 0.8784313201904297, 0.3561003804206848, -0.5985545516014099,
  -1.1934688091278076, -1.2570281028747559, 0.8145025968551636, 1.073164463043213, 0.27725303173065186,
  0.5966910719871521, 0.11342497915029526, 1.1311882734298706, 0.821219265460968, -1.2928799390792847, -1.0, 1.0,
  0.0, -2.0, 2.0, 9.99999993922529e-9, -9.99999993922529e-9,
];
const EXPECTED = [
  64, 90, 114, 140, 164, 190, 214, 240, 173, 51, 0, 0, 231, 255, 163, 204, 142, 255, 232, 0, 0, 255, 128, 0, 255, 128, 128,
];

describe('decodedToRgb', () => {
  it('matches diffusers/numpy post-processing, half-to-even ties included', () => {
    const n = SAMPLES.length;
    // One row of n pixels; all three channels carry the same values.
    const chw = new Float32Array(3 * n);
    for (let c = 0; c < 3; c++) chw.set(SAMPLES, c * n);
    const rgb = decodedToRgb(chw, 1, n);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 3; c++) assert.strictEqual(rgb[i * 3 + c], EXPECTED[i], `sample ${i} (${SAMPLES[i]}) channel ${c}`);
    }
  });

  it('moves channels from CHW to HWC', () => {
    // 2x2 image: R plane all -1, G plane all 0, B plane all 1.
    const chw = new Float32Array([-1, -1, -1, -1, 0, 0, 0, 0, 1, 1, 1, 1]);
    assert.deepStrictEqual([...decodedToRgb(chw, 2, 2)], [0, 128, 255, 0, 128, 255, 0, 128, 255, 0, 128, 255]);
  });

  it('rejects a buffer that is too small', () => {
    assert.throws(() => decodedToRgb(new Float32Array(5), 2, 2), /3x2x2/);
  });
});

describe('latent preview', () => {
  it('maps each latent pixel through the SD1.5 factors', () => {
    const h = 1;
    const w = 2;
    // pixel 0: latent (1,0,0,0); pixel 1: latent (0,0,0,1)
    const lat = new Float32Array([1, 0, 0, 0, 0, 0, 0, 1]);
    const rgb = latentsToRgb(lat, 4, h, w);
    const to8 = (v: number) => Math.round(Math.min(1, Math.max(0, (v + 1) / 2)) * 255);
    assert.deepStrictEqual(
      [...rgb],
      [...SD15_LATENT_RGB_FACTORS[0].map(to8), ...SD15_LATENT_RGB_FACTORS[3].map(to8)],
    );
  });

  it('previewPng gives a small PNG of the latent size', async () => {
    const h = 64;
    const w = 80;
    const lat = new Float32Array(4 * h * w).map((_, i) => Math.sin(i / 50));
    const p = await previewPng(lat, h, w);
    assert.deepStrictEqual([p.width, p.height], [w, h]);
    const buf = Buffer.from(p.pngBase64, 'base64');
    const meta = await sharp(buf).metadata();
    assert.deepStrictEqual([meta.format, meta.width, meta.height], ['png', w, h]);
    assert.ok(buf.length < 40_000);
    const { data } = await sharp(buf).raw().toBuffer({ resolveWithObject: true });
    assert.ok(Buffer.from(latentsToRgb(lat, 4, h, w)).equals(data));
  });

  it('enlarges tiny latents so they are visible', async () => {
    const p = await previewPng(new Float32Array(4 * 8 * 8), 8, 8);
    assert.deepStrictEqual([p.width, p.height], [16, 16]);
  });
});
