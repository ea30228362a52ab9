// The engine child process as the extension sees it: JSON-RPC over stdio with progress,
// previews, FIFO queue, cancellation and warm sessions.

import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CancellationTokenSource, ResponseError } from 'vscode-jsonrpc/node';
import { ensureFixture } from '../fixtures/tinyPipeline';
import { writeTinyTaesd } from '../fixtures/tinyTaesd';
import { startServer, EngineServer } from '../support/engineProcess';
import { GenerateResult, ProgressEvent, QueueEvent, StatusResult, ErrorCodes } from '../../src/core/protocol';
import { EngineNotifications, EngineRequests } from '../../src/core/engineRequests';

describe('engine server (JSON-RPC over stdio)', function () {
  this.timeout(120000);
  let model: string;
  let server: EngineServer;
  let dir: string;
  const progress: ProgressEvent[] = [];
  const queue: QueueEvent[] = [];

  before(async () => {
    model = await ensureFixture('tiny-a');
    server = await startServer();
    server.connection.onNotification(EngineNotifications.progress.method, (e: unknown) => { progress.push(e as ProgressEvent); });
    server.connection.onNotification(EngineNotifications.queue.method, (e: unknown) => { queue.push(e as QueueEvent); });
    await server.connection.sendRequest(EngineRequests.initialize.method, { provider: 'cpu', threads: 1 });
  });
  after(async () => server.close());
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-srv-'));
    progress.length = 0;
    queue.length = 0;
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const generate = (jobId: string, extra: object = {}, source?: CancellationTokenSource) => {
    const params = { jobId, model, prompt: 'a plant cell', seed: 1, steps: 4, outDir: dir, ...extra };
    // An explicit `undefined` token would be sent as a second parameter, so pass it only when there is one.
    return (source
      ? server.connection.sendRequest(EngineRequests.generate.method, params, source.token)
      : server.connection.sendRequest(EngineRequests.generate.method, params)) as Promise<GenerateResult>;
  };

  it('reports progress for every step with ETA, and previews every k steps', async () => {
    const r = await generate('p1', { previewEvery: 2, scheduler: 'euler' });
    assert.strictEqual(r.images.length, 1);
    const steps = progress.filter((e) => e.jobId === 'p1' && e.stage === 'denoise');
    assert.deepStrictEqual(steps.map((e) => e.step), [1, 2, 3, 4]);
    assert.ok(steps.every((e) => e.total === 4 && e.etaMs >= 0 && e.elapsedMs > 0));
    assert.strictEqual(steps[3].etaMs, 0);
    const previews = steps.filter((e) => e.preview);
    assert.deepStrictEqual(previews.map((e) => e.step), [2, 4]);
    const png = Buffer.from(previews[0].preview!.pngBase64, 'base64');
    assert.strictEqual(png.subarray(1, 4).toString(), 'PNG');
  });

  it('passes a preview decoder through: previews come from it, at the image\'s shape', async () => {
    const taesd = await writeTinyTaesd(path.join(dir, 'taesd'));
    const r = await generate('p2', { previewEvery: 4, previewDecoder: taesd, width: 128, height: 64 });
    assert.deepStrictEqual(r.warnings, []);
    const preview = progress.find((e) => e.jobId === 'p2' && e.preview)?.preview;
    assert.deepStrictEqual(preview && [preview.width, preview.height], [256, 128], '16x8 latents x 8, capped at 256');
    await assert.rejects(generate('p3', { previewEvery: 4, previewDecoder: 7 }), /previewDecoder/);
  });

  it('keeps the model loaded: a second job with the same model does not load it again', async () => {
    const s1 = (await server.connection.sendRequest(EngineRequests.status.method, {})) as StatusResult;
    await generate('w1');
    const r = await generate('w2', { seed: 2 });
    const s2 = (await server.connection.sendRequest(EngineRequests.status.method, {})) as StatusResult;
    // On the CPU one session is alive at a time, so the job re-creates sessions (loadMs) but
    // never reads the model folder again (no "load" stage).
    assert.ok(progress.some((e) => e.jobId === 'w1') && !progress.some((e) => e.jobId === 'w2' && e.stage === 'load'));
    assert.strictEqual(r.images.length, 1);
    assert.strictEqual(s1.pid, s2.pid);
    assert.deepStrictEqual(s2.loadedModels, [model]);
  });

  it('runs jobs first in, first out, one at a time, telling waiting jobs their place', async () => {
    const order: string[] = [];
    const a = generate('q1', { steps: 6 }).then(() => order.push('q1'));
    const b = generate('q2', { steps: 1 }).then(() => order.push('q2'));
    await Promise.all([a, b]);
    assert.deepStrictEqual(order, ['q1', 'q2']);
    assert.ok(queue.some((e) => e.jobId === 'q2' && e.position === 1));
    assert.ok(queue.some((e) => e.jobId === 'q2' && e.position === 0));
    const q2Start = progress.findIndex((e) => e.jobId === 'q2');
    const q1Last = progress.map((e) => e.jobId).lastIndexOf('q1');
    assert.ok(q2Start > q1Last, 'q2 started after q1 finished');
  });

  it('cancellation takes effect before the next UNet call and leaves no file', async () => {
    const source = new CancellationTokenSource();
    const seen: number[] = [];
    const sub = server.connection.onNotification(EngineNotifications.progress.method, (raw: unknown) => {
      const e = raw as ProgressEvent;
      if (e.jobId === 'c1' && e.stage === 'denoise') {
        seen.push(e.step);
        if (e.step === 2) source.cancel();
      }
    });
    // 256x256 keeps each step slow enough that the cancel arrives while the job runs.
    await assert.rejects(generate('c1', { steps: 150, batch: 2, width: 256, height: 256 }, source), (err: ResponseError<unknown>) => {
      assert.strictEqual(err.code, ErrorCodes.cancelled);
      return true;
    });
    sub.dispose();
    assert.ok(Math.max(...seen) < 20, `ran on to step ${Math.max(...seen)}`);
    assert.deepStrictEqual(fs.readdirSync(dir), []);
    // The engine is still fine afterwards.
    const r = await generate('c2', { steps: 1 });
    assert.strictEqual(r.images.length, 1);
  });

  it('a queued job can be cancelled by id before it starts', async () => {
    const first = generate('k1', { steps: 8 });
    const second = generate('k2', { steps: 1 }).then(() => undefined, (e: Error) => e);
    const reply = await server.connection.sendRequest(EngineRequests.cancel.method, { jobId: 'k2' });
    assert.deepStrictEqual(reply, { cancelled: true });
    await first;
    assert.match(String(await second), /cancelled/i);
    assert.strictEqual(fs.readdirSync(dir).length, 1);
  });

  it('validates every request and names the bad field', async () => {
    await assert.rejects(server.connection.sendRequest(EngineRequests.generate.method, { jobId: 'v1', model, prompt: 'x', seed: 'forty-two' }),
      (err: ResponseError<unknown>) => err.code === ErrorCodes.badInput && /"seed"/.test(err.message));
    await assert.rejects(server.connection.sendRequest(EngineRequests.generate.method, { jobId: 'v2', model, prompt: 'x', steps: 0, outDir: dir }),
      (err: ResponseError<unknown>) => err.code === ErrorCodes.badInput && /--steps/.test(err.message));
  });

  it('tokenize counts tokens and windows', async () => {
    const r = await server.connection.sendRequest(EngineRequests.tokenize.method, { model, text: 'a (red:1.2) blood cell' });
    assert.deepStrictEqual(r, { ...(r as object), count: 4, windows: 1 });
  });
});
