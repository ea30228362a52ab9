import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { Engine } from '../../../src/engine/engine';
import { readPngInfo } from '../../../src/engine/image/readImageInfo';
import { ensureFixture } from '../../fixtures/tinyPipeline';
import { writeTinyTaesd } from '../../fixtures/tinyTaesd';

// --draft (the fast mode's option): the final image through the preview decoder (TAESD), not the VAE.
describe('draft decode through the preview decoder', () => {
  let tmp: string;
  let taesd: string;
  let engine: Engine;
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-draft-'));
    taesd = await writeTinyTaesd(path.join(tmp, 'taesd'));
    engine = new Engine({ provider: 'cpu', threads: 1 });
  });
  after(async () => {
    await engine.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('decodes the final image with TAESD at the image size, and the parameters say so', async () => {
    const model = await ensureFixture('tiny-b'); // VAE factor 8, as TAESD's
    const job = { model, prompt: 'a plant cell', seed: 3, steps: 3, width: 64, height: 64 };
    const draft = await engine.generate({ ...job, outFile: path.join(tmp, 'draft.png'), previewDecoder: taesd, draft: true });
    const full = await engine.generate({ ...job, outFile: path.join(tmp, 'full.png') });
    assert.deepEqual([draft.images[0].width, draft.images[0].height], [64, 64]);
    assert.match(draft.images[0].infotext, /VAE: taesd \(draft\)/);
    assert.doesNotMatch(full.images[0].infotext, /draft/);
    assert.equal((await readPngInfo(draft.images[0].path)).parameters?.includes('VAE: taesd (draft)'), true);
    const [a, b] = await Promise.all([draft, full].map((r) => sharp(r.images[0].path).raw().toBuffer()));
    assert.ok(!a.equals(b), 'not the VAE\'s pixels');
  });

  it('says what to give when there is no decoder, and refuses a decoder of another scale', async () => {
    const tinyA = await ensureFixture('tiny-a'); // VAE factor 4: TAESD would make twice the size
    await assert.rejects(engine.generate({ model: tinyA, prompt: 'x', seed: 1, steps: 2, outDir: tmp, draft: true }), /--draft decodes the image with a preview decoder: give --preview-decoder/);
    const out = path.join(tmp, 'wrong.png');
    await assert.rejects(
      engine.generate({ model: tinyA, prompt: 'x', seed: 1, steps: 2, width: 32, height: 32, outFile: out, previewDecoder: taesd, draft: true }),
      /makes 64x64 images from these latents, the model's VAE 32x32: use a TAESD made for this model's VAE/,
    );
    assert.equal(fs.existsSync(out), false);
  });
});
