// The engine client against the real engine bundle (dist/engine.js over stdio), and against
// broken engines (one that never answers, one that dies at start) for the error paths.

import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import { EngineClient, type EngineClientConfig } from '../../../src/extension/engine/engineClient';
import type { EngineError } from '../../../src/extension/engine/engineError';
import { ModelsRequests } from '../../../src/core/modelsProtocol';
import { ModelsCallError, modelsApiFor } from '../../../src/extension/models/modelsApi';
import { ensureFixture } from '../../fixtures/tinyPipeline';
import { memoryLog } from '../../support/backendDeps';
import { engineBundle } from '../../support/engineProcess';
import { until } from '../../support/waitUntil';



describe('extension/engineClient', function () {
  this.timeout(120_000);
  let enginePath: string;
  let model: string;
  let out: string;
  const clients: EngineClient[] = [];
  const client = (over: Partial<EngineClientConfig> = {}): EngineClient => {
    const c = new EngineClient({ enginePath, engineOptions: () => ({ threads: 1 }), idleTimeoutMs: () => 0, log: memoryLog(), ...over });
    clients.push(c);
    return c;
  };

  before(async () => {
    enginePath = await engineBundle();
    model = await ensureFixture('tiny-a');
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-client-'));
  });
  afterEach(() => clients.splice(0).forEach((c) => c.dispose()));
  after(() => fs.rmSync(out, { recursive: true, force: true }));

  it('starts the engine on first use, reports progress and returns validated results', async () => {
    const c = client();
    assert.strictEqual(c.pid, undefined);
    // A listener that counts the jobs left when one ends (the status bar) must not count it.
    const leftWhenEnded: number[] = [];
    c.onJob((e) => e.kind === 'finished' && leftWhenEnded.push(c.activeJobs().length));
    const steps: number[] = [];
    const file = path.join(out, 'first.png');
    const r = await c.generate({ model, prompt: 'a cat', seed: 4, steps: 3, width: 64, height: 64, outFile: file }, { onProgress: (e) => e.stage === 'denoise' && steps.push(e.step) });
    assert.ok(c.pid);
    assert.strictEqual(r.images[0].path, file);
    assert.strictEqual(r.images[0].seed, 4);
    assert.ok(fs.existsSync(file));
    assert.ok(steps.length >= 3 && steps[steps.length - 1] === steps.length, `steps ${steps}`);
    assert.deepStrictEqual(c.activeJobs(), []);
    assert.deepStrictEqual(leftWhenEnded, [0]);
  });

  it('cancels through the token and keeps the engine for the next job', async () => {
    const c = client();
    const cts = new CancellationTokenSource();
    const job = c.generate({ model, prompt: 'a dog', seed: 1, steps: 150, width: 512, height: 512, outDir: out }, { token: cts.token, onProgress: () => cts.cancel() });
    await assert.rejects(job, (e: EngineError) => e.kind === 'cancelled');
    const pid = c.pid;
    await c.generate({ model, prompt: 'a dog', seed: 2, steps: 2, width: 64, height: 64, outDir: out });
    assert.strictEqual(c.pid, pid);
  });

  it('drops a cancelled job from the engine queue at once: it never runs and writes nothing', async () => {
    const c = client();
    let runningProgress = false;
    let runningDone = false;
    const running = c.generate({ model, prompt: 'a long road', seed: 3, steps: 150, width: 512, height: 512, outDir: out }, { onProgress: () => (runningProgress = true) });
    void running.then(() => (runningDone = true), () => (runningDone = true));
    const queuedFile = path.join(out, 'queued.png');
    const queuedProgress: string[] = [];
    let queuedPosition = 0;
    const queued = c.generate(
      { model, prompt: 'a queued boat', seed: 8, steps: 2, width: 64, height: 64, outFile: queuedFile },
      { jobId: 'queued-job', onProgress: (e) => queuedProgress.push(e.stage), onQueue: (q) => (queuedPosition = q.position) },
    );
    await until('the first job to run and the second to wait', () => runningProgress && queuedPosition > 0, 60_000);
    assert.strictEqual(await c.cancel('queued-job'), true);
    await assert.rejects(queued, (e: EngineError) => e.kind === 'cancelled');
    assert.strictEqual(runningDone, false, 'the queued job was dropped while the first one was still running');
    await running;
    assert.deepStrictEqual(queuedProgress, []);
    assert.strictEqual(fs.existsSync(queuedFile), false);
    assert.deepStrictEqual(c.activeJobs(), []);
  });

  it('stops when idle and starts a new engine for the next request', async () => {
    const c = client({ idleTimeoutMs: () => 300 });
    const first = (await c.status()).pid;
    await until('idle stop', () => c.pid === undefined);
    const second = (await c.status()).pid;
    assert.notStrictEqual(second, first);
  });

  it('restarts with new engine options once running jobs are done', async () => {
    let threads = 1;
    const c = client({ engineOptions: () => ({ threads }) });
    const before = await c.status();
    assert.strictEqual(before.threads, 1);
    threads = 2;
    c.restartWhenIdleAgain();
    await until('restart', () => c.pid === undefined);
    const after = await c.status();
    assert.strictEqual(after.threads, 2);
    assert.notStrictEqual(after.pid, before.pid);
  });

  it('fails with a clear timeout when the engine never answers', async () => {
    const silent = path.join(out, 'silent.js');
    fs.writeFileSync(silent, 'process.stdin.resume(); setInterval(() => {}, 1000);');
    const log = memoryLog();
    const c = client({ enginePath: silent, timeouts: { start: 400 }, log });
    await assert.rejects(c.status(), (e: EngineError) => {
      assert.strictEqual(e.kind, 'timeout');
      assert.match(e.message, /did not start within 0\.4 s/);
      return true;
    });
    await until('the hung engine is stopped', () => c.pid === undefined);
  });

  /**
   * A fake engine that never answers engine/info. Its generations either report once and fail
   * (prompt "fail"), or report every 50 ms until shut down (prompt "forever").
   */
  const hangingInfoEngine = (): string => {
    const file = path.join(out, 'hanging-info.js');
    const rpc = require.resolve('vscode-jsonrpc/node');
    fs.writeFileSync(
      file,
      `const rpc = require(${JSON.stringify(rpc)});
const c = rpc.createMessageConnection(new rpc.StreamMessageReader(process.stdin), new rpc.StreamMessageWriter(process.stdout));
const status = () => ({ pid: process.pid, protocolVersion: 1, loadedModels: [], queued: 0, provider: 'cpu', threads: 1 });
const progress = (jobId, step) => c.sendNotification('engine/progress', { jobId, image: 0, images: 1, step, total: 1000, elapsedMs: 0, etaMs: 0, stage: 'denoise' });
c.onRequest('engine/initialize', status);
c.onRequest('engine/info', () => new Promise(() => {}));
c.onRequest('engine/generate', (p) => {
  if (p.prompt === 'fail') {
    progress(p.jobId, 1);
    throw new rpc.ResponseError(1003, 'the model folder has no unet');
  }
  let step = 0;
  setInterval(() => progress(p.jobId, ++step), 50);
  return new Promise(() => {});
});
c.onRequest('engine/cancel', () => ({ cancelled: false }));
c.onRequest('engine/shutdown', () => setImmediate(() => process.exit(0)));
c.listen();
`,
    );
    return file;
  };

  it('restarts a silent engine at once when nothing runs, even right after a job', async () => {
    const log = memoryLog();
    const c = client({ enginePath: hangingInfoEngine(), timeouts: { request: 300, generateStall: 60_000, shutdown: 500 }, log });
    // A job that reported progress and ended a moment ago: nothing is running any more.
    await assert.rejects(c.generate({ model, prompt: 'fail', outDir: out }), /no unet/);
    const pid = c.pid;
    assert.ok(pid);
    const t0 = Date.now();
    await assert.rejects(c.info('/x.png'), (e: EngineError) => {
      assert.strictEqual(e.kind, 'timeout');
      assert.match(e.message, /did not answer engine\/info .* and was restarted/);
      return true;
    });
    await until('the silent engine is stopped', () => c.pid === undefined, 2000);
    console.log(`      [timing] silent engine stopped ${Date.now() - t0} ms after the info request (request timeout 300 ms)`);
    await until('the engine process to be gone', () => log.lines.some((l) => l.includes(`engine ${pid} stopped`)), 5000);
  });

  it('keeps an engine that times out on info while a generation in flight reports progress', async () => {
    const c = client({ enginePath: hangingInfoEngine(), timeouts: { request: 300, generateStall: 60_000, shutdown: 500 } });
    let steps = 0;
    const running = c.generate({ model, prompt: 'forever', outDir: out }, { onProgress: () => steps++ });
    running.catch(() => undefined);
    await until('the generation reports', () => steps > 0);
    const pid = c.pid;
    await assert.rejects(c.info('/x.png'), (e: EngineError) => e.kind === 'timeout');
    const stepsAtTimeout = steps;
    await until('more progress after the timeout', () => steps > stepsAtTimeout + 2);
    assert.strictEqual(c.pid, pid, 'the busy engine was restarted');
    assert.deepStrictEqual(c.activeJobs().length, 1);
  });

  it('refuses malformed replies with the core validators: a badReply error naming the request and the field', async () => {
    const file = path.join(out, 'malformed.js');
    const rpc = require.resolve('vscode-jsonrpc/node');
    fs.writeFileSync(
      file,
      `const rpc = require(${JSON.stringify(rpc)});
const c = rpc.createMessageConnection(new rpc.StreamMessageReader(process.stdin), new rpc.StreamMessageWriter(process.stdout));
c.onRequest('engine/initialize', () => ({ pid: process.pid, protocolVersion: 1, loadedModels: [], queued: 0, provider: 'cpu', threads: 1 }));
c.onRequest('engine/tokenize', () => ({ inputIds: 'forty-nine', count: 1 }));
c.onRequest('engine/status', () => ({ pid: 'me', protocolVersion: 1, provider: 'cpu' }));
c.onRequest('models/list', () => ({ store: '/s', installed: {}, partial: [], catalogue: [] }));
c.onRequest('engine/shutdown', () => setImmediate(() => process.exit(0)));
c.listen();
`,
    );
    const log = memoryLog();
    const c = client({ enginePath: file, log });
    await assert.rejects(c.tokenize({ model, text: 'a cell' }), (e: EngineError) => {
      assert.strictEqual(e.kind, 'badReply');
      assert.strictEqual(e.message, 'The engine sent a malformed reply to engine/tokenize: "inputIds" must be a list of integers. Rebuild the engine ("node esbuild.js").');
      return true;
    });
    await assert.rejects(c.status(), (e: EngineError) => e.kind === 'badReply' && /malformed reply to engine\/status: "pid" must be a finite number\./.test(e.message));
    await assert.rejects(c.models(ModelsRequests.list, {}), (e: EngineError) => e.kind === 'badReply' && /malformed reply to models\/list: models\/list result "installed" must be a list\./.test(e.message));
    // Through the models API too: a ModelsCallError with the same message, not a crash later.
    await assert.rejects(modelsApiFor(c).list({}), (e: ModelsCallError) => e instanceof ModelsCallError && /malformed reply to models\/list/.test(e.message));
    assert.ok(c.pid, 'a malformed reply does not stop the engine');
  });

  it('names the exit code and the last log line when the engine dies', async () => {
    const dying = path.join(out, 'dying.js');
    fs.writeFileSync(dying, 'console.error("onnxruntime: cannot open libonnxruntime.so"); process.exit(3);');
    const c = client({ enginePath: dying });
    await assert.rejects(c.status(), (e: EngineError) => {
      assert.strictEqual(e.kind, 'crashed');
      assert.match(e.message, /exit code 3/);
      assert.match(e.message, /cannot open libonnxruntime/);
      assert.match(e.message, /next job starts a new engine/);
      return true;
    });
  });

  it('says how to build the engine when its bundle is missing', async () => {
    const c = client({ enginePath: path.join(out, 'nope', 'engine.js') });
    await assert.rejects(c.status(), /engine bundle .*nope.engine\.js is missing: build it with "node esbuild\.js"/);
  });

  it('refuses every request while the host says so (Restricted Mode)', async () => {
    const c = client({ refuse: () => 'not in Restricted Mode' });
    await assert.rejects(c.info('/x.png'), (e: EngineError) => e.kind === 'restricted');
    assert.strictEqual(c.pid, undefined);
  });
});
