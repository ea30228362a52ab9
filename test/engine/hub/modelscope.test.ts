// ModelScope as a second source: the same pull (staging, resume, sha256, limits) against a
// loopback server with ModelScope's API shapes (test/support/modelscopeServer.ts).

import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { ModelScopeServer } from '../../support/modelscopeServer';
import { pullModel } from '../../../src/engine/hub/download';
import { ModelScopeClient, ModelScopeOptions, modelscopeRedirectPolicy } from '../../../src/engine/hub/modelscope';
import { resolveModelSpec } from '../../../src/engine/hub/catalogue';
import { runModelsCommand } from '../../../src/engine/hub/cli';
import { MANIFEST_NAME, listPartial, readManifest } from '../../../src/engine/hub/store';
import { sourceClient } from '../../../src/engine/hub/sources';
import { validateModelsPullParams } from '../../../src/core/modelsProtocol';
import { FAST_RETRY, TARGET, fixtureDir, listFiles, rejection, tempStore } from './helpers';

const MS_REPO = 'AI-ModelScope/tiny-sd-onnx';
const MS_TARGET = { ...TARGET, repo: MS_REPO, revision: 'master' };
const UNET = 'unet/model.onnx';

describe('models: pull from ModelScope (loopback server)', function () {
  let ms: ModelScopeServer;
  let store: string;

  const client = (opts: ModelScopeOptions = {}): ModelScopeClient => new ModelScopeClient({ endpoint: ms.endpoint, stallTimeoutMs: 2000, env: {}, ...opts });
  const pull = (opts: ModelScopeOptions = {}, retry = FAST_RETRY) =>
    pullModel({ store, target: MS_TARGET, hub: client(opts), retry, progressIntervalMs: 0 });

  before(async () => {
    ms = await ModelScopeServer.start([{ repo: MS_REPO, dir: await fixtureDir() }, { repo: 'AI-ModelScope/no-unet', dir: await fixtureDir(), without: [UNET] }]);
  });
  after(async () => {
    await ms.close();
  });
  beforeEach(async () => {
    ms.faults = {};
    ms.requests.length = 0;
    ms.bytesServed.clear();
    store = await tempStore();
  });
  afterEach(async () => {
    await fs.rm(store, { recursive: true, force: true });
  });

  it('downloads a whole model, checks every sha256 ModelScope lists, and records the source', async () => {
    const r = await pull();
    const src = await fixtureDir();
    const expected = await listFiles(src);
    assert.deepEqual((await listFiles(r.model.path)).filter((f) => f !== MANIFEST_NAME), expected);
    for (const f of expected) assert.ok((await fs.readFile(path.join(r.model.path, f))).equals(await fs.readFile(path.join(src, f))), `${f} differs`);
    const manifest = await readManifest(r.model.path);
    assert.equal(manifest?.source, 'modelscope');
    assert.equal(manifest?.endpoint, ms.endpoint);
    assert.equal(manifest?.repo, MS_REPO);
    for (const f of manifest?.files ?? []) assert.equal(f.sha256, ms.file(MS_REPO, f.path).sha256, f.path);
    assert.deepEqual(await listFiles(path.join(store, '.staging')), []);
    // The list was asked recursively at the revision; files by Revision and FilePath.
    assert.ok(ms.requests.some((q) => /\/repo\/files\?Revision=master&Recursive=true$/.test(q.url)));
    assert.ok(ms.requests.some((q) => q.url.includes(`FilePath=${encodeURIComponent(UNET)}`)));
  });

  it('resumes a cut connection with a Range request, within one pull and in the next one', async () => {
    const size = ms.file(MS_REPO, UNET).data.length;
    const cut = Math.floor(size / 2);
    // Within one pull: the retry asks for the rest only.
    ms.faults.drop = { path: UNET, bytes: cut, times: 1 };
    await pull();
    assert.ok(ms.requests.some((q) => q.url.includes('FilePath=unet') && q.range === `bytes=${cut}-`), 'no Range request from the cut');
    assert.equal(ms.served(UNET), size, 'bytes of the file were fetched twice');

    // Across pulls: a pull that gives up keeps the part; the next one resumes from it.
    await fs.rm(store, { recursive: true, force: true });
    store = await tempStore();
    ms.requests.length = 0;
    ms.bytesServed.clear();
    ms.faults.drop = { path: UNET, bytes: cut, times: 1 };
    const failed = await rejection(() => pull({}, { ...FAST_RETRY, retries: 0, maxAttempts: 1 }));
    assert.equal(failed.code, 'truncated');
    const partial = await listPartial(store);
    assert.ok(partial[0].bytesDone >= cut, 'the part was not kept');
    const r = await pull();
    assert.ok(r.resumedBytes >= cut);
    assert.ok(ms.requests.some((q) => q.range === `bytes=${cut}-`));
    assert.equal(ms.served(UNET), size);
  });

  it('refuses a file whose bytes do not match the Sha256 ModelScope lists, and installs nothing', async () => {
    ms.faults.corrupt = { path: UNET };
    const err = await rejection(() => pull());
    assert.equal(err.code, 'hashMismatch');
    assert.match(err.message, /unet\/model\.onnx/);
    assert.match(err.message, /sha256/);
    await assert.rejects(fs.access(path.join(store, 'tiny')));
  });

  it('refuses a listed Sha256 that no download matches', async () => {
    ms.faults.wrongSha256 = [UNET];
    const err = await rejection(() => pull());
    assert.equal(err.code, 'hashMismatch');
    assert.match(err.message, /unet\/model\.onnx.*failed verification twice/);
  });

  it('names a file the repo lacks, and a file that answers 404', async () => {
    const err = await rejection(() => pullModel({ store, target: { ...MS_TARGET, repo: 'AI-ModelScope/no-unet' }, hub: client(), retry: FAST_RETRY }));
    assert.equal(err.code, 'notFound');
    assert.match(err.message, /lacks unet\/model\.onnx/);

    ms.faults.status = { code: 404, on: 'file', path: UNET };
    const err404 = await rejection(() => pull());
    assert.equal(err404.code, 'notFound');
    assert.match(err404.message, /unet\/model\.onnx not found in AI-ModelScope\/tiny-sd-onnx@master on ModelScope/);
  });

  it('says so when the model or revision does not exist', async () => {
    const err = await rejection(() => pullModel({ store, target: { ...MS_TARGET, repo: 'nobody/nothing' }, hub: client(), retry: FAST_RETRY }));
    assert.equal(err.code, 'notFound');
    assert.match(err.message, /ModelScope has no model nobody\/nothing at revision "master".*default is "master"/);
    // A JSON error with HTTP 200 (Code not 200) is an error too.
    ms.faults.status = { code: 200, on: 'files', body: JSON.stringify({ Code: 10010205001, Message: 'model not exist', Success: false }) };
    const err200 = await rejection(() => pull());
    assert.equal(err200.code, 'notFound');
  });

  it('computes and records the sha256 of a file listed without one', async () => {
    ms.faults.noSha256 = ['model_index.json', UNET];
    const r = await pull();
    const manifest = await readManifest(r.model.path);
    const unet = manifest?.files.find((f) => f.path === UNET);
    assert.equal(unet?.sha256, ms.file(MS_REPO, UNET).sha256);
    assert.equal(manifest?.files.find((f) => f.path === 'model_index.json')?.sha256, ms.file(MS_REPO, 'model_index.json').sha256);
  });

  it('follows a redirect to object storage without the token, and refuses one to another host', async () => {
    ms.faults.redirectFiles = true;
    await pull({ token: 'ms-secret-token' });
    const storage = ms.requests.filter((q) => q.server === 'storage');
    assert.ok(storage.length > 0, 'no download came from the storage server');
    assert.ok(storage.every((q) => q.authorization === undefined), 'the token went to the storage server');
    assert.ok(ms.requests.filter((q) => q.server === 'api').every((q) => q.authorization === 'Bearer ms-secret-token'));

    await fs.rm(store, { recursive: true, force: true });
    store = await tempStore();
    ms.faults.redirectFilesTo = ms.storageEndpoint.replace('127.0.0.1', 'localhost');
    const err = await rejection(() => pull());
    assert.equal(err.code, 'http');
    assert.match(err.message, /redirected .* to http:\/\/localhost:\d+, which is not a host this download may use/);
  });

  it('allows redirects to ModelScope and Alibaba Cloud storage hosts only, never down to http', () => {
    const allow = modelscopeRedirectPolicy('https://www.modelscope.cn');
    assert.ok(allow(new URL('https://cdn-lfs-cn-1.modelscope.cn/x')));
    assert.ok(allow(new URL('https://modelscope.oss-cn-beijing.aliyuncs.com/x')));
    assert.ok(!allow(new URL('http://modelscope.oss-cn-beijing.aliyuncs.com/x')));
    assert.ok(!allow(new URL('https://evil.example/x')));
    assert.ok(!allow(new URL('https://modelscope.cn.evil.example/x')));
  });

  it('the CLI pulls with --source modelscope --endpoint, and never sends HF_TOKEN there', async () => {
    const out: string[] = [];
    const sink = (into: string[]): Writable => new Writable({ write: (c, _e, cb) => (into.push(String(c)), cb()) });
    const before = process.env.HF_TOKEN;
    process.env.HF_TOKEN = 'hf-secret-token';
    try {
      const code = await runModelsCommand(['pull', MS_REPO, '--source', 'modelscope', '--endpoint', ms.endpoint, '--store', store], { stdout: sink(out), stderr: sink([]) });
      assert.equal(code, 0, out.join(''));
    } finally {
      if (before === undefined) delete process.env.HF_TOKEN;
      else process.env.HF_TOKEN = before;
    }
    const result = JSON.parse(out.join('')) as { model: { id: string; repo: string; revision: string } };
    assert.equal(result.model.id, 'AI-ModelScope--tiny-sd-onnx'); // master is the default branch: no @master
    assert.equal(result.model.revision, 'master');
    assert.ok(ms.requests.every((q) => q.authorization === undefined), 'a token was sent to ModelScope');

    const bad: string[] = [];
    assert.equal(await runModelsCommand(['pull', MS_REPO, '--source', 'gitee'], { stdout: sink(bad), stderr: sink([]) }), 2);
    assert.match(bad.join(''), /--source must be huggingface or modelscope/);
  });

  it('a catalogue model without a ModelScope repo says what to do instead', () => {
    assert.throws(() => resolveModelSpec('sd15-onnx', { source: 'modelscope' }), /knows no ModelScope repo for "sd15-onnx".*--source modelscope/);
    const t = resolveModelSpec('sd15-onnx');
    assert.equal(t.repo, 'onnx-community/stable-diffusion-v1-5-ONNX');
  });

  it('models/pull params: source is checked, and a hub token never reaches ModelScope', () => {
    assert.equal(validateModelsPullParams({ operationId: 'x', model: 'a/b', source: 'modelscope' }).source, 'modelscope');
    assert.equal(validateModelsPullParams({ operationId: 'x', model: 'a/b' }).source, undefined);
    assert.throws(() => validateModelsPullParams({ operationId: 'x', model: 'a/b', source: 'gitee' }), /"source" must be huggingface or modelscope/);
    const c = sourceClient({ source: 'modelscope', endpoint: ms.endpoint, hubToken: 'hf-secret', env: {} });
    assert.equal(c.source, 'modelscope');
    assert.equal((c as unknown as { credentials?: unknown }).credentials, undefined);
  });
});
