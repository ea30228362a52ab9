// The A1111 backend against our own `course-illustrator serve` (in process, real HTTP on
// 127.0.0.1, the tiny model): what a teacher gets in the course folder (the file, its infotext
// and XMP label), progress, cancel, and each error's message. One test goes the whole way the
// extension does: services.engine (RoutedEngineClient) -> server -> engine/import in the
// real engine bundle.

import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { ServeServer, startHttpServer } from '../../../../src/engine/serve/httpServer';
import { BackendFactory } from '../../../../src/extension/backends/createBackend';
import { RoutedEngineClient, importViaEngine } from '../../../../src/extension/backends/routedEngine';
import { saveCredentials } from '../../../../src/extension/backends/serverCredentials';
import { EngineClient } from '../../../../src/extension/engine/engineClient';
import type { EngineError } from '../../../../src/extension/engine/engineError';
import type { JobEvent } from '../../../../src/extension/services';
import { ensureFixture } from '../../../fixtures/tinyPipeline';
import { pngText } from '../../../engine/serve/a1111Client';
import { backendFor, closedPort, memoryLog, memorySecrets, tempWorkspace, watcher } from '../../../support/backendDeps';
import { engineBundle } from '../../../support/engineProcess';

const quiet = () => undefined;
const AI = 'trainedAlgorithmicMedia';

async function serve(model: string, extra: Partial<Parameters<typeof startHttpServer>[0]> = {}): Promise<ServeServer> {
  return startHttpServer({ model, host: '127.0.0.1', port: 0, maxQueue: 2, requestTimeoutMs: 60_000, threads: 1, lowMemory: false, log: quiet, ...extra });
}

async function rejects(p: Promise<unknown>): Promise<EngineError> {
  try {
    await p;
  } catch (e) {
    return e as EngineError;
  }
  throw new Error('expected a rejection');
}

describe('backends/a1111 against course-illustrator serve', function () {
  this.timeout(120_000);
  let model: string;
  let server: ServeServer;
  let ws: ReturnType<typeof tempWorkspace>;

  before(async () => {
    model = await ensureFixture('tiny-a');
    server = await serve(model);
  });
  after(async () => server?.close());
  beforeEach(() => (ws = tempWorkspace()));
  afterEach(() => ws.dispose());

  it('writes the image where asked, with the server\'s infotext, the XMP AI label and the medical statement', async () => {
    const { backend } = backendFor('a1111', server.url);
    const w = watcher();
    const outFile = path.join(ws.images, 'cell.png');
    const r = await backend.generate(
      { model: 'ignored', prompt: 'a plant cell', negativePrompt: 'blurry', seed: 42, steps: 4, width: 64, height: 48, scheduler: 'euler-a', domain: 'medical', outFile, confineTo: ws.root, extraParameters: { Template: 'diagram' } },
      { jobId: 'j1', onProgress: w.onProgress },
    );
    assert.strictEqual(r.images.length, 1);
    assert.strictEqual(r.images[0].path, outFile);
    assert.strictEqual(r.images[0].seed, 42);
    assert.deepStrictEqual([r.images[0].width, r.images[0].height], [64, 48]);
    assert.strictEqual(r.scheduler, 'euler-a');
    const png = fs.readFileSync(outFile);
    const text = pngText(png);
    assert.ok(text.parameters.startsWith('a plant cell\nNegative prompt: blurry\n'), text.parameters);
    for (const pair of ['Steps: 4', 'Sampler: Euler a', 'Seed: 42', 'Size: 64x48', 'Template: diagram', 'AI label: "AI-generated teaching image, not for diagnosis"']) assert.ok(text.parameters.includes(pair), `${pair} in ${text.parameters}`);
    assert.strictEqual(r.images[0].infotext, text.parameters);
    const xmp = text['XML:com.adobe.xmp'];
    assert.ok(xmp.includes(AI) && xmp.includes('Course Illustrator') && xmp.includes('AI-generated teaching material, not for diagnosis'), xmp);
    // The visible strip: the bottom rows are the label's dark band.
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    const bottom = data[((info.height - 1) * info.width + 1) * info.channels];
    assert.ok(bottom < 90, `bottom-left pixel ${bottom} should be the dark label strip`);
    assert.ok(w.progress.some((e) => e.stage === 'save'), 'a final progress event');
  });

  it('reports steps while the server works, and a batch writes one file per seed into outDir', async () => {
    const { backend } = backendFor('a1111', server.url);
    const w = watcher();
    const r = await backend.generate(
      // Large enough that the progress polls see the job at work, also on a fast machine.
      { model: 'x', prompt: 'a heart', seed: 7, steps: 40, width: 512, height: 512, batch: 2, previewEvery: 5, outDir: ws.images, confineTo: ws.root },
      { jobId: 'j2', onProgress: w.onProgress, onQueue: w.onQueue },
    );
    assert.deepStrictEqual(r.images.map((i) => i.seed), [7, 8]);
    assert.deepStrictEqual(r.images.map((i) => path.basename(i.path)), ['a-heart-7.png', 'a-heart-8.png']);
    const denoise = w.progress.filter((e) => e.stage === 'denoise');
    assert.ok(denoise.length >= 2, `progress events: ${JSON.stringify(w.progress.map((e) => [e.stage, e.step, e.total]))}`);
    assert.ok(denoise.every((e) => e.total === 40 && e.step >= 1 && e.step <= 40 && e.images === 2));
    assert.ok(denoise.some((e) => e.preview && e.preview.pngBase64.length > 0), 'a preview from current_image');
    assert.strictEqual(r.scheduler, 'dpmpp-2m-karras', 'the servers\' default, sent explicitly');
    assert.ok(pngText(fs.readFileSync(r.images[0].path)).parameters.includes('Schedule type: Karras'));
  });

  it('img2img sends the init image and keeps its size', async () => {
    const { backend } = backendFor('a1111', server.url);
    const init = path.join(ws.root, 'init.png');
    await sharp({ create: { width: 72, height: 64, channels: 3, background: '#3a7' } }).png().toFile(init);
    const r = await backend.generate({ model: 'x', prompt: 'a leaf, watercolour', seed: 3, steps: 6, initImage: init, strength: 0.5, outFile: path.join(ws.images, 'leaf.png'), confineTo: ws.root }, { jobId: 'j3' });
    assert.deepStrictEqual([r.images[0].width, r.images[0].height], [72, 64]);
    assert.ok(r.images[0].infotext.includes('Denoising strength: 0.5'), r.images[0].infotext);
  });

  it('cancel stops the job on the server and leaves no file', async () => {
    const { backend } = backendFor('a1111', server.url);
    const w = watcher();
    const outFile = path.join(ws.images, 'long.png');
    const job = backend.generate({ model: 'x', prompt: 'a long job', seed: 5, steps: 150, width: 512, height: 512, batch: 4, outFile: undefined, outDir: ws.images, confineTo: ws.root }, { jobId: 'j4', token: w.token, onProgress: w.onProgress });
    const deadline = Date.now() + 30_000;
    while (!w.progress.some((e) => e.stage === 'denoise' && e.step > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    w.token.cancel();
    const t0 = Date.now();
    const err = await rejects(job);
    assert.strictEqual(err.kind, 'cancelled', err.message);
    assert.ok(Date.now() - t0 < 10_000);
    assert.ok(!fs.existsSync(outFile));
    assert.deepStrictEqual(fs.readdirSync(ws.images), []);
    // The server is free again (the next job does not wait behind ours).
    const until = Date.now() + 20_000;
    for (;;) {
      const p = (await (await fetch(`${server.url}/sdapi/v1/progress`)).json()) as { state: { job: string } };
      if (p.state.job === '') break;
      if (Date.now() > until) assert.fail('the server still runs the cancelled job');
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it('names the URL and the setting when the server is unreachable', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const { backend } = backendFor('a1111', url);
    const err = await rejects(backend.generate({ model: 'x', prompt: 'p', seed: 1, steps: 2, outDir: ws.images }, { jobId: 'j5' }));
    assert.match(err.message, new RegExp(`Can't reach the A1111 server at ${url.replace(/\./g, '\\.')} \\(ECONNREFUSED\\)\\. Check courseIllustrator\\.backendUrl`));
  });

  it('names the model setting and the server\'s models when the model is missing', async () => {
    const { backend } = backendFor('a1111', server.url, { model: 'sd-xl-turbo' });
    const err = await rejects(backend.generate({ model: 'x', prompt: 'p', seed: 1, steps: 2, outDir: ws.images }, { jobId: 'j6' }));
    assert.strictEqual(err.kind, 'modelError');
    assert.match(err.message, /has no model "sd-xl-turbo" \(courseIllustrator\.backendModel\)\. It has: tiny-a/);
    // The server's own name works.
    const ok = backendFor('a1111', server.url, { model: path.basename(model) });
    const r = await ok.backend.generate({ model: 'x', prompt: 'p', seed: 1, steps: 2, width: 64, height: 64, outDir: ws.images, confineTo: ws.root }, { jobId: 'j6b' });
    assert.strictEqual(r.images.length, 1);
  });

  it('says the queue is full and when to try again (429)', async () => {
    const busy = await serve(model, { maxQueue: 0 });
    try {
      const { backend } = backendFor('a1111', busy.url);
      const w = watcher();
      const first = backend.generate({ model: 'x', prompt: 'first', seed: 5, steps: 150, width: 512, height: 512, batch: 4, outDir: ws.images, confineTo: ws.root }, { jobId: 'a', token: w.token, onProgress: w.onProgress });
      first.catch(() => undefined);
      const deadline = Date.now() + 30_000;
      while (!w.progress.some((e) => e.step > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const err = await rejects(backend.generate({ model: 'x', prompt: 'second', seed: 1, steps: 2, outDir: ws.images }, { jobId: 'b' }));
      assert.match(err.message, /^The server's queue is full, try again in \d+ s\.$/);
      w.token.cancel();
      await first.catch(() => undefined);
    } finally {
      await busy.close();
    }
  });

  it('asks for "Set Server Credentials…" on 401, and sends the saved ones to that server only', async () => {
    const authFile = path.join(ws.root, 'auth.txt');
    fs.writeFileSync(authFile, 'teacher:s3cret\n');
    const locked = await serve(model, { authFile });
    try {
      const secrets = memorySecrets();
      const { backend } = backendFor('a1111', locked.url, { secrets });
      const err = await rejects(backend.generate({ model: 'x', prompt: 'p', seed: 1, steps: 2, outDir: ws.images }, { jobId: 'c' }));
      assert.match(err.message, /refused the request \(HTTP 401, not signed in\)\. Run "Course Illustrator: Set Server Credentials…"/);
      await saveCredentials(secrets, 'http://127.0.0.1:1', { user: 'teacher', password: 's3cret' });
      await rejects(backend.generate({ model: 'x', prompt: 'p', seed: 1, steps: 2, outDir: ws.images }, { jobId: 'd' }));
      await saveCredentials(secrets, locked.url, { user: 'teacher', password: 's3cret' });
      const r = await backend.generate({ model: 'x', prompt: 'p', seed: 1, steps: 2, width: 64, height: 64, outDir: ws.images, confineTo: ws.root }, { jobId: 'e' });
      assert.strictEqual(r.images.length, 1);
    } finally {
      await locked.close();
    }
  });

  it('services.engine routes generate to the server and imports through the real engine; job events fire', async () => {
    const log = memoryLog();
    const local = new EngineClient({ enginePath: await engineBundle(), engineOptions: () => ({ threads: 1 }), idleTimeoutMs: () => 0, log });
    const factory = new BackendFactory({ secrets: memorySecrets(), importImage: (p) => importViaEngine(local, p), log, pollMs: 50 });
    let config = { backend: 'a1111' as 'a1111' | 'local', backendUrl: server.url, backendModel: '' };
    const engine = new RoutedEngineClient({ local, backend: () => factory.forConfig(config), log });
    const events: JobEvent['kind'][] = [];
    engine.onJob((e) => events.push(e.kind));
    try {
      const outFile = path.join(ws.images, 'routed.png');
      const r = await engine.generate({ model: 'x', prompt: 'a mitochondrion', seed: 9, steps: 3, width: 64, height: 64, outFile, confineTo: ws.root, domain: 'education' });
      assert.strictEqual(r.images[0].path, outFile);
      assert.ok(events.includes('started') && events.at(-1) === 'finished', events.join());
      const info = await engine.info(outFile);
      assert.ok(info.kind === 'png' && info.aiGenerated && info.madeByCourseIllustrator && info.fields?.Seed === '9');
      // Outside the workspace: refused where the file is written, nothing written.
      const outside = await rejects(engine.generate({ model: 'x', prompt: 'escape', seed: 1, steps: 2, width: 64, height: 64, outFile: path.join(path.dirname(ws.root), 'escape.png'), confineTo: ws.images }));
      assert.match(outside.message, /outside/);
      config = { ...config, backend: 'local', backendUrl: '' };
      assert.strictEqual(factory.forConfig(config), undefined);
      config = { ...config, backend: 'a1111', backendUrl: '' };
      assert.match((await rejects(engine.generate({ model: 'x', prompt: 'p' }))).message, /courseIllustrator\.backendUrl is empty/);
    } finally {
      engine.dispose();
      local.dispose();
    }
  });
});
