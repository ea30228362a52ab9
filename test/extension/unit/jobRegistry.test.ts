// The work in flight: notifications from an in-process JSON-RPC peer reach the right job or
// operation, keep work alive, and malformed ones are dropped with a warning; cancel by id.

import * as assert from 'assert';
import { CancellationTokenSource, type MessageConnection } from 'vscode-jsonrpc/node';
import type { ProgressEvent, QueueEvent } from '../../../src/core/protocol';
import type { ModelsProgress } from '../../../src/core/modelsProtocol';
import { JobRegistry, newJobId } from '../../../src/extension/engine/jobRegistry';
import type { JobEvent } from '../../../src/extension/services';
import { connectionPair, until } from '../../support/waitUntil';



const progress = (jobId: string, step = 1) => ({ jobId, image: 0, images: 1, step, total: 10, elapsedMs: 0, etaMs: 0, stage: 'denoise' });
const modelsProgress = (operationId: string) => ({ operationId, id: 'repo/model', phase: 'downloading', filesDone: 0, filesTotal: 2, bytesDone: 10, bytesTotal: 100, bytesPerSecond: 5, etaSeconds: 18 });

describe('extension/engine/jobRegistry', () => {
  let client: MessageConnection;
  let server: MessageConnection;
  let events: JobEvent[];
  let warnings: string[];
  let jobs: JobRegistry;

  beforeEach(() => {
    ({ client, server } = connectionPair());
    events = [];
    warnings = [];
    jobs = new JobRegistry({ warn: (m) => warnings.push(m) }, (e) => events.push(e));
    jobs.listen(client);
    client.listen();
    server.listen();
  });
  afterEach(() => {
    client.dispose();
    server.dispose();
  });

  it('routes progress and queue notifications to their own job, and reports them as job events', async () => {
    const aProgress: ProgressEvent[] = [];
    const bQueue: QueueEvent[] = [];
    const a = jobs.addJob('a', { onProgress: (e) => aProgress.push(e), onQueue: () => assert.fail('a is not queued') });
    const b = jobs.addJob('b', { onProgress: () => assert.fail('b is not running'), onQueue: (e) => bQueue.push(e) });
    await server.sendNotification('engine/queue', { jobId: 'b', position: 1 });
    await server.sendNotification('engine/progress', progress('a', 3));
    await server.sendNotification('engine/progress', progress('someone-else'));
    await until('both notifications', () => events.length === 2);
    assert.deepStrictEqual(bQueue, [{ jobId: 'b', position: 1 }]);
    assert.deepStrictEqual(aProgress.map((e) => e.step), [3]);
    assert.deepStrictEqual(
      events.map((e) => [e.kind, e.jobId]),
      [
        ['queued', 'b'],
        ['progress', 'a'],
      ],
    );
    a.dispose();
    b.dispose();
  });

  it("keeps every job alive on the running job's progress: queued jobs send nothing of their own", async () => {
    const running = jobs.addJob('running', {});
    const queued = jobs.addJob('queued', {});
    let rearmed = 0;
    queued.onTouch(() => rearmed++);
    await server.sendNotification('engine/progress', progress('running'));
    await until('the progress', () => events.length === 1);
    assert.ok(running.lastSignAt > 0 && queued.lastSignAt > 0);
    assert.strictEqual(rearmed, 1, "the queued job's stall timer started again");
  });

  it('drops malformed notifications with a warning', async () => {
    const job = jobs.addJob('a', { onProgress: () => assert.fail('malformed') });
    await server.sendNotification('engine/progress', { jobId: 'a', stage: 'dreaming' });
    await server.sendNotification('engine/queue', { jobId: 'a' });
    await until('two warnings', () => warnings.length === 2);
    assert.match(warnings[0], /ignored a malformed progress notification: unknown progress stage "dreaming"/);
    assert.match(warnings[1], /ignored a malformed queue notification/);
    assert.strictEqual(job.lastSignAt, 0);
    assert.deepStrictEqual(events, []);
  });

  it('routes models/progress by operationId; an unreadable one still shows the engine is alive', async () => {
    const got: ModelsProgress[] = [];
    const op = jobs.addOperation('op-1', { onProgress: (p) => got.push(p) });
    await server.sendNotification('models/progress', modelsProgress('op-2'));
    await server.sendNotification('models/progress', { operationId: 'op-1', phase: 'napping' });
    await until('a warning', () => warnings.length === 1);
    assert.ok(op.lastSignAt > 0);
    assert.match(warnings[0], /ignored a malformed models\/progress notification/);
    await server.sendNotification('models/progress', modelsProgress('op-1'));
    await until('the progress', () => got.length === 1);
    assert.strictEqual(got[0].bytesDone, 10);
    op.dispose();
  });

  it('lists jobs oldest first, drops them when done, and cancels by id', () => {
    const first = jobs.addJob('first', {});
    const second = jobs.addJob(newJobId(), {});
    assert.deepStrictEqual(jobs.ids()[0], 'first');
    assert.match(jobs.ids()[1], /^job-/);
    assert.strictEqual(jobs.cancel('nope'), false);
    assert.strictEqual(jobs.cancel('first'), true);
    assert.strictEqual(first.token.isCancellationRequested, true);
    assert.strictEqual(second.token.isCancellationRequested, false);
    first.dispose();
    assert.strictEqual(jobs.has('first'), false);
    assert.strictEqual(jobs.ids().length, 1);
    second.dispose();
    assert.deepStrictEqual(jobs.ids(), []);
  });

  it("cancels the work when the caller's token fires, and lets go of that token when done", () => {
    const cts = new CancellationTokenSource();
    const job = jobs.addJob('a', { token: cts.token });
    const op = jobs.addOperation(undefined, { token: cts.token });
    cts.cancel();
    assert.ok(job.token.isCancellationRequested && op.token.isCancellationRequested);
    const later = new CancellationTokenSource();
    const done = jobs.addJob('b', { token: later.token });
    const token = done.token;
    done.dispose();
    later.cancel();
    assert.strictEqual(token.isCancellationRequested, false, 'a finished job no longer follows the caller');
  });

  it('counts as alive only other work that had news within the limit', () => {
    const self = jobs.addJob('self', {});
    const other = jobs.addOperation('op', {});
    const silent = jobs.addJob('silent', {});
    assert.strictEqual(jobs.otherWorkAlive(self, 1000), false, 'no news from anyone yet');
    self.touch();
    assert.strictEqual(jobs.otherWorkAlive(self, 1000), false, 'its own news does not count');
    other.touch();
    assert.strictEqual(jobs.otherWorkAlive(self, 1000), true);
    other.lastSignAt = Date.now() - 5000;
    assert.strictEqual(jobs.otherWorkAlive(self, 1000), false, 'old news');
    other.dispose();
    silent.dispose();
    self.dispose();
  });
});
