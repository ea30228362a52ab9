// Live previews through a TAESD-like decoder, against the real onnxruntime-node: the preview is a
// real (small) picture of the predicted image, not the latent approximation; a decoder that cannot
// load is said once and the approximation takes over; the decoder stays warm between jobs.

import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import type { ProgressEvent } from '../../../src/core/protocol';
import { Engine } from '../../../src/engine/engine';
import { PREVIEW_MAX_SIDE } from '../../../src/engine/pipeline/previewDecoder';
import { ensureFixture } from '../../fixtures/tinyPipeline';
import { writeTinyTaesd } from '../../fixtures/tinyTaesd';

async function pixels(png: Buffer, width: number, height: number): Promise<Buffer> {
  return sharp(png).removeAlpha().resize(width, height, { kernel: 'cubic' }).raw().toBuffer();
}

function meanAbsDiff(a: Buffer, b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

describe('live previews through a preview decoder (TAESD)', function () {
  this.timeout(120000);
  let model: string;
  let tmp: string;
  let taesd: string;
  let engine: Engine;

  before(async () => {
    model = await ensureFixture('tiny-a'); // VAE factor 4
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-taesd-'));
    taesd = await writeTinyTaesd(path.join(tmp, 'taesd'));
    // keepSessions: a warm job loads nothing at all, so its load time is the decoder's alone.
    engine = new Engine({ provider: 'cpu', threads: 1, keepSessions: true });
  });
  after(async () => {
    await engine.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function run(extra: object, name: string) {
    const events: ProgressEvent[] = [];
    const warnings: string[] = [];
    const r = await engine.generate(
      { model, prompt: 'a plant cell', seed: 3, steps: 4, width: 128, height: 128, previewEvery: 1, scheduler: 'euler', outFile: path.join(tmp, `${name}.png`), ...extra },
      { progress: (e) => events.push(e), warn: (m) => warnings.push(m) },
    );
    const previews = events.filter((e) => e.preview).map((e) => e.preview!);
    return { r, previews, warnings };
  }

  it('decodes previews into a picture at the image\'s shape, close to the final image at the last step', async () => {
    const approx = await run({}, 'approx');
    const fast = await run({ previewDecoder: taesd }, 'taesd');
    assert.deepStrictEqual(fast.warnings, []);
    assert.strictEqual(fast.previews.length, 4);
    // 128x128 image = 32x32 latents: the approximation shows 64x64 (latents x2); the decoder (factor 8) gives 256, the cap.
    assert.deepStrictEqual([approx.previews[3].width, approx.previews[3].height], [64, 64]);
    assert.deepStrictEqual([fast.previews[3].width, fast.previews[3].height], [PREVIEW_MAX_SIDE, PREVIEW_MAX_SIDE]);
    const final = await pixels(fs.readFileSync(fast.r.images[0].path), 64, 64);
    const last = await pixels(Buffer.from(fast.previews[3].pngBase64, 'base64'), 64, 64);
    const first = await pixels(Buffer.from(fast.previews[0].pngBase64, 'base64'), 64, 64);
    const d = meanAbsDiff(last, final);
    // The decoder's colours need latents undivided (scaling_factor 1.0 from its config): divided
    // by 0.18215 they saturate, and the preview would be far from the image.
    console.log(`      · last TAESD preview vs final image: mean abs diff ${d.toFixed(2)}`);
    assert.ok(d < 12, `last preview vs final image: mean abs diff ${d.toFixed(2)} of 255`);
    assert.ok(meanAbsDiff(first, final) > d, 'the previews converge on the image');
    assert.ok(fast.r.timings.loadMs > 0, 'loading the decoder counts as load time');
    const again = await run({ previewDecoder: taesd, seed: 4 }, 'taesd-warm');
    assert.strictEqual(again.r.timings.loadMs, 0, 'the decoder stays warm: the second job loads nothing');
  });

  it('takes the vae_decoder folder itself, or a whole pipeline\'s VAE (with its own scaling factor)', async () => {
    const inner = await run({ previewDecoder: path.join(taesd, 'vae_decoder') }, 'inner');
    assert.deepStrictEqual(inner.warnings, []);
    assert.strictEqual(inner.previews[0].width, PREVIEW_MAX_SIDE);
    // The pipeline's own VAE as the preview decoder: the last preview is the final image, resized.
    const own = await run({ previewDecoder: model }, 'own-vae');
    assert.deepStrictEqual(own.warnings, []);
    assert.strictEqual(own.previews[3].width, 128);
    const final = await pixels(fs.readFileSync(own.r.images[0].path), 128, 128);
    const last = await pixels(Buffer.from(own.previews[3].pngBase64, 'base64'), 128, 128);
    assert.ok(meanAbsDiff(last, final) < 1, 'same decoder, same latents: same picture');
  });

  it('falls back to the approximation with one clear warning when the decoder cannot load', async () => {
    const missing = path.join(tmp, 'no-such-taesd');
    const a = await run({ previewDecoder: missing }, 'missing-1');
    assert.strictEqual(a.warnings.length, 1);
    assert.match(a.warnings[0], /^Live previews use the quick approximation: .*no-such-taesd holds no preview decoder: expected vae_decoder\/model\.onnx/);
    assert.strictEqual(a.previews.length, 4);
    assert.strictEqual(a.previews[0].width, 64, 'approximate previews');
    assert.strictEqual(a.r.images.length, 1, 'the image is made all the same');
    const b = await run({ previewDecoder: missing }, 'missing-2');
    assert.deepStrictEqual(b.warnings, [], 'said once, not on every job');

    const broken = path.join(tmp, 'broken');
    fs.mkdirSync(path.join(broken, 'vae_decoder'), { recursive: true });
    fs.writeFileSync(path.join(broken, 'vae_decoder', 'model.onnx'), 'not a model at all, just text');
    const c = await run({ previewDecoder: broken }, 'broken');
    assert.strictEqual(c.warnings.length, 1);
    assert.match(c.warnings[0], /^Live previews use the quick approximation: .*broken/);
    assert.strictEqual(c.previews[0].width, 64);
  });

  it('loads no decoder when the job asks for no previews', async () => {
    const fresh = new Engine({ provider: 'cpu', threads: 1 });
    try {
      const warnings: string[] = [];
      const r = await fresh.generate(
        { model, prompt: 'x', seed: 1, steps: 2, width: 64, height: 64, previewEvery: 0, previewDecoder: path.join(tmp, 'nothing-here'), outFile: path.join(tmp, 'nopreview.png') },
        { warn: (m) => warnings.push(m) },
      );
      assert.strictEqual(r.images.length, 1);
      assert.deepStrictEqual(warnings, [], 'no previews: the decoder is not even looked for');
    } finally {
      await fresh.dispose();
    }
  });
});
