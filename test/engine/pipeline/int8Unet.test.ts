import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { Engine } from '../../../src/engine/engine';
import { readPngInfo } from '../../../src/engine/image/readImageInfo';
import { ensureFixture } from '../../fixtures/tinyPipeline';

// --int8 (courseIllustrator.unetWeights "int8"): the UNet's convolutions in 8 bits, their
// activation ranges measured by short DDIM runs of the model itself (pipeline/unetCalibration.ts).
describe('int8 UNet through the pipeline', () => {
  let tmp: string;
  let cacheBefore: string | undefined;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-int8-unet-'));
    cacheBefore = process.env.COURSE_ILLUSTRATOR_CACHE;
    process.env.COURSE_ILLUSTRATOR_CACHE = path.join(tmp, 'cache');
  });
  after(() => {
    if (cacheBefore === undefined) delete process.env.COURSE_ILLUSTRATOR_CACHE;
    else process.env.COURSE_ILLUSTRATOR_CACHE = cacheBefore;
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('calibrates on the model, makes a close image, and the parameters say so', async () => {
    const model = await ensureFixture('tiny-b');
    const job = { model, prompt: 'a plant cell', seed: 5, steps: 4, width: 64, height: 64 };
    const full = new Engine({ provider: 'cpu', threads: 1 });
    const int8 = new Engine({ provider: 'cpu', threads: 1, unetWeights: 'int8' });
    try {
      const a = await full.generate({ ...job, outFile: path.join(tmp, 'full.png') });
      const heard: string[] = [];
      const loading: string[] = [];
      const b = await int8.generate({ ...job, outFile: path.join(tmp, 'int8.png') }, {
        warn: (m) => heard.push(m),
        progress: (e) => e.stage === 'load' && e.total > 0 && loading.push(`${e.step}/${e.total}`),
      });
      assert.ok(heard.some((m) => /Making the int8 UNet for this model/.test(m)), 'the teacher hears why the first image takes longer');
      // 3 prompts x 5 steps, each reported: news that also keeps the extension's stall timer quiet.
      assert.deepEqual(loading, Array.from({ length: 16 }, (_, i) => `${i}/15`));
      assert.match(b.images[0].infotext, /Weights: UNet int8 \(MatMul and convolutions\)/);
      assert.doesNotMatch(a.images[0].infotext, /Weights:/);
      assert.match((await readPngInfo(b.images[0].path)).parameters ?? '', /Weights: UNet int8/);
      const [pa, pb] = await Promise.all([a, b].map((r) => sharp(r.images[0].path).raw().toBuffer()));
      let sum = 0;
      for (let i = 0; i < pa.length; i++) sum += Math.abs(pa[i] - pb[i]);
      const mean = sum / pa.length;
      console.log(`      · int8 vs float32 image: mean absolute difference ${mean.toFixed(2)} of 255`);
      assert.ok(mean < 8, `mean difference ${mean}`);
      // Made once: the cache holds the variant, and a second job does not calibrate again.
      const files = fs.readdirSync(path.join(tmp, 'cache', 'compact'));
      assert.equal(files.filter((f) => f.endsWith('.onnx')).length, 1, files.join(', '));
      heard.length = 0;
      const again = await int8.generate({ ...job, seed: 6, outFile: path.join(tmp, 'again.png') }, { warn: (m) => heard.push(m) });
      assert.ok(!heard.some((m) => /Making the int8 UNet/.test(m)), heard.join('; '));
      assert.match(again.images[0].infotext, /Weights: UNet int8/);
    } finally {
      await full.dispose();
      await int8.dispose();
    }
  });

  it('a job cancelled while the model is measured ends cancelled at once, and nothing is cached', async () => {
    const model = await ensureFixture('tiny-a');
    const engine = new Engine({ provider: 'cpu', threads: 1, unetWeights: 'int8' });
    const out = path.join(tmp, 'cancelled.png');
    let loads = 0;
    const warned: string[] = [];
    try {
      await assert.rejects(
        engine.generate({ model, prompt: 'a plant cell', seed: 1, steps: 3, width: 64, height: 64, outFile: out }, {
          progress: (e) => { if (e.stage === 'load' && e.total > 0) loads += 1; },
          cancelled: () => loads >= 3,
          warn: (m) => warned.push(m),
        }),
        (err: Error) => err.name === 'CancelledError' || /cancel/i.test(err.message),
      );
      assert.equal(loads, 3, 'stopped after the call that saw the cancel');
      assert.ok(!warned.some((m) => /could not be made/.test(m)), `cancelled, not a failed variant: ${warned.join('; ')}`);
      assert.equal(fs.existsSync(out), false);
      const cached = fs.readdirSync(path.join(tmp, 'cache', 'compact')).filter((f) => f.endsWith('.onnx'));
      assert.equal(cached.length, 1, `only tiny-b's variant from the first test: ${cached.join(', ')}`);
    } finally {
      await engine.dispose();
    }
  });

  it('calibrates a 9-channel inpainting UNet too (mask and masked-image channels fed), and inpaints with it', async () => {
    const model = await ensureFixture('tiny-inpaint');
    const W = 64;
    const H = 48;
    const init = path.join(tmp, 'init.png');
    const mask = path.join(tmp, 'mask.png');
    await sharp(Buffer.alloc(W * H * 3, 90), { raw: { width: W, height: H, channels: 3 } }).png().toFile(init);
    const m = Buffer.alloc(W * H);
    for (let y = 8; y < 40; y++) m.fill(255, y * W + 16, y * W + 48);
    await sharp(m, { raw: { width: W, height: H, channels: 1 } }).png().toFile(mask);
    const engine = new Engine({ provider: 'cpu', threads: 1, unetWeights: 'int8' });
    try {
      const r = await engine.generate({ model, prompt: 'a red blood cell', seed: 2, steps: 3, initImage: init, mask, strength: 1, outFile: path.join(tmp, 'inpaint.png') });
      assert.match(r.images[0].infotext, /Weights: UNet int8/);
      assert.deepEqual([r.images[0].width, r.images[0].height], [W, H]);
    } finally {
      await engine.dispose();
    }
  });
});
