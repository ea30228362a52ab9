// The engine process life cycle against a small fake engine (no model, no bundle build): start
// on use, idle stop, restart after the running work, and dispose.

import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EngineRequests } from '../../../src/core/engineRequests';
import { call } from '../../../src/extension/engine/engineCall';
import type { EngineError } from '../../../src/extension/engine/engineError';
import { EngineProcess, type EngineProcessConfig } from '../../../src/extension/engine/engineProcess';
import { until } from '../../support/waitUntil';


describe('extension/engine/engineProcess', function () {
  this.timeout(30_000);
  let dir: string;
  let enginePath: string;
  const processes: EngineProcess[] = [];
  const make = (over: Partial<EngineProcessConfig> = {}, onConnection: () => void = () => undefined): EngineProcess => {
    const log = { info: () => undefined, warn: () => undefined, error: () => undefined, show: () => undefined };
    const p = new EngineProcess({ enginePath, engineOptions: () => ({ threads: 1 }), idleTimeoutMs: () => 0, log, ...over }, { start: 10_000, shutdown: 1000 }, onConnection);
    processes.push(p);
    return p;
  };

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-process-'));
    enginePath = path.join(dir, 'fake-engine.js');
    // engine/status answers after 200 ms, so a test can keep a request running; engine/info never does.
    fs.writeFileSync(
      enginePath,
      `const rpc = require(${JSON.stringify(require.resolve('vscode-jsonrpc/node'))});
const c = rpc.createMessageConnection(new rpc.StreamMessageReader(process.stdin), new rpc.StreamMessageWriter(process.stdout));
const status = () => ({ pid: process.pid, protocolVersion: 1, loadedModels: [], queued: 0, provider: 'cpu', threads: 1 });
c.onRequest('engine/initialize', status);
c.onRequest('engine/status', () => new Promise((r) => setTimeout(() => r(status()), 200)));
c.onRequest('engine/info', () => new Promise(() => {}));
c.onRequest('engine/shutdown', () => setImmediate(() => process.exit(0)));
c.listen();
`,
    );
  });
  afterEach(() => processes.splice(0).forEach((p) => p.dispose()));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const status = (p: EngineProcess) => p.use((engine) => call(engine, EngineRequests.status, {}, { stallMs: 5000, cancelGraceMs: 1000 }));

  it('starts on first use, wires each new connection, and stops when idle', async () => {
    let connections = 0;
    const p = make({ idleTimeoutMs: () => 200 }, () => connections++);
    assert.strictEqual(p.pid, undefined);
    const first = await status(p);
    assert.strictEqual(first.pid, p.pid);
    assert.strictEqual(connections, 1);
    await until('idle stop', () => p.pid === undefined);
    const second = await status(p);
    assert.notStrictEqual(second.pid, first.pid);
    assert.strictEqual(connections, 2);
  });

  it('waits for the running request before a restart', async () => {
    const p = make();
    const first = await status(p);
    const running = status(p);
    p.restartWhenIdleAgain();
    assert.strictEqual(p.pid, first.pid, 'still busy');
    assert.strictEqual((await running).pid, first.pid);
    await until('the restart', () => p.pid === undefined);
  });

  it('fails the pending calls on stop and dispose, and refuses use after dispose', async () => {
    const p = make();
    const info = p.use((engine) => call(engine, EngineRequests.info, { path: '/x.png' }, { stallMs: 5000, cancelGraceMs: 1000 }));
    await until('the engine to start', () => p.current?.pending.size === 1);
    const failed = assert.rejects(info, (e: EngineError) => e.kind === 'crashed' && e.message === 'stopped for the test');
    await p.stop('stopped for the test');
    await failed;
    const again = p.use((engine) => call(engine, EngineRequests.info, { path: '/x.png' }, { stallMs: 5000, cancelGraceMs: 1000 }));
    await until('a new engine', () => p.current?.pending.size === 1);
    p.dispose();
    await assert.rejects(again, (e: EngineError) => e.kind === 'cancelled' && /shutting down/.test(e.message));
    await assert.rejects(status(p), (e: EngineError) => e.kind === 'cancelled');
  });

  it('refuses to start while the host says so', async () => {
    const p = make({ refuse: () => 'Restricted Mode' });
    await assert.rejects(status(p), (e: EngineError) => e.kind === 'restricted' && e.message === 'Restricted Mode');
    assert.strictEqual(p.current, undefined);
  });
});
