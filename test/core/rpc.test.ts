import assert from 'node:assert/strict';
import { ModelsNotifications, ModelsRequests } from '../../src/core/modelsProtocol';
import { EngineNotifications, EngineRequests } from '../../src/core/engineRequests';
import { MalformedReplyError, checkReply } from '../../src/core/rpc';
import { ValidationError } from '../../src/core/validate';

// Every request is defined once in src/core, with the validators both ends run: the engine on
// the params, the extension on the reply.
describe('core/rpc: the typed requests', () => {
  const status = { pid: 42, protocolVersion: 1, loadedModels: [], queued: 0, provider: 'cpu', threads: 4 };

  it('refuses a malformed reply with a message naming the request and the field', () => {
    assert.throws(() => checkReply(EngineRequests.status, { ...status, pid: 'forty-two' }, {}), (e: Error) => {
      assert.ok(e instanceof MalformedReplyError && e instanceof ValidationError);
      assert.equal(e.message, 'The engine sent a malformed reply to engine/status: "pid" must be a finite number.');
      return true;
    });
    assert.throws(() => checkReply(EngineRequests.status, { ...status, provider: 'tpu' }, {}), /malformed reply to engine\/status: unknown provider "tpu"\./);
    assert.throws(() => checkReply(EngineRequests.tokenize, { inputIds: 'x', count: 1 }, { model: '/m', text: 'a' }),
      /^MalformedReplyError: The engine sent a malformed reply to engine\/tokenize: "inputIds" must be a list of integers\.$/);
    assert.throws(() => checkReply(EngineRequests.info, null, { path: '/x.png' }), /malformed reply to engine\/info: info result must be an object\./);
    assert.throws(() => checkReply(ModelsRequests.list, { store: '/s', installed: {}, partial: [], catalogue: [] }, {}),
      /malformed reply to models\/list: models\/list result "installed" must be a list\./);
  });

  it('checks a reply against its request: a generate reply must be about the same job', () => {
    const reply = {
      jobId: 'job-2',
      images: [{ path: '/a.png', seed: 1, width: 64, height: 64, infotext: 'x' }],
      timings: { loadMs: 0, totalMs: 5, unetStepMs: [1, 2] },
      scheduler: 'pndm',
    };
    const sent = { jobId: 'job-1', model: '/m', prompt: 'p' };
    assert.throws(() => checkReply(EngineRequests.generate, reply, sent), /malformed reply to engine\/generate: reply is for job job-2, expected job-1\./);
    const ok = checkReply(EngineRequests.generate, reply, { ...sent, jobId: 'job-2' });
    assert.deepEqual([ok.jobId, ok.images.length, ok.warnings, ok.timings.vaeMs], ['job-2', 1, [], 0]);
    assert.throws(() => checkReply(EngineRequests.generate, { ...reply, images: [] }, { ...sent, jobId: 'job-2' }), /"images" must be a non-empty list/);
  });

  it('accepts well-formed replies and fills the optional fields', () => {
    assert.deepEqual(checkReply(EngineRequests.status, status, {}), { ...status, running: undefined });
    assert.deepEqual(checkReply(EngineRequests.cancel, { cancelled: false }, { jobId: 'j' }), { cancelled: false });
    assert.equal(checkReply(EngineRequests.shutdown, null, {}), undefined);
  });

  it('checks params on the engine side with the same definitions', () => {
    assert.throws(() => EngineRequests.info.params({}), /"path" must be a non-empty string/);
    assert.deepEqual(EngineRequests.thumbnail.params({ source: '/a.png', dest: '/b.png' }), { source: '/a.png', dest: '/b.png', size: 256 });
    assert.throws(() => EngineRequests.cancel.params('job'), /parameters must be an object/);
    assert.deepEqual(EngineRequests.status.params(undefined), {});
    assert.throws(() => ModelsRequests.pull.params({ model: 'x' }), /"operationId" must be a non-empty string/);
  });

  it('names each method once, engine/* and models/*', () => {
    const methods = [...Object.values(EngineRequests), ...Object.values(EngineNotifications), ...Object.values(ModelsRequests), ...Object.values(ModelsNotifications)].map((t) => t.method);
    assert.equal(new Set(methods).size, methods.length);
    assert.ok(methods.every((m) => /^(engine|models)\/[a-z]+$/.test(m)), methods.join(', '));
    assert.equal(EngineNotifications.log.params({ level: 'shout', message: 'x' }).level, 'info', 'a log line is shown whatever its level');
  });
});
