// A model pulled through the hub client is a model the engine can read and generate with:
// `pulledModelDir()` gives the folder of a model that went through the whole download path
// (redirects, resume, verify).

import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { HubServer } from '../../support/hubServer';
import { readModelFolder } from '../../../src/engine/modelFolder/modelFolder';
import { REPO, pull, startHub, tempStore } from './helpers';
import sharp from 'sharp';
import { runCli } from '../../support/engineProcess';
import { ensureFixture } from '../../fixtures/tinyPipeline';

describe('models: a pulled model is usable', function () {
  let hub: HubServer;
  let store: string;
  let dir: string;

  /** Folder of the tiny-a model after a pull that survived a dropped connection. */
  async function pulledModelDir(): Promise<string> {
    return dir;
  }

  before(async () => {
    hub = await startHub();
    store = await tempStore();
    hub.faults.drop = { path: 'text_encoder/model.onnx', bytes: 40_000, times: 1 };
    dir = (await pull(hub, store)).model.path;
  });
  after(async () => {
    await hub.close();
    await fs.rm(store, { recursive: true, force: true });
  });

  it('readModelFolder accepts the pulled folder', async () => {
    const folder = await readModelFolder(await pulledModelDir());
    assert.equal(folder.dir, dir);
    assert.equal(folder.unet, path.join(dir, 'unet', 'model.onnx'));
    assert.deepEqual(folder.externalData, [path.join(dir, 'unet', 'weights.pb')]);
    assert.equal(hub.served('text_encoder/model.onnx'), hub.file(REPO, 'text_encoder/model.onnx').data.length);
  });

  it('generates with the pulled model through the CLI, the same image as from the source folder', async function () {
    this.timeout(120000);
    const out = path.join(store, 'pulled.png');
    const ref = path.join(store, 'source.png');
    const args = ['--prompt', 'a plant cell', '--seed', '11', '--steps', '3', '--scheduler', 'euler-a'];
    const a = await runCli(['generate', '--model', await pulledModelDir(), ...args, '--out', out]);
    assert.equal(a.code, 0, a.stderr);
    const b = await runCli(['generate', '--model', await ensureFixture('tiny-a'), ...args, '--out', ref]);
    assert.equal(b.code, 0, b.stderr);
    const [pa, pb] = await Promise.all([out, ref].map((f) => sharp(f).raw().toBuffer()));
    assert.ok(pa.equals(pb));
  });
});
