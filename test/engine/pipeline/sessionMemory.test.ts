import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Component, LoadedModel, RuntimeOptions } from '../../../src/engine/pipeline/loadedModel';
import { resolveJob } from '../../../src/engine/pipeline/jobParams';
import { txt2img } from '../../../src/engine/pipeline/txt2img';
import sharp from 'sharp';
import * as ort from 'onnxruntime-node';
import { ensureFixture } from '../../fixtures/tinyPipeline';
import { copyFixture, TempModel } from '../../fixtures/tempCopy';
import { GraphBuilder } from '../../fixtures/onnx/graph';
import { WeightRandom } from '../../fixtures/onnx/random';

// Which sessions are alive at each stage decides the engine's peak memory: at full size the UNet
// maps 3.4 GB of weights and the VAE decode needs about 1.2 GB of activations.
describe('sessions alive per stage (memory)', () => {
  let dir: string;
  let out: string;
  before(async () => {
    dir = await ensureFixture('tiny-a');
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-mem-'));
  });
  after(() => fs.rmSync(out, { recursive: true, force: true }));

  async function stages(runtime: Omit<RuntimeOptions, 'provider' | 'threads'>, batch = 2) {
    const model = await LoadedModel.load(dir, { provider: 'cpu', threads: 1, ...runtime });
    const seen = new Map<string, Set<string>>();
    const note = (stage: string) => {
      const set = seen.get(stage) ?? new Set<string>();
      set.add(model.alive.slice().sort().join('+') || 'none');
      seen.set(stage, set);
    };
    try {
      const job = resolveJob(
        { model: dir, prompt: 'a plant cell', seed: 3, steps: 3, batch, outDir: out, guidance: 7.5 },
        { size: model.folder.sampleSize * model.folder.vaeScaleFactor, vaeScaleFactor: model.folder.vaeScaleFactor, schedulerConfig: { _class_name: 'PNDMScheduler' } },
      );
      const r = await txt2img(model, job, { progress: (e) => note(e.stage), cancelled: () => false, warn: () => undefined });
      assert.equal(r.images.length, batch);
      const after = model.alive.slice().sort() as Component[];
      const pixels = await Promise.all(r.images.map((i) => sharp(i.path).raw().toBuffer()));
      return { seen: Object.fromEntries([...seen].map(([k, v]) => [k, [...v]])), after, pixels, unetNotes: model.notes.get('unet') ?? [] };
    } finally {
      await model.dispose();
    }
  }

  it('on the CPU keeps one session alive at a time: the UNet is released for the decode and comes back for the next image', async () => {
    const r = await stages({ lowMemory: false });
    // "decode" is reported before the decoder is created, so the UNet may still be there then.
    assert.deepEqual(r.seen.denoise, ['unet']);
    // The decoder goes right after its decode: its arena holds the decode's activations.
    assert.deepEqual(r.after, []);
  });

  it('keeps every session with keepSessions (GPU providers)', async () => {
    const r = await stages({ lowMemory: false, keepSessions: true });
    assert.deepEqual(r.seen.denoise, ['textEncoder+unet', 'textEncoder+unet+vaeDecoder']);
    assert.deepEqual(r.after, ['textEncoder', 'unet', 'vaeDecoder']);
  });

  it('in low-memory mode denoises every image first, keeps nothing afterwards, and makes the same pictures', async () => {
    const r = await stages({ lowMemory: true });
    assert.deepEqual(r.seen.denoise, ['unet']);
    assert.deepEqual(r.after, []);
    // Classifier-free guidance as two batch-1 UNet calls: the same pixels as one batch-2 call.
    const normal = await stages({ lowMemory: false });
    assert.equal(r.pixels.length, 2);
    r.pixels.forEach((p, i) => assert.ok(p.equals(normal.pixels[i]), `image ${i} differs`));
  });

  it('in low-memory mode runs a UNet too large for one part in parts, for the same pictures', async () => {
    const weights = fs.statSync(path.join(dir, 'unet', 'weights.pb')).size;
    const r = await stages({ lowMemory: true, unetPartBytes: weights / 2 + 1 });
    // weights.pb holds the larger tensors only: with the inline ones, three parts.
    assert.match(r.unetNotes.join('; '), /run in [23] parts/);
    assert.deepEqual(r.seen.denoise, ['unet']);
    assert.deepEqual(r.after, []);
    // The parts' MatMuls run on unpacked weights (the whole graph's are packed): the same image
    // up to rounding, at most one level of 255 in a pixel.
    const normal = await stages({ lowMemory: false });
    r.pixels.forEach((p, i) => {
      let most = 0;
      for (let k = 0; k < p.length; k++) most = Math.max(most, Math.abs(p[k] - normal.pixels[i][k]));
      assert.ok(most <= 1, `image ${i} differs by up to ${most}/255`);
    });
  });
});

// Winograd's transformed weights cost up to 0.5 GB per session: the default mode spends it on the
// UNet and the VAE decoder; low-memory mode on the UNet only, whose parts they make smaller (they
// take the place of the model's weights); the 8-bit UNets not at all.
describe('Winograd convolutions and folded upsamples per mode (a UNet with 320 channels)', () => {
  let dir: string;
  let cache: string;
  const saved = process.env.COURSE_ILLUSTRATOR_CACHE;
  let model: TempModel;
  before(async () => {
    // A copy: the default mode stores its Winograd weights in the model's folder.
    model = await copyFixture('bench-xl');
    dir = model.dir;
    cache = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-winograd-cache-'));
    process.env.COURSE_ILLUSTRATOR_CACHE = cache;
  });
  after(async () => {
    if (saved === undefined) delete process.env.COURSE_ILLUSTRATOR_CACHE;
    else process.env.COURSE_ILLUSTRATOR_CACHE = saved;
    fs.rmSync(cache, { recursive: true, force: true });
    await model.remove();
  });

  async function unetNotes(runtime: Omit<RuntimeOptions, 'provider' | 'threads'>): Promise<string[]> {
    const model = await LoadedModel.load(dir, { provider: 'cpu', threads: 1, ...runtime });
    try {
      return (await model.use('unet', async (s) => s.notes)).value;
    } finally {
      await model.dispose();
    }
  }

  it('the default and low-memory modes rewrite the UNet\'s; the compact UNet keeps onnxruntime\'s Conv', async () => {
    const winograd = (notes: string[]) => notes.filter((n) => /Winograd/.test(n)).map((n) => n.replace(/winograd-[0-9a-f-]+\.bin/, 'winograd-….bin'));
    const rewritten = [
      '6 convolutions by Winograd (6 F(4x4), 0 F(2x2); weights 0.02 -> 0.09 GB when loaded)',
      'Winograd weights mapped from .course-illustrator/winograd-….bin',
    ];
    assert.deepEqual(winograd(await unetNotes({ lowMemory: false })), rewritten);
    assert.deepEqual(winograd(await unetNotes({ lowMemory: true })), rewritten);
    const compact = await unetNotes({ lowMemory: false, unetWeights: 'compact' });
    assert.ok(compact.some((n) => /8-bit blocks/.test(n)), compact.join('; '));
    assert.deepEqual(winograd(compact), []);
  });
  it('the UNet\'s plan follows the latents: on whole tiles where their sides are multiples of 8, nothing padded; the same output to the last bit', async () => {
    const model = await LoadedModel.load(dir, { provider: 'cpu', threads: 1, lowMemory: false });
    try {
      const rnd = new WeightRandom(11);
      const feeds = {
        sample: new ort.Tensor('float32', rnd.normals(2 * 4 * 16 * 16, 1), [2, 4, 16, 16]),
        timestep: new ort.Tensor('int64', BigInt64Array.from([500n, 500n]), [2]),
        encoder_hidden_states: new ort.Tensor('float32', rnd.normals(2 * 77 * 768, 1), [2, 77, 768]),
      };
      const run = async (latents?: { height: number; width: number }) => (await model.use('unet', async (s) => {
        const out = await s.run(feeds);
        return { notes: s.notes.filter((n) => /by Winograd/.test(n)), data: out[s.outputs[0].name].data as Float32Array };
      }, latents)).value;
      const aligned = await run({ height: 16, width: 16 });
      // Sizes the pipeline would not know (undefined), or not multiples of 8 (16×12), get the general form.
      const general = await run(undefined);
      assert.deepEqual(aligned.notes, ['6 convolutions by Winograd (6 F(4x4), 0 F(2x2); weights 0.02 -> 0.09 GB when loaded; sides multiples of 8, nothing padded or cropped)']);
      assert.deepEqual(general.notes, ['6 convolutions by Winograd (6 F(4x4), 0 F(2x2); weights 0.02 -> 0.09 GB when loaded)']);
      assert.deepEqual((await run({ height: 16, width: 12 })).notes, general.notes);
      assert.deepEqual(aligned.data, general.data);
    } finally {
      await model.dispose();
    }
  });
  it('low-memory mode runs the rewritten UNet in parts, cut by the weights it reads, for the default mode\'s picture', async () => {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-winograd-parts-'));
    const picture = async (runtime: Omit<RuntimeOptions, 'provider' | 'threads'>) => {
      const model = await LoadedModel.load(dir, { provider: 'cpu', threads: 1, ...runtime });
      try {
        const job = resolveJob(
          { model: dir, prompt: 'a plant cell', seed: 5, steps: 2, outDir, guidance: 7.5, width: 64, height: 64 },
          { size: model.folder.sampleSize * model.folder.vaeScaleFactor, vaeScaleFactor: model.folder.vaeScaleFactor, schedulerConfig: { _class_name: 'PNDMScheduler' } },
        );
        const r = await txt2img(model, job, { progress: () => undefined, cancelled: () => false, warn: () => undefined });
        return { notes: model.notes.get('unet') ?? [], pixels: await sharp(r.images[0].path).raw().toBuffer() };
      } finally {
        await model.dispose();
      }
    };
    try {
      const weights = fs.statSync(path.join(dir, 'unet', 'weights.pb')).size;
      const parted = await picture({ lowMemory: true, unetPartBytes: weights });
      const notes = parted.notes.join('; ');
      assert.match(notes, /6 convolutions by Winograd/);
      assert.match(notes, /Winograd weights mapped from/);
      // weights.pb and the Winograd weights (less the weights they replace) are more than one part.
      assert.ok(Number(/run in (\d+) parts/.exec(notes)?.[1]) >= 2, notes);
      // As in the test above: the parts' MatMul weights are not packed, so up to a level of rounding.
      const whole = await picture({ lowMemory: false });
      let most = 0;
      for (let k = 0; k < whole.pixels.length; k++) most = Math.max(most, Math.abs(whole.pixels[k] - parted.pixels[k]));
      assert.ok(most <= 1, `differs by up to ${most}/255`);
    } finally {
      fs.rmSync(outDir, { recursive: true, force: true });
    }
  });
  it('the first job shows the Winograd weights being made ("preparing… k/n"), then its stage again; the next job makes nothing', async () => {
    const fresh = await copyFixture('bench-xl');
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-winograd-out-'));
    try {
      writePlanDecoder(fresh.dir, 3);
      const model = await LoadedModel.load(fresh.dir, { provider: 'cpu', threads: 1, lowMemory: false });
      try {
        const job = resolveJob(
          { model: fresh.dir, prompt: 'a plant cell', seed: 3, steps: 2, outDir, guidance: 1, width: 128, height: 128 },
          { size: model.folder.sampleSize * model.folder.vaeScaleFactor, vaeScaleFactor: model.folder.vaeScaleFactor, schedulerConfig: { _class_name: 'PNDMScheduler' } },
        );
        const events = async () => {
          const seen: string[] = [];
          await txt2img(model, job, { progress: (e) => seen.push(e.total > 0 && e.stage === 'load' ? `load ${e.step}/${e.total}` : e.stage), cancelled: () => false, warn: () => undefined });
          return seen;
        };
        // The UNet's six weights as denoising starts, the decoder's one as decoding does; after
        // each, the stage it interrupted shows again (not "preparing… 1/1" through the decode).
        const first = await events();
        assert.deepEqual(first, ['encode', 'load 1/6', 'load 2/6', 'load 3/6', 'load 4/6', 'load 5/6', 'load 6/6', 'encode', 'denoise', 'denoise', 'decode', 'load 1/1', 'decode'], first.join(', '));
        assert.deepEqual((await events()).filter((e) => e.startsWith('load ')), []);
      } finally {
        await model.dispose();
      }
    } finally {
      await fresh.remove();
      fs.rmSync(outDir, { recursive: true, force: true });
    }
  });
  it('the default and compact modes plan the VAE decoder\'s too (an upsample at 128 channels) by the image\'s size; low-memory and int8 modes do not', async () => {
    const copy = await copyFixture('bench-xl');
    try {
      writePlanDecoder(copy.dir, 1);
      const notes = async (runtime: Omit<RuntimeOptions, 'provider' | 'threads'>, latents: [number, number][]) => {
        const model = await LoadedModel.load(copy.dir, { provider: 'cpu', threads: 1, ...runtime });
        try {
          const seen: string[][] = [];
          // Where the weights are stored is the other test's business.
          for (const [height, width] of latents) seen.push((await model.use('vaeDecoder', async (s) => s.notes, { height, width })).value.filter((n) => !n.startsWith('Winograd weights')));
          return seen;
        } finally {
          await model.dispose();
        }
      };
      const full = [
        '1 upsample folded into its convolution (weights 0.00 GB when loaded)',
        '1 convolution by Winograd (1 F(4x4), 0 F(2x2); weights 0.00 -> 0.01 GB when loaded)',
      ];
      const aligned = [full[0], full[1].replace(/loaded\)$/, 'loaded; sides multiples of 4, nothing padded or cropped)')];
      // Up to 64×64 latents (512×512 pixels) the full plan, without padding where the sides are
      // multiples of 4; larger, its tiles would pass the UNet's peak: 512 channels only (none
      // here). A kept session is made again when the plan changes.
      assert.deepEqual(await notes({ lowMemory: false }, [[64, 64], [60, 62], [96, 96]]), [aligned, full, []]);
      assert.deepEqual(await notes({ lowMemory: false, keepSessions: true }, [[32, 32], [96, 96], [64, 64], [64, 60], [62, 64]]), [aligned, [], aligned, aligned, full]);
      assert.deepEqual(await notes({ lowMemory: true }, [[64, 64]]), [[]]);
      // The compact UNet's phase stays its peak with the decoder's plan; the int8 one's would not.
      assert.deepEqual(await notes({ lowMemory: false, unetWeights: 'compact' }, [[64, 64]]), [aligned]);
      assert.deepEqual(await notes({ lowMemory: false, unetWeights: 'int8' }, [[64, 64]]), [[]]);
      // Kept sessions are made ahead for the model's default size (sample_size 64): its decode loads nothing.
      const kept = await LoadedModel.load(copy.dir, { provider: 'cpu', threads: 1, lowMemory: false, keepSessions: true });
      try {
        await kept.warm();
        assert.equal((await kept.use('vaeDecoder', async (s) => s.notes, { height: 64, width: 64 })).loadMs, 0);
      } finally {
        await kept.dispose();
      }
    } finally {
      await copy.remove();
    }
  });
});

/**
 * A VAE decoder of the layers the plan looks for: conv 4→128, `upsamples` × (nearest 2× upsample
 * and 3×3 conv at 128 channels: folded), 3×3 convs 128→256 (too few channels for Winograd) and
 * 256→256 (Winograd), a 1×1 conv to RGB.
 */
function writePlanDecoder(modelDir: string, upsamples: number): void {
  const g = new GraphBuilder('decoder');
  const rnd = new WeightRandom(11);
  const z = g.input('latent_sample', 'float32', ['batch', 4, 'latent_height', 'latent_width']);
  const conv = (x: string, cin: number, cout: number, k: number) => g.op('Conv', [x, g.weight('w', rnd.normals(cout * cin * k * k, 0.05), [cout, cin, k, k]), g.weight('b', rnd.normals(cout, 0.1), [cout])], { kernel_shape: [k, k], pads: k === 3 ? [1, 1, 1, 1] : [0, 0, 0, 0] });
  let h = conv(z, 4, 128, 3);
  for (let i = 0; i < upsamples; i++) {
    const up = g.op('Resize', [h, '', g.floatConst('scales', [1, 1, 2, 2])], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
    h = conv(up, 128, 128, 3);
  }
  g.op('Tanh', [conv(conv(conv(h, 128, 256, 3), 256, 256, 3), 256, 3, 1)], {}, 'sample');
  g.output('sample', 'float32', ['batch', 3, 'height', 'width']);
  fs.writeFileSync(path.join(modelDir, 'vae_decoder', 'model.onnx'), g.build().model);
}
