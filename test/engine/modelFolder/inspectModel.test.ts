import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { inspectModel } from '../../../src/engine/modelFolder/modelFolder';
import { ensureFixture } from '../../fixtures/tinyPipeline';
import { copyFixture } from '../../fixtures/tempCopy';

describe('inspectModel', () => {
  it('lists every component with its inputs, outputs and size (external weights included)', async () => {
    const dir = await ensureFixture('tiny-b');
    const info = await inspectModel(dir);
    assert.equal(info.kind, 'model');
    assert.equal(info.path, dir);
    assert.deepEqual(info.problems, []);
    assert.equal(info.scheduler, 'PNDMScheduler');
    assert.equal(info.vaeScaleFactor, 8);
    assert.deepEqual(info.components.map((c) => c.name), ['text_encoder', 'unet', 'vae_decoder', 'vae_encoder']);
    const unet = info.components[1];
    assert.equal(unet.file, path.join(dir, 'unet', 'model.onnx'));
    const onDisk = (await fs.stat(unet.file)).size + (await fs.stat(path.join(dir, 'unet', 'model.onnx_data'))).size;
    assert.equal(unet.bytes, onDisk);
    assert.deepEqual(unet.inputs.map((i) => `${i.name} ${i.type} [${i.dims.join(',')}]`), [
      'sample float32 [batch,4,height,width]',
      'timestep int64 [steps]',
      'encoder_hidden_states float32 [batch,sequence,32]',
    ]);
    assert.deepEqual(info.components[0].inputs, [{ name: 'input_ids', type: 'int64', dims: ['batch', 77] }]);
  });

  it('collects problems instead of throwing', async () => {
    const m = await copyFixture('tiny-a');
    try {
      await fs.rm(path.join(m.dir, 'scheduler', 'scheduler_config.json'));
      await fs.writeFile(path.join(m.dir, 'vae_decoder', 'model.onnx'), 'not a model at all');
      const info = await inspectModel(m.dir);
      assert.equal(info.scheduler, undefined);
      assert.ok(info.problems.some((p) => p.includes('scheduler_config.json is missing')), info.problems.join('\n'));
      assert.ok(info.problems.some((p) => p.includes(`${path.join(m.dir, 'vae_decoder', 'model.onnx')} (18 bytes) is not a valid ONNX model`)), info.problems.join('\n'));
      const vae = info.components.find((c) => c.name === 'vae_decoder');
      assert.deepEqual(vae?.inputs, []);
      assert.equal(info.components.find((c) => c.name === 'unet')?.inputs.length, 3);
    } finally {
      await m.remove();
    }
  });

  it('finds components that do not fit together', async () => {
    const m = await copyFixture('tiny-a');
    const other = await ensureFixture('bench-large'); // 64-wide text states
    try {
      await fs.copyFile(path.join(other, 'text_encoder', 'model.onnx'), path.join(m.dir, 'text_encoder', 'model.onnx'));
      const info = await inspectModel(m.dir);
      assert.ok(info.problems.some((p) => /text encoder gives 64-wide states but the UNet takes 32/.test(p)), info.problems.join('\n'));
    } finally {
      await m.remove();
    }
  });

  it('reports a folder that is not a model at all', async () => {
    const dir = await ensureFixture('tiny-a');
    const info = await inspectModel(path.join(dir, 'tokenizer'));
    assert.deepEqual(info.components, []);
    assert.equal(info.problems.length, 1);
    assert.match(info.problems[0], /does not look like|one component of a model/);
  });
});
