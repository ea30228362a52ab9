import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import type { HubServer } from '../../support/hubServer';
import { runModelsCommand } from '../../../src/engine/hub/cli';
import { handleModelsRequest } from '../../../src/engine/hub/rpc';
import { catalogue, parseCatalogue, resolveModelSpec } from '../../../src/engine/hub/catalogue';
import { MANIFEST_NAME, listInstalled, listPartial, removeModel, verifyModel } from '../../../src/engine/hub/store';
import { DERIVED_FOLDER } from '../../../src/engine/modelFolder/derivedFiles';
import { ModelsRequests, type ModelsProgress } from '../../../src/core/modelsProtocol';
import { validateModelsListResult, validateModelsProgress, validateModelsPullResult } from '../../../src/core/modelsProtocol';
import { REPO, pull, rejection, startHub, tempStore } from './helpers';

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  return { stream, text: () => text };
}

/** Runs the CLI with HF_ENDPOINT pointing at the test hub, like a user's shell would. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the CLI's --json output; each test reads the fields it checks
async function cli(hub: HubServer, args: string[]): Promise<{ code: number; out: string; err: string; json: any }> {
  const out = sink();
  const err = sink();
  const saved = { HF_ENDPOINT: process.env.HF_ENDPOINT, HF_TOKEN: process.env.HF_TOKEN };
  process.env.HF_ENDPOINT = hub.endpoint;
  delete process.env.HF_TOKEN;
  try {
    const code = await runModelsCommand(args, { stdout: out.stream, stderr: err.stream });
    const text = out.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { code, out: text, err: err.text(), json };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('models: store, CLI and RPC handlers', function () {
  let hub: HubServer;
  let store: string;

  // The CLI and the handlers read proxies from the environment: keep loopback traffic direct.
  const proxyVars = ['HTTPS_PROXY', 'HTTP_PROXY', 'ALL_PROXY', 'https_proxy', 'http_proxy', 'all_proxy'];
  const savedProxy: Record<string, string | undefined> = {};

  before(async () => {
    hub = await startHub();
    for (const k of proxyVars) {
      savedProxy[k] = process.env[k];
      delete process.env[k];
    }
  });
  after(async () => {
    await hub.close();
    for (const k of proxyVars) if (savedProxy[k] !== undefined) process.env[k] = savedProxy[k];
  });
  beforeEach(async () => {
    hub.faults = {};
    hub.resetStats();
    store = await tempStore();
  });
  afterEach(async () => {
    await fs.rm(store, { recursive: true, force: true });
  });

  it('verify finds a changed and a missing file; remove deletes the model', async () => {
    const r = await pull(hub, store);
    assert.deepEqual((await verifyModel(store, 'tiny')).problems, []);
    const f = path.join(r.model.path, 'unet', 'weights.pb');
    const bytes = await fs.readFile(f);
    bytes[10] ^= 1;
    await fs.writeFile(f, bytes);
    await fs.rm(path.join(r.model.path, 'tokenizer', 'merges.txt'));
    const v = await verifyModel(store, 'tiny');
    assert.equal(v.ok, false);
    assert.equal(v.problems.length, 2);
    assert.ok(v.problems.some((p) => p.startsWith('unet/weights.pb: content changed')));
    assert.ok(v.problems.some((p) => p === 'tokenizer/merges.txt: missing'));
    const rm = await removeModel(store, 'tiny');
    assert.equal(rm.removed, true);
    assert.deepEqual(await listInstalled(store), []);
    assert.equal((await removeModel(store, 'tiny')).removed, false);
    await assert.rejects(verifyModel(store, 'tiny'), /No model "tiny"/);
    await assert.rejects(removeModel(store, '../etc'), /not a model id/);
  });

  it('lists what the engine prepared beside a model (its Winograd weights) with it; verify ignores it, remove takes it', async () => {
    const r = await pull(hub, store);
    assert.equal((await listInstalled(store))[0].preparedBytes, undefined);
    for (const [component, size] of [['unet', 3000], ['vae_decoder', 1000]] as const) {
      await fs.mkdir(path.join(r.model.path, component, DERIVED_FOLDER), { recursive: true });
      await fs.writeFile(path.join(r.model.path, component, DERIVED_FOLDER, `winograd-${component}.bin`), Buffer.alloc(size));
    }
    const [listed] = await listInstalled(store);
    assert.equal(listed.preparedBytes, 4000);
    assert.equal(listed.bytes, r.model.bytes, 'the download itself is what the manifest says');
    assert.deepEqual((await verifyModel(store, 'tiny')).problems, []);
    const c = await cli(hub, ['list', '--store', store]);
    assert.equal(c.code, 0, c.err);
    assert.equal(validateModelsListResult(c.json).installed[0].preparedBytes, 4000);
    assert.match(c.err, / \+ [0-9.]+ [kK]B prepared for this computer, commit /);
    assert.equal((await removeModel(store, 'tiny')).removed, true);
    await assert.rejects(fs.stat(r.model.path));
  });

  it('remove also drops a partial download', async () => {
    hub.faults.corrupt = { path: 'unet/weights.pb' };
    await rejection(() => pull(hub, store));
    assert.equal((await listPartial(store)).length, 1);
    assert.equal((await removeModel(store, 'tiny')).removed, true);
    assert.deepEqual(await listPartial(store), []);
  });

  it('CLI: pull a repo, list, verify, remove; JSON on stdout, progress on stderr', async () => {
    let r = await cli(hub, ['pull', REPO, '--store', store]);
    assert.equal(r.code, 0, r.err);
    const pulled = validateModelsPullResult(r.json);
    assert.equal(pulled.model.id, 'test-org--tiny-sd-onnx');
    assert.equal(pulled.model.commit, hub.commitOf(REPO));
    assert.match(r.err, /Installed test-org--tiny-sd-onnx/);
    // The default selection for a bare repo skips non-ONNX weights and docs but keeps the model.
    const files = (await fs.readdir(path.join(store, pulled.model.id))).sort();
    assert.ok(files.includes('model_index.json') && files.includes('unet') && files.includes(MANIFEST_NAME));

    r = await cli(hub, ['list', '--store', store]);
    assert.equal(r.code, 0);
    const list = validateModelsListResult(r.json);
    assert.deepEqual(list.installed.map((m) => m.id), ['test-org--tiny-sd-onnx']);
    assert.ok(list.catalogue.some((c) => c.id === 'sd15-onnx'));

    r = await cli(hub, ['verify', 'test-org--tiny-sd-onnx', '--store', store]);
    assert.equal(r.code, 0);
    assert.equal(r.json.ok, true);

    r = await cli(hub, ['remove', 'test-org--tiny-sd-onnx', '--store', store]);
    assert.equal(r.code, 0);
    assert.equal(r.json.removed, true);
  });

  it('CLI: --include picks files; errors give a code, a message and an exit status', async () => {
    let r = await cli(hub, ['pull', `${REPO}@main`, '--store', store, '--include', 'tokenizer/*', '--include', 'model_index.json']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.json.model.files, 5);

    r = await cli(hub, ['pull', 'no-such-model', '--store', store]);
    assert.equal(r.code, 2);
    assert.equal(r.json.error.code, 'badInput');
    assert.match(r.err, /Unknown model "no-such-model"/);

    r = await cli(hub, ['pull', 'test-org/missing', '--store', store]);
    assert.equal(r.code, 3);
    assert.equal(r.json.error.code, 'notFound');

    hub.requireToken = 'hf_x';
    r = await cli(hub, ['pull', REPO, '--store', path.join(store, 'other')]);
    hub.requireToken = undefined;
    assert.equal(r.json.error.code, 'unauthorized');
    assert.match(r.err, /HF_TOKEN/);

    r = await cli(hub, ['frobnicate']);
    assert.equal(r.code, 2);
    r = await cli(hub, ['pull', REPO, '--bogus']);
    assert.equal(r.code, 2);
    assert.match(r.err, /Unknown option --bogus/);
  });

  it('RPC handlers: pull with progress notifications, cancel, list, verify, remove', async () => {
    const progress: ModelsProgress[] = [];
    const ctx = (signal = new AbortController().signal) => ({ progress: (p: ModelsProgress) => progress.push(validateModelsProgress(p)), signal });

    // Cancel through the signal (JSON-RPC $/cancelRequest): nothing installed, partial kept.
    hub.faults.throttle = { chunkBytes: 8 << 10, delayMs: 5 };
    const ac = new AbortController();
    const cancelled = await rejection(() =>
      handleModelsRequest(ModelsRequests.pull, { operationId: 'op1', model: REPO, store, endpoint: hub.endpoint }, {
        progress: (p: ModelsProgress) => {
          if (p.bytesDone > 100_000) ac.abort();
        },
        signal: ac.signal,
      }),
    );
    assert.equal(cancelled.code, 'cancelled');
    assert.equal((cancelled as unknown as { kind: string }).kind, 'cancelled');
    hub.faults = {};

    const r = await handleModelsRequest(ModelsRequests.pull, { operationId: 'op2', model: REPO, store, endpoint: hub.endpoint }, ctx());
    assert.ok(r.resumedBytes > 0);
    assert.ok(progress.length > 0 && progress.every((p) => p.operationId === 'op2'));
    assert.equal(progress[progress.length - 1].phase, 'done');

    const list = await handleModelsRequest(ModelsRequests.list, { store }, ctx());
    assert.equal(list.installed.length, 1);
    progress.length = 0;
    const v = await handleModelsRequest(ModelsRequests.verify, { id: list.installed[0].id, store, operationId: 'op3' }, ctx());
    assert.equal(v.ok, true);
    assert.ok(progress.some((p) => p.phase === 'verifying' && p.bytesDone === p.bytesTotal));
    assert.equal((await handleModelsRequest(ModelsRequests.remove, { id: list.installed[0].id, store }, ctx())).removed, true);

    await assert.rejects(handleModelsRequest(ModelsRequests.pull, { model: REPO }, ctx()), /operationId/);
    await assert.rejects(handleModelsRequest(ModelsRequests.list, { store: 'relative/path' }, ctx()), /absolute path/);
  });

  it('the shipped catalogue parses, has one default pipeline, and resolves specs', () => {
    const entries = catalogue();
    assert.equal(entries.filter((e) => e.default).length, 1);
    assert.equal(entries.find((e) => e.default)?.kind, 'pipeline');
    for (const id of ['sd15-onnx', 'sd15-onnx-fp16', 'lcm-dreamshaper-v7-onnx', 'taesd-onnx', 'lcm-lora-sdv1-5']) assert.ok(entries.some((e) => e.id === id), id);
    for (const e of entries) {
      // Users read the notes: no working notes, and each entry is pinned or resolved on download.
      assert.doesNotMatch(e.notes, /assum|unverified|todo/i, e.id);
      assert.match(e.revision, /^([0-9a-f]{40}|main)$/, e.id);
    }
    const lcm = entries.find((e) => e.id === 'lcm-dreamshaper-v7-onnx');
    assert.equal(lcm?.repo, 'SimianLuo/LCM_Dreamshaper_v7', 'the official fp32 ONNX export, not an fp16 one');
    assert.ok(lcm?.exclude.includes('**/*.safetensors'), 'the PyTorch weights next to the ONNX files are not downloaded');
    assert.equal(entries.find((e) => e.id === 'lcm-lora-sdv1-5')?.kind, 'lora');
    assert.equal(resolveModelSpec('sd15-onnx').repo, 'onnx-community/stable-diffusion-v1-5-ONNX');
    const t = resolveModelSpec('someone/model@refs/pr/3');
    assert.equal(t.revision, 'refs/pr/3');
    assert.equal(t.id, 'someone--model@refs_pr_3');
    assert.throws(() => resolveModelSpec('../../x/y'), /not a hub repo name/);
    assert.throws(() => parseCatalogue({ models: [{ id: 'x' }] }), /models\[0\] \(x\): "repo"/);
  });
});
