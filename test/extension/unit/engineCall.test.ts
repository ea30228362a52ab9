// One engine call against an in-process JSON-RPC peer: the reply validated, the stall limit and
// what restarts it, cancellation confirmed or not, an engine that goes away, and error mapping.

import * as assert from 'assert';
import { CancellationTokenSource, ResponseError, type MessageConnection } from 'vscode-jsonrpc/node';
import { ErrorCodes, type StatusResult } from '../../../src/core/protocol';
import { EngineRequests } from '../../../src/core/engineRequests';
import { call, type CallOptions } from '../../../src/extension/engine/engineCall';
import { EngineError } from '../../../src/extension/engine/engineError';
import { connectionPair } from '../../support/waitUntil';

const STATUS: StatusResult = { pid: 42, protocolVersion: 1, loadedModels: [], queued: 0, provider: 'cpu', threads: 1 };


function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

describe('extension/engine/engineCall', () => {
  let client: MessageConnection;
  let server: MessageConnection;
  let pending: Set<(e: EngineError) => void>;
  const engine = () => ({ connection: client, pending });
  const opts = (over: Partial<CallOptions> = {}): CallOptions => ({ stallMs: 2000, cancelGraceMs: 2000, ...over });

  beforeEach(() => {
    ({ client, server } = connectionPair());
    pending = new Set();
  });
  afterEach(() => {
    client.dispose();
    server.dispose();
  });
  const listen = () => {
    server.listen();
    client.listen();
  };

  it('returns the validated reply and leaves nothing pending', async () => {
    server.onRequest(EngineRequests.status.method, () => STATUS);
    listen();
    const p = call(engine(), EngineRequests.status, {}, opts());
    assert.strictEqual(pending.size, 1);
    assert.deepStrictEqual((await p).pid, 42);
    assert.strictEqual(pending.size, 0);
  });

  it('refuses a malformed reply as badReply, naming the method', async () => {
    server.onRequest(EngineRequests.status.method, () => ({ ...STATUS, pid: 'me' }));
    listen();
    await assert.rejects(call(engine(), EngineRequests.status, {}, opts()), (e: EngineError) => e.kind === 'badReply' && /malformed reply to engine\/status/.test(e.message));
  });

  it('gives up on a silent engine after the stall limit, then tells the caller', async () => {
    server.onRequest(EngineRequests.info.method, () => new Promise(() => {}));
    listen();
    let gaveUp = 0;
    let settledFirst = false;
    const onGiveUp = () => {
      gaveUp++;
      settledFirst = pending.size === 0;
    };
    const p = call(engine(), EngineRequests.info, { path: '/x.png' }, opts({ stallMs: 100, onGiveUp }));
    await assert.rejects(p, (e: EngineError) => e.kind === 'timeout' && /did not answer engine\/info within 0 s and was restarted/.test(e.message));
    await delay(0);
    assert.strictEqual(gaveUp, 1);
    assert.ok(settledFirst, 'the call was settled before onGiveUp ran');
    assert.strictEqual(pending.size, 0);
  });

  it('says a silent generation sent no progress', async () => {
    server.onRequest(EngineRequests.generate.method, () => new Promise(() => {}));
    listen();
    const p = call(engine(), EngineRequests.generate, { model: 'm', prompt: 'p', jobId: 'j' }, opts({ stallMs: 100 }));
    await assert.rejects(p, (e: EngineError) => e.kind === 'timeout' && /sent no progress for 0 s/.test(e.message));
  });

  it('keeps a call alive past the stall limit while something touches it', async () => {
    server.onRequest(EngineRequests.status.method, async () => {
      await delay(400);
      return STATUS;
    });
    listen();
    let touch = (): void => undefined;
    const timer = setInterval(() => touch(), 30);
    try {
      const r = await call(engine(), EngineRequests.status, {}, opts({ stallMs: 150, onTouch: (fn) => (touch = fn) }));
      assert.strictEqual(r.pid, 42);
    } finally {
      clearInterval(timer);
    }
  });

  it('sends a cancel on to the engine and rejects with its cancelled reply', async () => {
    let sawCancel = false;
    server.onRequest(EngineRequests.status.method, (_params: unknown, token) => {
      return new Promise((_resolve, reject) => {
        token.onCancellationRequested(() => {
          sawCancel = true;
          reject(new ResponseError(ErrorCodes.cancelled, 'cancelled'));
        });
      });
    });
    listen();
    const cts = new CancellationTokenSource();
    const p = call(engine(), EngineRequests.status, {}, opts({ token: cts.token }));
    setTimeout(() => cts.cancel(), 50);
    await assert.rejects(p, (e: EngineError) => e.kind === 'cancelled');
    assert.ok(sawCancel, 'the engine got $/cancelRequest');
  });

  it('stops waiting when the engine does not confirm a cancel within the grace time', async () => {
    server.onRequest(EngineRequests.generate.method, () => new Promise(() => {}));
    listen();
    const cts = new CancellationTokenSource();
    let gaveUp = 0;
    const p = call(engine(), EngineRequests.generate, { model: 'm', prompt: 'p', jobId: 'j' }, opts({ token: cts.token, cancelGraceMs: 100, onGiveUp: () => gaveUp++ }));
    cts.cancel();
    const t0 = Date.now();
    await assert.rejects(p, (e: EngineError) => e.kind === 'cancelled' && e.message === 'Generation cancelled (the engine did not confirm in time).');
    assert.ok(Date.now() - t0 < 1000, 'the grace time, not the stall limit');
    assert.strictEqual(gaveUp, 1);
  });

  it('fails when its engine goes away (the process fails everything pending)', async () => {
    server.onRequest(EngineRequests.status.method, () => new Promise(() => {}));
    listen();
    let gaveUp = 0;
    const p = call(engine(), EngineRequests.status, {}, opts({ stallMs: 100, onGiveUp: () => gaveUp++ }));
    for (const fail of [...pending]) fail(new EngineError('crashed', 'gone'));
    await assert.rejects(p, (e: EngineError) => e.kind === 'crashed' && e.message === 'gone');
    await delay(200);
    assert.strictEqual(gaveUp, 0, 'no stall timer left behind');
    assert.strictEqual(pending.size, 0);
  });

  it('maps error replies by code, or passes them on as they are when asked', async () => {
    server.onRequest(EngineRequests.status.method, () => {
      throw new ResponseError(ErrorCodes.modelError, 'the model folder has no unet', { code: 'noUnet' });
    });
    listen();
    await assert.rejects(call(engine(), EngineRequests.status, {}, opts()), (e: EngineError) => e.kind === 'modelError' && /no unet/.test(e.message));
    await assert.rejects(call(engine(), EngineRequests.status, {}, opts({ keepReplyErrors: true })), (e: unknown) => {
      assert.ok(e instanceof ResponseError);
      assert.strictEqual(e.code, ErrorCodes.modelError);
      assert.deepStrictEqual(e.data, { code: 'noUnet' });
      return true;
    });
  });
});
