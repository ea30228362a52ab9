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
});
