import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Component, LoadedModel, RuntimeOptions } from '../../../src/engine/pipeline/loadedModel';
import { resolveJob } from '../../../src/engine/pipeline/jobParams';
import { txt2img } from '../../../src/engine/pipeline/txt2img';
import sharp from 'sharp';
import { ensureFixture } from '../../fixtures/tinyPipeline';

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
      return { seen: Object.fromEntries([...seen].map(([k, v]) => [k, [...v]])), after, pixels };
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
});

// Winograd's transformed weights cost up to 0.5 GB per session: the default mode spends it, the
// modes chosen for memory do not.
describe('Winograd convolutions per mode (a UNet with 320 channels)', () => {
  let dir: string;
  let cache: string;
  const saved = process.env.COURSE_ILLUSTRATOR_CACHE;
  before(async () => {
    dir = await ensureFixture('bench-xl');
    cache = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-winograd-cache-'));
    process.env.COURSE_ILLUSTRATOR_CACHE = cache;
  });
  after(() => {
    if (saved === undefined) delete process.env.COURSE_ILLUSTRATOR_CACHE;
    else process.env.COURSE_ILLUSTRATOR_CACHE = saved;
    fs.rmSync(cache, { recursive: true, force: true });
  });

  async function unetNotes(runtime: Omit<RuntimeOptions, 'provider' | 'threads'>): Promise<string[]> {
    const model = await LoadedModel.load(dir, { provider: 'cpu', threads: 1, ...runtime });
    try {
      return (await model.use('unet', async (s) => s.notes)).value;
    } finally {
      await model.dispose();
    }
  }

  it('the default mode rewrites them; low-memory mode and the compact UNet keep onnxruntime\'s Conv', async () => {
    const winograd = (notes: string[]) => notes.filter((n) => /Winograd/.test(n));
    assert.deepEqual(winograd(await unetNotes({ lowMemory: false })), ['6 convolutions by Winograd (6 F(4x4), 0 F(2x2); weights 0.02 -> 0.09 GB when loaded)']);
    assert.deepEqual(winograd(await unetNotes({ lowMemory: true })), []);
    const compact = await unetNotes({ lowMemory: false, unetWeights: 'compact' });
    assert.ok(compact.some((n) => /8-bit blocks/.test(n)), compact.join('; '));
    assert.deepEqual(winograd(compact), []);
  });
});
