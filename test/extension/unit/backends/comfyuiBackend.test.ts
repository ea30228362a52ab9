// The ComfyUI backend against a fake ComfyUI (test/support/fakeComfyui.ts) that follows the
// shapes of ComfyUI's server.py: the workflow it queues, the files it writes (our infotext, the
// XMP label), queue positions, cancel, and the error messages.

import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import type { EngineError } from '../../../../src/extension/engine/engineError';
import { pngText } from '../../../engine/serve/a1111Client';
import { backendFor, closedPort, tempWorkspace, watcher } from '../../../support/backendDeps';
import { type FakeComfyui, startFakeComfyui } from '../../../support/fakeComfyui';

async function rejects(p: Promise<unknown>): Promise<EngineError> {
  try {
    await p;
  } catch (e) {
    return e as EngineError;
  }
  throw new Error('expected a rejection');
}

describe('backends/comfyui against a fake ComfyUI', function () {
  this.timeout(30_000);
  let fake: FakeComfyui;
  let ws: ReturnType<typeof tempWorkspace>;

  beforeEach(async () => {
    fake = await startFakeComfyui();
    ws = tempWorkspace();
  });
  afterEach(async () => {
    await fake.close();
    ws.dispose();
  });

  it('queues the built-in SD 1.5 workflow and writes the image with our infotext and XMP label', async () => {
    const { backend } = backendFor('comfyui', fake.url);
    const outFile = path.join(ws.images, 'cell.png');
    const r = await backend.generate(
      { model: 'x', prompt: 'a plant cell', negativePrompt: 'blurry', seed: 42, steps: 12, guidance: 6.5, width: 96, height: 64, scheduler: 'dpmpp-2m-karras', outFile, confineTo: ws.root, domain: 'education', extraParameters: { Template: 'diagram' } },
      { jobId: 'c1' },
    );
    const wf = fake.prompts[0];
    const types = Object.values(wf).map((n) => n.class_type).sort();
    assert.deepStrictEqual(types, ['CLIPTextEncode', 'CLIPTextEncode', 'CheckpointLoaderSimple', 'EmptyLatentImage', 'KSampler', 'SaveImage', 'VAEDecode']);
    const k = Object.values(wf).find((n) => n.class_type === 'KSampler')!.inputs;
    assert.deepStrictEqual([k.seed, k.steps, k.cfg, k.sampler_name, k.scheduler, k.denoise], [42, 12, 6.5, 'dpmpp_2m', 'karras', 1]);
    assert.strictEqual(Object.values(wf).find((n) => n.class_type === 'CheckpointLoaderSimple')!.inputs.ckpt_name, 'v1-5-pruned-emaonly.safetensors', 'the first checkpoint when none is set');
    const texts = Object.values(wf).filter((n) => n.class_type === 'CLIPTextEncode').map((n) => n.inputs.text);
    assert.deepStrictEqual(texts, ['a plant cell', 'blurry']);

    assert.strictEqual(r.images[0].path, outFile);
    assert.deepStrictEqual([r.images[0].width, r.images[0].height, r.images[0].seed], [96, 64, 42]);
    const text = pngText(fs.readFileSync(outFile));
    assert.strictEqual(
      text.parameters,
      'a plant cell\nNegative prompt: blurry\nSteps: 12, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 42, Size: 96x64, Model: v1-5-pruned-emaonly, RNG: CPU, Server: ComfyUI, Template: diagram, Version: course-illustrator 0.1.0',
    );
    assert.ok(text['XML:com.adobe.xmp'].includes('trainedAlgorithmicMedia'));
    assert.ok(text['XML:com.adobe.xmp'].includes('AI-generated teaching material'));
  });

  it('makes each image of a batch its own prompt with seed + i, into outDir', async () => {
    const { backend } = backendFor('comfyui', fake.url);
    const w = watcher();
    const r = await backend.generate({ model: 'x', prompt: 'a heart', seed: 7, steps: 4, width: 64, height: 64, batch: 3, outDir: ws.images, confineTo: ws.root }, { jobId: 'c2', onProgress: w.onProgress });
    assert.deepStrictEqual(fake.prompts.map((p) => Object.values(p).find((n) => n.class_type === 'KSampler')!.inputs.seed), [7, 8, 9]);
    assert.deepStrictEqual(r.images.map((i) => path.basename(i.path)), ['a-heart-7.png', 'a-heart-8.png', 'a-heart-9.png']);
    assert.deepStrictEqual(w.progress.filter((e) => e.stage === 'decode').map((e) => e.image), [0, 1, 2]);
  });

  it('img2img and inpainting upload the images and start from them', async () => {
    const { backend } = backendFor('comfyui', fake.url);
    const init = path.join(ws.root, 'init.png');
    const mask = path.join(ws.root, 'mask.png');
    await sharp({ create: { width: 80, height: 72, channels: 3, background: '#357' } }).png().toFile(init);
    await sharp({ create: { width: 80, height: 72, channels: 3, background: '#fff' } }).png().toFile(mask);
    const r = await backend.generate({ model: 'x', prompt: 'a leaf', seed: 3, steps: 4, initImage: init, mask, strength: 0.6, outFile: path.join(ws.images, 'leaf.png'), confineTo: ws.root }, { jobId: 'c3' });
    assert.strictEqual(fake.uploads.length, 2);
    const wf = fake.prompts[0];
    const byType = (t: string) => Object.values(wf).find((n) => n.class_type === t)!;
    assert.strictEqual(byType('LoadImage').inputs.image, fake.uploads[0].name);
    assert.strictEqual(byType('LoadImageMask').inputs.image, fake.uploads[1].name);
    assert.ok(byType('VAEEncode') && byType('SetLatentNoiseMask'));
    assert.ok(!Object.values(wf).some((n) => n.class_type === 'EmptyLatentImage'));
    assert.strictEqual(byType('KSampler').inputs.denoise, 0.6);
    assert.deepStrictEqual([r.images[0].width, r.images[0].height], [80, 72]);
    assert.ok(r.images[0].infotext.includes('Denoising strength: 0.6'));
  });

  it('reports the queue position while other prompts run first', async () => {
    const { backend } = backendFor('comfyui', fake.url);
    const w = watcher();
    fake.othersAhead = 2;
    fake.runMs = 150;
    await backend.generate({ model: 'x', prompt: 'p', seed: 1, steps: 2, width: 64, height: 64, outDir: ws.images, confineTo: ws.root }, { jobId: 'c4', onQueue: w.onQueue });
    const positions = w.queue.map((q) => q.position);
    assert.ok(positions.some((p) => p >= 1), positions.join());
    assert.strictEqual(positions.at(-1), 0);
  });

  it('cancel drops a queued prompt from the queue, or interrupts the running one; no file is left', async () => {
    const { backend } = backendFor('comfyui', fake.url);
    fake.othersAhead = 1;
    fake.runMs = 2_000;
    const w = watcher();
    const job = backend.generate({ model: 'x', prompt: 'p', seed: 1, steps: 2, outDir: ws.images, confineTo: ws.root }, { jobId: 'c5', token: w.token, onQueue: w.onQueue });
    while (!w.queue.some((q) => q.position >= 1)) await new Promise((r) => setTimeout(r, 10));
    w.token.cancel();
    assert.strictEqual((await rejects(job)).kind, 'cancelled');
    await new Promise((r) => setTimeout(r, 100));
    assert.strictEqual(fake.deleted.length, 1);
    assert.deepStrictEqual(fs.readdirSync(ws.images), []);

    const w2 = watcher();
    const running = backend.generate({ model: 'x', prompt: 'p', seed: 1, steps: 2, outDir: ws.images, confineTo: ws.root }, { jobId: 'c6', token: w2.token, onQueue: w2.onQueue });
    while (!w2.queue.some((q) => q.position === 0)) await new Promise((r) => setTimeout(r, 10));
    w2.token.cancel();
    assert.strictEqual((await rejects(running)).kind, 'cancelled');
    await new Promise((r) => setTimeout(r, 100));
    assert.strictEqual(fake.interrupts.length, 1);
    assert.ok(String((fake.interrupts[0] as { prompt_id?: string }).prompt_id).startsWith('p-'), 'interrupts by prompt_id');
  });

  it('errors: model missing (names the setting and the server\'s checkpoints), server failure, unreachable', async () => {
    const missing = backendFor('comfyui', fake.url, { model: 'sdxl' });
    const e1 = await rejects(missing.backend.generate({ model: 'x', prompt: 'p', seed: 1, outDir: ws.images }, { jobId: 'c7' }));
    assert.strictEqual(e1.kind, 'modelError');
    assert.match(e1.message, /has no checkpoint "sdxl" \(courseIllustrator\.backendModel\)\. It has: v1-5-pruned-emaonly\.safetensors, sd15\/dreamshaper_8\.safetensors\./);
    // A name without the extension or the folder is found.
    const bare = backendFor('comfyui', fake.url, { model: 'dreamshaper_8' });
    await bare.backend.generate({ model: 'x', prompt: 'p', seed: 1, steps: 2, width: 64, height: 64, outDir: ws.images, confineTo: ws.root }, { jobId: 'c8' });
    assert.strictEqual(Object.values(fake.prompts.at(-1)!).find((n) => n.class_type === 'CheckpointLoaderSimple')!.inputs.ckpt_name, 'sd15/dreamshaper_8.safetensors');

    fake.failNext = 'CUDA out of memory';
    const { backend } = backendFor('comfyui', fake.url);
    const e2 = await rejects(backend.generate({ model: 'x', prompt: 'p', seed: 1, steps: 2, outDir: ws.images }, { jobId: 'c9' }));
    assert.strictEqual(e2.message, 'The ComfyUI server failed in KSampler: CUDA out of memory. Its log may say more.');

    const url = `http://127.0.0.1:${await closedPort()}`;
    const e3 = await rejects(backendFor('comfyui', url).backend.generate({ model: 'x', prompt: 'p', outDir: ws.images }, { jobId: 'c10' }));
    assert.match(e3.message, /Can't reach the ComfyUI server at .* Check courseIllustrator\.backendUrl/);

    // Not a ComfyUI (an A1111 at that address): names the backend setting.
    const e4 = await rejects(backendFor('comfyui', `${fake.url}/not-comfy`).backend.generate({ model: 'x', prompt: 'p', outDir: ws.images }, { jobId: 'c11' }));
    assert.match(e4.message, /Is it a ComfyUI server.*Check courseIllustrator\.backend and courseIllustrator\.backendUrl/);
  });

  it('maps every scheduler to a KSampler sampler and scheduler, and says when there is no exact match', async () => {
    const { backend } = backendFor('comfyui', fake.url);
    const r = await backend.generate({ model: 'x', prompt: 'p', seed: 1, steps: 2, width: 64, height: 64, scheduler: 'pndm', outDir: ws.images, confineTo: ws.root }, { jobId: 'c12' });
    assert.strictEqual(r.scheduler, 'euler');
    assert.match(r.warnings[0], /no PNDM/);
    const k = Object.values(fake.prompts[0]).find((n) => n.class_type === 'KSampler')!.inputs;
    assert.deepStrictEqual([k.sampler_name, k.scheduler], ['euler', 'normal']);
    const bad = await rejects(backend.generate({ model: 'x', prompt: 'p', scheduler: 'heun++', outDir: ws.images }, { jobId: 'c13' }));
    assert.strictEqual(bad.kind, 'badInput');
  });
});
