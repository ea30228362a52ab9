import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { HubServer } from '../../support/hubServer';
import { listInstalled, listPartial, MANIFEST_NAME } from '../../../src/engine/hub/store';
import { FAST_RETRY, REPO, TARGET, client, fixtureBytes, fixtureDir, listFiles, pull, rejection, startHub, tempStore } from './helpers';
import { pullModel, selectFiles } from '../../../src/engine/hub/download';

describe('models: pull from a hub (loopback server)', function () {
  let hub: HubServer;
  let store: string;

  before(async () => {
    hub = await startHub();
  });
  after(async () => {
    await hub.close();
  });
  beforeEach(async () => {
    hub.faults = {};
    hub.requireToken = undefined;
    hub.resetStats();
    store = await tempStore();
  });
  afterEach(async () => {
    await fs.rm(store, { recursive: true, force: true });
  });

  it('downloads every file, byte for byte, into <store>/<id> with a manifest', async () => {
    const r = await pull(hub, store);
    const dir = path.join(store, 'tiny');
    assert.equal(r.model.path, dir);
    assert.equal(r.alreadyInstalled, false);
    const src = await fixtureDir();
    const expected = await listFiles(src);
    assert.deepEqual((await listFiles(dir)).filter((f) => f !== MANIFEST_NAME), expected);
    for (const f of expected) {
      assert.ok((await fs.readFile(path.join(dir, f))).equals(await fs.readFile(path.join(src, f))), `${f} differs`);
    }
    assert.equal(r.model.commit, hub.commitOf(REPO));
    assert.equal(r.model.bytes, await fixtureBytes());
    assert.equal(r.downloadedBytes, await fixtureBytes());
    // Nothing left behind: no staging folder content, no lock, no state file.
    assert.deepEqual(await listFiles(path.join(store, '.staging')), []);
    // Progress ends with everything done.
    const last = r.progress[r.progress.length - 1];
    assert.equal(last.phase, 'done');
    assert.equal(last.bytesDone, last.bytesTotal);
    assert.equal(last.filesDone, expected.length);
    // The file list was paged (Link headers) and LFS files came from the CDN without the token.
    assert.ok(hub.requests.some((q) => q.url.includes('cursor=')), 'tree pagination was not followed');
    assert.ok(hub.requests.some((q) => q.server === 'cdn'));
  });

  it('a second pull of an installed model fetches nothing', async () => {
    await pull(hub, store);
    hub.resetStats();
    const r = await pull(hub, store);
    assert.equal(r.alreadyInstalled, true);
    assert.equal(hub.requests.length, 0);
  });

  it('sends the token to the hub but never to the CDN it redirects to', async () => {
    hub.requireToken = 'hf_secret';
    await pull(hub, store, { hubOptions: { token: 'hf_secret' } });
    const hubReqs = hub.requests.filter((q) => q.server === 'hub');
    const cdnReqs = hub.requests.filter((q) => q.server === 'cdn');
    assert.ok(hubReqs.length > 0 && cdnReqs.length > 0);
    assert.ok(hubReqs.every((q) => q.authorization === 'Bearer hf_secret'));
    assert.ok(cdnReqs.every((q) => q.authorization === undefined));
  });

  it('resumes a dropped connection with Range, without fetching a byte twice', async () => {
    const big = 'text_encoder/model.onnx';
    const size = hub.file(REPO, big).data.length;
    hub.faults.drop = { path: big, bytes: 30_000, times: 1 };
    const small = 'tokenizer/vocab.json'; // not LFS: served by the hub itself
    hub.faults.stall = undefined;
    const r = await pull(hub, store);
    const ranges = hub.requests.filter((q) => q.url.includes(hub.file(REPO, big).sha256)).map((q) => q.range);
    assert.equal(hub.served(big), size, 'bytes of the dropped file were sent again');
    assert.deepEqual(ranges, [undefined, 'bytes=30000-']);
    assert.equal(hub.totalServed(), await fixtureBytes());
    assert.ok((await fs.readFile(path.join(r.model.path, big))).equals(hub.file(REPO, big).data));
    assert.ok(r.progress.some((p) => /Retrying/.test(p.message ?? '')), 'the retry was not reported');
    assert.ok(hub.served(small) > 0);
  });

  it('resumes a dropped small (non-LFS) file from the hub too', async () => {
    const f = 'tokenizer/vocab.json';
    hub.faults.drop = { path: f, bytes: 100_000, times: 2 };
    await pull(hub, store);
    assert.equal(hub.served(f), hub.file(REPO, f).data.length);
  });

  it('resumes after a cancelled pull, across "restarts", keeping the bytes already here', async () => {
    const total = await fixtureBytes();
    hub.faults.throttle = { chunkBytes: 8 << 10, delayMs: 5 };
    const ac = new AbortController();
    const err = await rejection(() =>
      pull(hub, store, {
        signal: ac.signal,
        onProgress: (p) => {
          if (p.bytesDone > 400_000) ac.abort();
        },
      }),
    );
    assert.equal(err.code, 'cancelled');
    assert.match(err.message, /resume/);
    // Nothing installed, but a resumable partial download is listed.
    assert.deepEqual(await listInstalled(store), []);
    const partial = await listPartial(store);
    assert.equal(partial.length, 1);
    assert.ok(partial[0].bytesDone > 300_000, `only ${partial[0].bytesDone} bytes kept`);
    const servedBefore = hub.totalServed();

    hub.faults = {};
    const r = await pull(hub, store); // a fresh pullModel call: all state comes from the disk
    assert.equal(r.resumedBytes, partial[0].bytesDone);
    assert.ok(r.progress.some((p) => /Resuming/.test(p.message ?? '')));
    // The second pull fetches exactly the missing bytes.
    assert.equal(hub.totalServed() - servedBefore, total - r.resumedBytes, 'the resumed pull re-downloaded kept bytes');
    assert.deepEqual(await listPartial(store), []);
    assert.equal((await listInstalled(store)).length, 1);
  });

  it('deletes and refetches a file whose sha256 does not match, once', async () => {
    const f = 'unet/weights.pb';
    hub.faults.corrupt = { path: f, times: 1 };
    const r = await pull(hub, store);
    assert.equal(hub.served(f), 2 * hub.file(REPO, f).data.length);
    assert.ok((await fs.readFile(path.join(r.model.path, f))).equals(hub.file(REPO, f).data));
    assert.ok(r.progress.some((p) => /once more/.test(p.message ?? '')));
  });

  it('checks small files against their git blob id', async () => {
    const f = 'model_index.json';
    hub.faults.corrupt = { path: f, times: 1 };
    const r = await pull(hub, store);
    assert.equal(hub.served(f), 2 * hub.file(REPO, f).data.length);
    assert.ok((await fs.readFile(path.join(r.model.path, f))).equals(hub.file(REPO, f).data));
  });

  it('a second mismatch is a clear error and installs nothing', async () => {
    const f = 'unet/weights.pb';
    hub.faults.corrupt = { path: f };
    const err = await rejection(() => pull(hub, store));
    assert.equal(err.code, 'hashMismatch');
    assert.match(err.message, /unet\/weights\.pb/);
    assert.match(err.message, /twice/);
    assert.deepEqual(await listInstalled(store), []);
    assert.equal(await fs.stat(path.join(store, 'tiny')).catch(() => undefined), undefined);
    const staged = await listFiles(path.join(store, '.staging', 'tiny'));
    const parts = await listFiles(path.join(store, '.staging', '.parts', 'tiny'));
    assert.ok(!parts.includes(f) && !staged.includes(f), 'the corrupt file was kept');
  });

  it('a file finished just before a crash (state not saved) is re-checked, not re-downloaded', async () => {
    hub.faults.corrupt = { path: 'unet/weights.pb' };
    await rejection(() => pull(hub, store));
    const stateFile = path.join(store, '.staging', 'tiny.state.json');
    const state = JSON.parse(await fs.readFile(stateFile, 'utf8'));
    const done = Object.keys(state.verified);
    assert.ok(done.includes('text_encoder/model.onnx'), `verified: ${done.join(', ')}`);
    delete state.verified['text_encoder/model.onnx'];
    await fs.writeFile(stateFile, JSON.stringify(state));
    hub.faults = {};
    hub.resetStats();
    await pull(hub, store);
    assert.equal(hub.served('text_encoder/model.onnx'), 0);
    assert.equal(hub.served('unet/weights.pb'), hub.file(REPO, 'unet/weights.pb').data.length);
  });

  it('gated repo: 401 explains the token and where to put it; with the token it works', async () => {
    hub.requireToken = 'hf_right';
    let err = await rejection(() => pull(hub, store));
    assert.equal(err.code, 'unauthorized');
    assert.match(err.message, /gated/);
    assert.match(err.message, /HF_TOKEN/);
    assert.match(err.message, /Enter Token/);
    err = await rejection(() => pull(hub, store, { hubOptions: { token: 'hf_wrong' } }));
    assert.equal(err.code, 'unauthorized');
    assert.match(err.message, /not accepted/);
    const r = await pull(hub, store, { hubOptions: { token: 'hf_right' } });
    assert.equal(r.alreadyInstalled, false);
  });

  it('wrong repo or revision: 404-style errors name what to check', async () => {
    let err = await rejection(() => pull(hub, store, { target: { ...TARGET, repo: 'test-org/nope' } }));
    assert.equal(err.code, 'notFound');
    assert.match(err.message, /test-org\/nope/);
    err = await rejection(() => pull(hub, store, { target: { ...TARGET, revision: 'v9' } }));
    assert.equal(err.code, 'notFound');
    assert.match(err.message, /revision "v9"/);
    err = await rejection(() => pull(hub, store, { target: { ...TARGET, require: ['unet/missing.onnx'] } }));
    assert.equal(err.code, 'notFound');
    assert.match(err.message, /unet\/missing\.onnx/);
    assert.deepEqual(await listInstalled(store), []);
  });

  it('a file answered with 404 fails the pull without retrying forever', async () => {
    hub.faults.status = { code: 404, errorCode: 'EntryNotFound', path: 'unet/model.onnx' };
    const err = await rejection(() => pull(hub, store));
    assert.equal(err.code, 'notFound');
    assert.match(err.message, /unet\/model\.onnx/);
    assert.equal(hub.requests.filter((q) => q.url.includes('/resolve/') && q.url.endsWith('unet/model.onnx')).length, 1);
  });

  it('retries 5xx answers', async () => {
    hub.faults.status = { code: 503, path: 'vae_decoder/model.onnx', times: 2 };
    const r = await pull(hub, store);
    assert.equal(r.alreadyInstalled, false);
  });

  it('a redirect loop is an error that says so', async () => {
    hub.faults.redirectLoop = true;
    const err = await rejection(() => pull(hub, store, { hubOptions: { maxRedirects: 5 } }));
    assert.equal(err.code, 'redirectLoop');
    assert.match(err.message, /redirect/i);
    assert.deepEqual(await listInstalled(store), []);
  });

  it('a stalled transfer is retried from where it stopped', async () => {
    const f = 'text_encoder/model.onnx';
    hub.faults.stall = { path: f, afterBytes: 20_000, times: 1 };
    const r = await pull(hub, store, { hubOptions: { stallTimeoutMs: 300 } });
    assert.equal(hub.served(f), hub.file(REPO, f).data.length);
    assert.ok(r.progress.some((p) => /stalled/.test(p.message ?? '')), JSON.stringify(r.progress.filter((p) => p.message).map((p) => p.message)));
  });

  it('a transfer that keeps stalling fails with "stalled" and keeps the part', async () => {
    const f = 'text_encoder/model.onnx';
    hub.faults.stall = { path: f, afterBytes: 20_000 };
    const err = await rejection(() => pull(hub, store, { hubOptions: { stallTimeoutMs: 200 }, retry: { ...FAST_RETRY, retries: 1 } }));
    assert.equal(err.code, 'stalled');
    assert.match(err.message, /text_encoder\/model\.onnx/);
    assert.match(err.message, /pull again to resume/);
    assert.deepEqual(await listInstalled(store), []);
  });

  it('a server that ignores Range makes the file restart from zero, still verified', async () => {
    const f = 'text_encoder/model.onnx';
    hub.faults.drop = { path: f, bytes: 30_000, times: 1 };
    hub.faults.ignoreRange = true;
    const r = await pull(hub, store);
    assert.ok((await fs.readFile(path.join(r.model.path, f))).equals(hub.file(REPO, f).data));
  });

  it('offline: connection refused and DNS failures are reported as such', async () => {
    const closed = await startHub();
    const endpoint = closed.endpoint;
    await closed.close();
    let err = await rejection(() => pullModel({ store, target: TARGET, hub: client(hub, { endpoint }), retry: { ...FAST_RETRY, retries: 1 } }));
    assert.equal(err.code, 'offline');
    assert.match(err.message, /refused/);
    const lookup = ((_host: string, _opts: unknown, cb: (e: NodeJS.ErrnoException) => void) => {
      const e: NodeJS.ErrnoException = new Error('getaddrinfo ENOTFOUND hub.invalid');
      e.code = 'ENOTFOUND';
      cb(e);
    }) as unknown as import('node:net').LookupFunction;
    err = await rejection(() =>
      pullModel({ store, target: TARGET, hub: client(hub, { endpoint: 'http://hub.invalid', lookup }), retry: { ...FAST_RETRY, retries: 1 } }),
    );
    assert.equal(err.code, 'offline');
    assert.match(err.message, /Cannot look up hub\.invalid/);
    assert.match(err.message, /HF_ENDPOINT/);
    assert.deepEqual(await listInstalled(store), []);
  });

  it('checks free disk space before downloading', async () => {
    const err = await rejection(() => pull(hub, store, { reserveBytes: 1e18 }));
    assert.equal(err.code, 'diskFull');
    assert.match(err.message, /Not enough disk space/);
    assert.ok(!hub.requests.some((q) => q.url.includes('/resolve/')), 'files were requested anyway');
  });

  it('refuses a folder in the way that is not a downloaded model', async () => {
    await fs.mkdir(path.join(store, 'tiny'));
    await fs.writeFile(path.join(store, 'tiny', 'mine.txt'), 'user data');
    const err = await rejection(() => pull(hub, store));
    assert.equal(err.code, 'badInput');
    assert.equal(await fs.readFile(path.join(store, 'tiny', 'mine.txt'), 'utf8'), 'user data');
  });

  it('two pulls of the same model at once: the second is told it is busy', async () => {
    hub.faults.throttle = { chunkBytes: 32 << 10, delayMs: 2 };
    const first = pull(hub, store);
    await new Promise((r) => setTimeout(r, 30));
    const err = await rejection(() => pull(hub, store));
    assert.equal(err.code, 'busy');
    await first;
  });

  it('a file list that points outside the model folder is refused', async () => {
    assert.throws(() => selectFiles([{ path: '../evil.onnx', size: 1 }], TARGET, 'x'), /not a plain relative path/);
    assert.throws(() => selectFiles([{ path: 'a/../../b', size: 1 }], TARGET, 'x'), /not a plain relative path/);
    assert.throws(() => selectFiles([{ path: '/etc/passwd', size: 1 }], TARGET, 'x'), /not a plain relative path/);
  });
});
