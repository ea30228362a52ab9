import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { runModelsCommand } from '../../../src/engine/hub/cli';
import { handleModelsRequest } from '../../../src/engine/hub/rpc';
import '../../../src/engine/checkpoint/rpc';
import { ModelsRequests, type ModelsProgress, validateModelsImportResult, validateModelsProgress } from '../../../src/core/modelsProtocol';
import { ensureFixture } from '../../fixtures/tinyPipeline';
import { writeSafetensors } from '../lora/loraFixtures';
import { ldmTensors } from './ldmFixture';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the CLI's JSON summary; each test reads the fields it checks
async function cli(args: string[]): Promise<{ code: number; err: string; json: any }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (c: Buffer) => (o += c.toString()));
  err.on('data', (c: Buffer) => (e += c.toString()));
  const code = await runModelsCommand(args, { stdout: out, stderr: err });
  return { code, err: e, json: JSON.parse(o) };
}

describe('checkpoint import: CLI and models/import', function () {
  this.timeout(120000);
  let base: string;
  let tmp: string;
  let file: string;

  before(async () => {
    base = await ensureFixture('tiny-ckpt');
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ckpt-cli-'));
    file = await writeSafetensors(path.join(tmp, 'My Model.safetensors'), await ldmTensors(base));
  });
  after(() => fs.rm(tmp, { recursive: true, force: true }));

  it('models import FILE --base DIR: exit 0, progress on stderr, the summary on stdout; then listed and verified', async () => {
    const store = path.join(tmp, 'store');
    const r = await cli(['import', file, '--base', base, '--store', store]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.json.model.id, 'my-model');
    assert.equal(r.json.model.path, path.join(store, 'my-model'));
    assert.ok(r.json.tensors > 300);
    assert.match(r.err, /converting unet/);
    assert.match(r.err, /checked UNet: one step/);
    assert.match(r.err, /Installed my-model/);
    const list = await cli(['list', '--store', store]);
    assert.ok(list.json.installed.some((m: { id: string; repo: string }) => m.id === 'my-model' && m.repo === 'checkpoint:My Model.safetensors'));
    assert.equal((await cli(['verify', 'my-model', '--store', store])).code, 0);
  });

  it('exit 2 with a JSON error for a refused file or bad arguments, 3 without a base model', async () => {
    const lora = await writeSafetensors(path.join(tmp, 'lora.safetensors'), { 'lora_unet_x.lora_down.weight': { shape: [1], data: new Float32Array(1) } });
    const store = path.join(tmp, 'store2');
    let r = await cli(['import', lora, '--base', base, '--store', store]);
    assert.equal(r.code, 2);
    assert.equal(r.json.error.code, 'badInput');
    assert.match(r.json.error.message, /this is a LoRA, use --lora/);
    r = await cli(['import', '--store', store]);
    assert.equal(r.code, 2);
    assert.match(r.json.error.message, /needs one \.safetensors file/);
    r = await cli(['import', file, '--store', store]);
    assert.equal(r.code, 3);
    assert.equal(r.json.error.code, 'notFound');
    r = await cli(['import', file, '--base', base, '--store', store, '--name', '../evil']);
    assert.equal(r.code, 2);
  });

  it('models/import over RPC: validated params and result, progress notifications with tensor counts', async () => {
    const store = path.join(tmp, 'store3');
    const seen: ModelsProgress[] = [];
    const result = await handleModelsRequest(ModelsRequests.import, { operationId: 'op1', file, base, store, name: 'via-rpc' }, {
      signal: new AbortController().signal,
      progress: (p) => seen.push(validateModelsProgress(p)),
    });
    validateModelsImportResult(JSON.parse(JSON.stringify(result)));
    assert.equal(result.model.id, 'via-rpc');
    const phases = [...new Set(seen.map((p) => p.phase))];
    assert.deepEqual(phases, ['resolving', 'converting', 'verifying', 'installing', 'done']);
    const last = seen[seen.length - 1];
    assert.equal(last.filesDone, last.filesTotal);
    assert.ok(seen.every((p) => p.operationId === 'op1'));
    await assert.rejects(handleModelsRequest(ModelsRequests.import, { operationId: 'x', file: 'relative.safetensors', store }, { signal: new AbortController().signal, progress: () => undefined }), /must be an absolute path/);
    await assert.rejects(handleModelsRequest(ModelsRequests.import, { operationId: 'x' }, { signal: new AbortController().signal, progress: () => undefined }), /file/);
  });
});
