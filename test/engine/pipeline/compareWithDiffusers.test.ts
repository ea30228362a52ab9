// The diffusers comparison tool (test/fidelity) on a reference it can check without diffusers:
// the engine's own output in the reference format must compare equal, and a reference one pixel
// level or 1e-3 in one latent away must not.

import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { Engine } from '../../../src/engine/engine';
import { readNpy } from '../../../src/engine/image/npy';
import { ensureFixture } from '../../fixtures/tinyPipeline';
import { compareWithDiffusers } from '../../fidelity/compareWithDiffusers';

describe('compareWithDiffusers (the fidelity tool)', function () {
  this.timeout(120000);

  it('passes the engine\'s own output and catches a pixel or a latent that differs', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-selfref-'));
    const engine = new Engine({ provider: 'cpu', threads: 1 });
    try {
      const dirs = { 'tiny-a': await ensureFixture('tiny-a'), 'tiny-b': await ensureFixture('tiny-b') };
      const base = { seed: 3, steps: 4, guidance: 7.5, prompt: 'a plant cell', negative: 'blurry', width: 64, height: 48 };
      const cases = [];
      for (const [fixture, scheduler] of [['tiny-a', 'euler-a'], ['tiny-b', 'dpmpp-2m-karras']] as const) {
        const c = { ...base, fixture, scheduler };
        const npy = path.join(tmp, `${fixture}.npy`);
        const r = await engine.generate({ model: dirs[fixture], prompt: c.prompt, negativePrompt: c.negative, seed: c.seed, steps: c.steps,
          guidance: c.guidance, width: c.width, height: c.height, scheduler, outFile: path.join(tmp, `${fixture}.png`), saveLatents: npy });
        const latents = (await readNpy(npy)).data;
        const pixels = await sharp(r.images[0].path).removeAlpha().raw().toBuffer();
        cases.push({ ...c, latents: Buffer.from(latents.buffer, latents.byteOffset, latents.byteLength).toString('base64'), pixels: pixels.toString('base64') });
      }
      const ref = { versions: {}, fixtures: { 'tiny-a': path.basename(dirs['tiny-a']), 'tiny-b': path.basename(dirs['tiny-b']) }, cases };
      const same = await compareWithDiffusers(ref, () => undefined);
      assert.deepStrictEqual(same.map((r) => [r.ok, r.latentsMaxDiff, r.pixelsDiffering]), [[true, 0, 0], [true, 0, 0]]);

      const px = Buffer.from(cases[0].pixels, 'base64');
      px[100] = px[100] > 127 ? px[100] - 2 : px[100] + 2;
      const lat = Buffer.from(cases[1].latents, 'base64');
      lat.writeFloatLE(lat.readFloatLE(8) + 1e-3, 8);
      const off = { ...ref, cases: [{ ...cases[0], pixels: px.toString('base64') }, { ...cases[1], latents: lat.toString('base64') }] };
      const diff = await compareWithDiffusers(off, () => undefined);
      assert.deepStrictEqual(diff.map((r) => r.ok), [false, false]);
      assert.strictEqual(diff[0].pixelsDiffering, 1);
      assert.ok(Math.abs(diff[1].latentsMaxDiff - 1e-3) < 1e-6);

      await assert.rejects(compareWithDiffusers({ ...ref, fixtures: { 'tiny-a': 'tiny-a-gold' } }, () => undefined), /made with fixture tiny-a-gold.*run diffusers_reference\.py again/);
    } finally {
      await engine.dispose();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('runs img2img and inpainting cases with the reference\'s own init image and mask', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-selfref-i2i-'));
    const engine = new Engine({ provider: 'cpu', threads: 1 });
    try {
      const dirs = { 'tiny-b': await ensureFixture('tiny-b'), 'tiny-inpaint': await ensureFixture('tiny-inpaint') };
      const px = Buffer.alloc(70 * 50 * 3).map((_, i) => (i * 11) % 256);
      const initPng = await sharp(px, { raw: { width: 70, height: 50, channels: 3 } }).png().toBuffer();
      const maskPng = await sharp(Buffer.alloc(70 * 50).map((_, i) => (i % 70 >= 35 ? 255 : 0)), { raw: { width: 70, height: 50, channels: 1 } }).png().toBuffer();
      fs.writeFileSync(path.join(tmp, 'init.png'), initPng);
      fs.writeFileSync(path.join(tmp, 'mask.png'), maskPng);
      const base = { seed: 5, steps: 4, guidance: 7.5, prompt: 'a plant cell', negative: 'blurry', initImage: 'init.png' };
      const cases = [];
      for (const c of [
        { ...base, mode: 'img2img' as const, fixture: 'tiny-b', scheduler: 'euler-a', strength: 0.6, width: null, height: null },
        { ...base, mode: 'inpaint' as const, fixture: 'tiny-inpaint', scheduler: 'dpmpp-2m', strength: 1, mask: 'mask.png', width: 64, height: 48 },
      ]) {
        const npy = path.join(tmp, `${c.fixture}.npy`);
        const r = await engine.generate({ model: dirs[c.fixture as keyof typeof dirs], prompt: c.prompt, negativePrompt: c.negative, seed: c.seed, steps: c.steps,
          guidance: c.guidance, width: c.width ?? undefined, height: c.height ?? undefined, scheduler: c.scheduler, initImage: path.join(tmp, 'init.png'),
          strength: c.strength, mask: 'mask' in c ? path.join(tmp, 'mask.png') : undefined, outFile: path.join(tmp, `${c.fixture}.png`), saveLatents: npy });
        const latents = (await readNpy(npy)).data;
        const pixels = await sharp(r.images[0].path).removeAlpha().raw().toBuffer();
        cases.push({ ...c, latents: Buffer.from(latents.buffer, latents.byteOffset, latents.byteLength).toString('base64'), pixels: pixels.toString('base64') });
      }
      const ref = {
        versions: {},
        fixtures: { 'tiny-b': path.basename(dirs['tiny-b']), 'tiny-inpaint': path.basename(dirs['tiny-inpaint']) },
        inputs: { 'init.png': initPng.toString('base64'), 'mask.png': maskPng.toString('base64') },
        cases,
      };
      const lines: string[] = [];
      const same = await compareWithDiffusers(ref, (l) => lines.push(l));
      assert.deepStrictEqual(same.map((r) => [r.ok, r.latentsMaxDiff, r.pixelsDiffering]), [[true, 0, 0], [true, 0, 0]]);
      assert.match(lines[0], /^ok {3}img2img tiny-b euler-a .* own size strength 0\.6/);
      assert.match(lines[1], /^ok {3}inpaint tiny-inpaint dpmpp-2m .* 64x48 strength 1/);
      // Another mask is another picture: the tool really passes it on.
      const otherMask = await sharp(Buffer.alloc(70 * 50).map((_, i) => (i % 70 < 35 ? 255 : 0)), { raw: { width: 70, height: 50, channels: 1 } }).png().toBuffer();
      const diff = await compareWithDiffusers({ ...ref, inputs: { ...ref.inputs, 'mask.png': otherMask.toString('base64') }, cases: [cases[1]] }, () => undefined);
      assert.strictEqual(diff[0].ok, false);
    } finally {
      await engine.dispose();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
