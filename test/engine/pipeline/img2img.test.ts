// img2img and inpainting through the engine, on the tiny pipelines (real onnxruntime): every
// scheduler, CFG on and off, batches, the 4-channel blend checked on the final latents against
// the image's own latent sample (which is the seed's first draw), the 9-channel inpainting UNet,
// the session policy, and the errors a user can meet.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { SCHEDULER_NAMES } from '../../../src/core/schedulerNames';
import { Engine } from '../../../src/engine/engine';
import { readNpy } from '../../../src/engine/image/npy';
import { TorchGenerator } from '../../../src/engine/rng/torchGenerator';
import { LoadedModel } from '../../../src/engine/pipeline/loadedModel';
import { resolveJob } from '../../../src/engine/pipeline/jobParams';
import { txt2img } from '../../../src/engine/pipeline/txt2img';
import { prepareImageInputs } from '../../../src/engine/pipeline/imageInputs';
import { encodeLatentDistribution, sampleLatents } from '../../../src/engine/pipeline/vaeEncoder';
import { readPngInfo } from '../../../src/engine/image/readImageInfo';
import { PRESETS, ensureFixture } from '../../fixtures/tinyPipeline';

describe('img2img and inpainting (engine, tiny pipelines)', function () {
  this.timeout(180000);
  let tinyA: string;
  let tinyInpaint: string;
  let dir: string;
  let init: string;
  let mask: string;
  let engine: Engine;
  const W = 70;
  const H = 50;

  before(async () => {
    [tinyA, tinyInpaint] = await Promise.all([ensureFixture('tiny-a'), ensureFixture('tiny-inpaint')]);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-i2i-'));
    const px = Buffer.alloc(W * H * 3);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) px.set([x * 3, y * 5, 200 - x], (y * W + x) * 3);
    init = path.join(dir, 'init.png');
    await sharp(px, { raw: { width: W, height: H, channels: 3 } }).png().toFile(init);
    // White (repaint) on the right, from x = 40 on; black (keep) on the left.
    const m = Buffer.alloc(W * H);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) m[y * W + x] = x >= 40 ? 255 : 0;
    mask = path.join(dir, 'mask.png');
    await sharp(m, { raw: { width: W, height: H, channels: 1 } }).png().toFile(mask);
    engine = new Engine({ provider: 'cpu', threads: 1 });
  });
  after(async () => {
    await engine.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const out = (name: string) => path.join(dir, name);

  for (const scheduler of SCHEDULER_NAMES) {
    it(`img2img with ${scheduler}: the init image's size rounded down, int(steps x strength) steps, "Denoising strength" in the PNG`, async () => {
      const steps = 6;
      const strength = 0.5;
      const seen: number[] = [];
      const r = await engine.generate({ model: tinyA, prompt: 'a plant cell', seed: 3, steps, scheduler, initImage: init, strength, outFile: out(`${scheduler}.png`), overwrite: true },
        { progress: (e) => e.stage === 'denoise' && seen.push(e.total) });
      assert.deepEqual([r.images[0].width, r.images[0].height], [64, 48]);
      // Progress counts int(steps x strength) steps; PLMS takes its first step twice, so it makes
      // one UNet call more.
      assert.equal(seen[0], 3);
      assert.equal(r.timings.unetStepMs.length, scheduler === 'pndm' ? 4 : 3);
      // The encoder's run has its own figure; the decoder's stays the decode alone.
      assert.ok((r.timings.vaeEncodeMs ?? 0) > 0 && r.timings.vaeMs > 0, JSON.stringify(r.timings));
      const info = await readPngInfo(r.images[0].path);
      assert.equal(info.fields?.['Denoising strength'], '0.5');
      assert.equal(info.fields?.Steps, String(steps));
      assert.equal(info.fields?.Size, '64x48');
    });
  }

  it('is reproducible by seed, CFG off (guidance 1) differs from CFG on, and a batch uses seed + i, each image regenerable alone', async () => {
    const gen = async (name: string, extra: Record<string, unknown>) => {
      const r = await engine.generate({ model: tinyA, prompt: 'mitochondria', seed: 40, steps: 5, scheduler: 'euler-a', initImage: init, strength: 0.7, outFile: out(name), overwrite: true, ...extra });
      return sharp(r.images[0].path).raw().toBuffer();
    };
    const a = await gen('s1.png', {});
    const b = await gen('s2.png', {});
    const noCfg = await gen('s3.png', { guidance: 1 });
    assert.ok(a.equals(b));
    assert.ok(!a.equals(noCfg));
    const batch = await engine.generate({ model: tinyA, prompt: 'mitochondria', seed: 40, batch: 2, steps: 5, scheduler: 'euler-a', initImage: init, strength: 0.7, outDir: dir });
    assert.deepEqual(batch.images.map((i) => i.seed), [40, 41]);
    assert.ok((await sharp(batch.images[0].path).raw().toBuffer()).equals(a));
    const alone = await engine.generate({ model: tinyA, prompt: 'mitochondria', seed: 41, steps: 5, scheduler: 'euler-a', initImage: init, strength: 0.7, outFile: out('s41.png') });
    assert.ok((await sharp(alone.images[0].path).raw().toBuffer()).equals(await sharp(batch.images[1].path).raw().toBuffer()));
  });

  it('inpainting with a 4-channel UNet keeps the image\'s own latent sample (the seed\'s first draw) outside the mask', async () => {
    for (const scheduler of ['euler-a', 'ddim', 'dpmpp-2m-karras'] as const) {
      const npy = out(`inpaint-${scheduler}.npy`);
      await engine.generate({ model: tinyA, prompt: 'a cell', seed: 7, steps: 6, scheduler, initImage: init, mask, strength: 0.8,
        outFile: out(`inpaint-${scheduler}.png`), saveLatents: npy, overwrite: true });
      const final = (await readNpy(npy)).data;
      // The image latents as diffusers' prepare_latents makes them: the encoder's sample, drawn first.
      const inputs = await prepareImageInputs({ image: init, mask }, 4, 8);
      const model = await LoadedModel.load(tinyA, { provider: 'cpu', threads: 1, lowMemory: false });
      try {
        const dist = (await model.use('vaeEncoder', (s) => encodeLatentDistribution(s, inputs.image, 48, 64, 4, () => undefined))).value;
        const imageLatents = sampleLatents(dist, new TorchGenerator(7), model.folder.vaeScalingFactor);
        const plane = 12 * 16;
        let kept = 0;
        let repainted = 0;
        for (let c = 0; c < 4; c++) {
          for (let i = 0; i < plane; i++) {
            const k = c * plane + i;
            if (inputs.mask!.latent[i] === 0) {
              assert.equal(final[k], imageLatents[k], `${scheduler}: kept latent ${k}`);
              kept++;
            } else if (final[k] !== imageLatents[k]) repainted++;
          }
        }
        assert.ok(kept > 0 && repainted > 0.9 * (4 * plane - kept), `${scheduler}: ${kept} kept, ${repainted} repainted`);
      } finally {
        await model.dispose();
      }
    }
  });

  it('inpainting with a 9-channel UNet, at strength 1 and below, CFG on and off', async () => {
    for (const [strength, guidance] of [[1, 7.5], [0.6, 1], [0.6, 5]] as const) {
      const r = await engine.generate({ model: tinyInpaint, prompt: 'a cell', seed: 2, steps: 5, scheduler: 'lms', initImage: init, mask, strength, guidance,
        outFile: out(`nine-${strength}-${guidance}.png`), overwrite: true });
      const info = await readPngInfo(r.images[0].path);
      assert.equal(info.fields?.['Denoising strength'], strength === 1 ? '1.0' : '0.6');
      assert.deepEqual([r.images[0].width, r.images[0].height], [64, 48]);
    }
  });

  it('explicit --width/--height resize the image and the mask (Pillow Lanczos)', async () => {
    const r = await engine.generate({ model: tinyA, prompt: 'a cell', seed: 2, steps: 3, initImage: init, mask, width: 32, height: 32, outFile: out('resized.png') });
    assert.deepEqual([r.images[0].width, r.images[0].height], [32, 32]);
  });

  it('low-memory mode (CFG as two batch-1 calls) and kept sessions make the same pictures, 4- and 9-channel', async () => {
    for (const model of [tinyA, tinyInpaint]) {
      const pics: Buffer[] = [];
      for (const runtime of [{ lowMemory: true }, { keepSessions: true }, {}]) {
        const e = new Engine({ provider: 'cpu', threads: 1, ...runtime });
        try {
          const r = await e.generate({ model, prompt: 'a cell', seed: 9, steps: 4, scheduler: 'euler', initImage: init, mask, strength: 0.7, outDir: dir });
          pics.push(await sharp(r.images[0].path).raw().toBuffer());
        } finally {
          await e.dispose();
        }
      }
      assert.ok(pics[0].equals(pics[1]) && pics[1].equals(pics[2]), model);
    }
  });

  it('the VAE encoder\'s session goes right after the encode on the CPU (one session at a time), and stays with keepSessions', async () => {
    for (const [keepSessions, expected] of [[false, []], [true, ['textEncoder', 'unet', 'vaeDecoder', 'vaeEncoder']]] as const) {
      const model = await LoadedModel.load(tinyA, { provider: 'cpu', threads: 1, lowMemory: false, keepSessions });
      try {
        const stages = new Map<string, Set<string>>();
        const job = resolveJob({ model: tinyA, prompt: 'a cell', seed: 1, steps: 3, initImage: init, strength: 0.7, outDir: dir },
          { size: 32, vaeScaleFactor: 4, schedulerConfig: model.folder.schedulerConfig });
        await txt2img(model, job, {
          progress: (e) => stages.set(e.stage, new Set([...(stages.get(e.stage) ?? []), model.alive.slice().sort().join('+')])),
          cancelled: () => false,
          warn: () => undefined,
        });
        assert.deepEqual(model.alive.slice().sort(), expected);
        if (!keepSessions) assert.deepEqual([...stages.get('denoise')!], ['unet']);
      } finally {
        await model.dispose();
      }
    }
  });

  it('errors: no vae_encoder, a mask of another size, strength out of range, an inpainting model without a mask', async () => {
    const noEncoder = await ensureFixture('tiny-a-no-encoder', { ...PRESETS['tiny-a'], vaeEncoder: false });
    await assert.rejects(engine.generate({ model: noEncoder, prompt: 'x', seed: 1, steps: 2, initImage: init, outDir: dir }),
      (e: Error & { kind?: string }) => e.kind === 'modelError' && /--init-image needs the model's VAE encoder.*vae_encoder[/\\]model\.onnx is missing/.test(e.message));
    const small = out('small-mask.png');
    await sharp({ create: { width: 32, height: 32, channels: 3, background: '#fff' } }).png().toFile(small);
    await assert.rejects(engine.generate({ model: tinyA, prompt: 'x', seed: 1, steps: 2, initImage: init, mask: small, outDir: dir }),
      (e: Error & { kind?: string }) => e.kind === 'badInput' && /is 32x32 but --init-image .* is 70x50: the mask must be the same size/.test(e.message));
    await assert.rejects(engine.generate({ model: tinyA, prompt: 'x', seed: 1, steps: 2, initImage: init, strength: 2, outDir: dir }),
      (e: Error & { kind?: string }) => e.kind === 'badInput' && /--strength must be a number from 0 to 1/.test(e.message));
    for (const extra of [{}, { initImage: init }]) {
      await assert.rejects(engine.generate({ model: tinyInpaint, prompt: 'x', seed: 1, steps: 2, outDir: dir, ...extra }),
        (e: Error & { kind?: string }) => e.kind === 'badInput' && /9 input channels: it is an inpainting model.*--mask/.test(e.message));
    }
    // Nothing was written by the failed jobs.
    assert.ok(!fs.readdirSync(dir).some((f) => f.startsWith('x-')));
  });
});
