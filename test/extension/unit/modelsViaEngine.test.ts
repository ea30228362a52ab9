// Model downloads from the extension run in the engine child process (models/* over JSON-RPC),
// against a hub on 127.0.0.1: progress crosses the process boundary and keeps the call alive,
// error codes survive it, Cancel stops it, and an engine that cannot run at all leaves the
// extension host to do the work instead.

import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import type { ModelsProgress } from '../../../src/core/modelsProtocol';
import { EngineClient, type EngineClientConfig } from '../../../src/extension/engine/engineClient';
import { ModelsCallError, modelsApiFor } from '../../../src/extension/models/modelsApi';
import { startHub, REPO } from '../../engine/hub/helpers';
import { engineBundle } from '../../support/engineProcess';
import type { HubServer } from '../../support/hubServer';

function memoryLog() {
  const lines: string[] = [];
  return { lines, info: (m: string) => lines.push(`I ${m}`), warn: (m: string) => lines.push(`W ${m}`), error: (m: string) => lines.push(`E ${m}`), show() {} };
}

describe('model downloads through the engine process', function () {
  this.timeout(120_000);
  let hub: HubServer;
  let enginePath: string;
  let tmp: string;
  let store: string;
  const clients: EngineClient[] = [];
  const client = (over: Partial<EngineClientConfig> = {}) => {
    const log = memoryLog();
    // env: no proxy from the developer's shell; the hub is on loopback.
    const c = new EngineClient({ enginePath, engineOptions: () => ({ threads: 1 }), idleTimeoutMs: () => 0, log, env: { HTTPS_PROXY: '', HTTP_PROXY: '', https_proxy: '', http_proxy: '' }, ...over });
    clients.push(c);
    return { c, log, api: modelsApiFor(c, log) };
  };

  before(async () => {
    hub = await startHub();
    enginePath = await engineBundle();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-models-engine-'));
  });
  beforeEach(() => {
    store = fs.mkdtempSync(path.join(tmp, 'store-'));
    hub.faults = {};
  });
  afterEach(() => clients.splice(0).forEach((c) => c.dispose()));
  after(async () => {
    await hub.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('pulls in the engine process, with progress that keeps a slow download alive', async () => {
    // Progress every 250 ms; without it the call would be given up after 1.5 s of silence.
    hub.faults.throttle = { chunkBytes: 64 * 1024, delayMs: 100 };
    const { c, log, api } = client({ timeouts: { generateStall: 1500 } });
    const progress: ModelsProgress[] = [];
    const started = Date.now();
    const r = await api.pull({ operationId: 'op-1', model: REPO, store, endpoint: hub.endpoint }, { onProgress: (p) => progress.push(p) });
    assert.ok(Date.now() - started > 1500, `the download outlasted the stall limit (${Date.now() - started} ms)`);
    assert.ok(c.pid, 'the engine process ran it');
    assert.ok(!log.lines.some((l) => l.includes('running it in the extension host')), log.lines.join('\n'));
    assert.ok(progress.length > 2 && progress.every((p) => p.operationId === 'op-1'));
    assert.strictEqual(progress[progress.length - 1].bytesDone, progress[progress.length - 1].bytesTotal);
    assert.ok(fs.existsSync(path.join(r.model.path, 'unet', 'model.onnx')));
    const list = await api.list({ store });
    assert.deepStrictEqual(list.installed.map((m) => m.path), [r.model.path]);
  });

  it('keeps the hub\'s error code across the process boundary', async () => {
    const { api } = client();
    await assert.rejects(api.pull({ operationId: 'op-404', model: 'test-org/no-such-repo', store, endpoint: hub.endpoint }), (e: ModelsCallError) => {
      assert.ok(e instanceof ModelsCallError);
      assert.strictEqual(e.code, 'notFound');
      assert.match(e.message, /no-such-repo/);
      return true;
    });
    assert.deepStrictEqual((await api.list({ store })).installed, []);
  });

  it('cancels a download in the engine and installs nothing; the engine stays for the next call', async () => {
    hub.faults.throttle = { chunkBytes: 16 * 1024, delayMs: 50 };
    const { c, api } = client();
    const cts = new CancellationTokenSource();
    const pulling = api.pull({ operationId: 'op-cancel', model: REPO, store, endpoint: hub.endpoint }, { token: cts.token, onProgress: (p) => p.bytesDone > 0 && cts.cancel() });
    await assert.rejects(pulling, (e: ModelsCallError) => e.code === 'cancelled');
    const pid = c.pid;
    assert.ok(pid);
    const list = await api.list({ store });
    assert.deepStrictEqual(list.installed, [], 'nothing half-installed');
    assert.strictEqual(c.pid, pid, 'the same engine answered');
  });

  it('does the work in the extension host when the engine cannot run, and says so in the log', async () => {
    const dying = path.join(tmp, 'dying.js');
    fs.writeFileSync(dying, 'console.error("onnxruntime: cannot open libonnxruntime.so"); process.exit(3);');
    const { log, api } = client({ enginePath: dying });
    const r = await api.pull({ operationId: 'op-here', model: REPO, store, endpoint: hub.endpoint });
    assert.ok(fs.existsSync(path.join(r.model.path, 'model_index.json')));
    assert.ok(log.lines.some((l) => /^W models\/pull: the engine could not run it \(.*exit code 3.*\); running it in the extension host instead\.$/.test(l)), log.lines.join('\n'));
  });
});
