import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ModelSession } from '../../../src/engine/onnx/session';
import { float32ToFloat16, float16ToFloat32 } from '../../../src/engine/onnx/float16';
import { ensureFixture } from '../../fixtures/tinyPipeline';
import { copyFixture, TempModel } from '../../fixtures/tempCopy';

const cpu = (label: string) => ({ provider: 'cpu' as const, threads: 1, label });

function ids32(n = 77, batch = 1): ort.Tensor {
  return new ort.Tensor('int32', new Int32Array(batch * n).fill(49407), [batch, n]);
}

describe('ModelSession', () => {
  let a: string;
  before(async () => {
    a = await ensureFixture('tiny-a');
  });

  it('reads names, element types and dims from the model, and runs it', async () => {
    const s = await ModelSession.create(path.join(a, 'text_encoder', 'model.onnx'), cpu('text_encoder'));
    try {
      assert.deepEqual(s.inputs, [{ name: 'input_ids', type: 'int32', dims: ['batch', 77] }]);
      assert.deepEqual(s.outputs, [
        { name: 'last_hidden_state', type: 'float32', dims: ['batch', 77, 32] },
        { name: 'pooler_output', type: 'float32', dims: ['batch', 32] },
      ]);
      assert.deepEqual(s.input('input_ids'), s.inputs[0]);
      assert.equal(s.input('nope'), undefined);
      assert.equal(s.usesFloat16, false);
      assert.equal(s.provider, 'cpu');
      assert.equal(s.warning, undefined);
      assert.equal(s.runMs, 0);
      const out = await s.run({ input_ids: ids32(77, 2) });
      assert.deepEqual(out.last_hidden_state.dims, [2, 77, 32]);
      assert.ok(s.runMs > 0);
      const only = await s.run({ input_ids: ids32() }, ['pooler_output']);
      assert.deepEqual(Object.keys(only), ['pooler_output']);
    } finally {
      await s.dispose();
    }
    await assert.rejects(s.run({ input_ids: ids32() }), /already disposed/);
  });

  it('rejects a feed of the wrong element type, naming the file, the input, and both shapes and types', async () => {
    const file = path.join(a, 'text_encoder', 'model.onnx');
    const s = await ModelSession.create(file, cpu('text_encoder'));
    try {
      const wrong = new ort.Tensor('int64', new BigInt64Array(77), [1, 77]);
      await assert.rejects(s.run({ input_ids: wrong }), (err: Error) => {
        assert.ok(err.message.includes(file), err.message);
        assert.match(err.message, /input "input_ids" must be int32 \[batch, 77\], got int64 \[1, 77\]/);
        assert.equal((err as { kind?: string }).kind, 'modelError');
        return true;
      });
    } finally {
      await s.dispose();
    }
  });

  it('rejects missing and unknown inputs, wrong ranks and wrong fixed dims before ORT sees them', async () => {
    const s = await ModelSession.create(path.join(a, 'text_encoder', 'model.onnx'), cpu('text_encoder'));
    try {
      await assert.rejects(s.run({}), /input "input_ids" \(int32 \[batch, 77\]\) is missing/);
      await assert.rejects(s.run({ input_ids: ids32(), ids: ids32() }), /"ids" is not an input of this model/);
      await assert.rejects(s.run({ input_ids: new ort.Tensor('int32', new Int32Array(77), [77]) }), /got int32 \[77\] \(rank 1 instead of 2\)/);
      await assert.rejects(s.run({ input_ids: ids32(76) }), /got int32 \[1, 76\] \(dimension 1 must be 77\)/);
    } finally {
      await s.dispose();
    }
  });

  it('rethrows a failure inside onnxruntime with the file and the shapes it was given', async () => {
    const file = path.join(a, 'unet', 'model.onnx');
    const s = await ModelSession.create(file, cpu('unet'));
    try {
      // 3 timesteps for a batch of 2 cannot broadcast: ORT fails inside the graph.
      const feeds = {
        sample: new ort.Tensor('float32', new Float32Array(2 * 4 * 4 * 4), [2, 4, 4, 4]),
        timestep: new ort.Tensor('float32', new Float32Array(3), [3]),
        encoder_hidden_states: new ort.Tensor('float32', new Float32Array(2 * 77 * 32), [2, 77, 32]),
      };
      await assert.rejects(s.run(feeds), (err: Error) => {
        assert.ok(err.message.startsWith(`unet (${file}) failed while running:`), err.message);
        assert.match(err.message, /timestep: float32 \[3\]/);
        assert.match(err.message, /sample: float32 \[batch, 4, height, width\]/);
        return true;
      });
      assert.ok(s.runMs > 0, 'failed runs count too');
    } finally {
      await s.dispose();
    }
  });

  it('feeds an fp16 UNet through the float16 converters', async () => {
    const dir = await ensureFixture('tiny-fp16');
    const s = await ModelSession.create(path.join(dir, 'unet', 'model.onnx'), cpu('unet'));
    try {
      assert.equal(s.usesFloat16, true);
      assert.equal(s.input('sample')?.type, 'float16');
      const f32 = new ort.Tensor('float32', new Float32Array(4 * 16), [1, 4, 4, 4]);
      const half = (x: Float32Array, dims: number[]) => new ort.Tensor('float16', float32ToFloat16(x), dims);
      await assert.rejects(
        s.run({ sample: f32, timestep: half(Float32Array.of(500), [1]), encoder_hidden_states: half(new Float32Array(77 * 32), [1, 77, 32]) }),
        /input "sample" must be float16 \[batch, 4, height, width\], got float32 \[1, 4, 4, 4\]/,
      );
      const out = await s.run({
        sample: half(new Float32Array(64).fill(0.5), [1, 4, 4, 4]),
        timestep: half(Float32Array.of(500), [1]),
        encoder_hidden_states: half(new Float32Array(77 * 32).fill(0.1), [1, 77, 32]),
      });
      const values = float16ToFloat32(out.out_sample.data as Uint16Array);
      assert.equal(values.length, 64);
      assert.ok(values.every((v) => Number.isFinite(v) && Math.abs(v) < 4));
    } finally {
      await s.dispose();
    }
  });

  describe('broken files', () => {
    let m: TempModel;
    beforeEach(async () => {
      m = await copyFixture('tiny-a');
    });
    afterEach(async () => {
      await m.remove();
    });

    it('a missing model file: names it and says to download again', async () => {
      const file = path.join(m.dir, 'unet', 'model.onnx');
      await fs.rm(file);
      await assert.rejects(ModelSession.create(file, cpu('unet')), (err: Error) => {
        assert.equal(err.message, `${file} is missing: the model folder is incomplete; download the model again.`);
        return true;
      });
    });

    it('a truncated or garbage model.onnx: names the file, its size, and says to download again', async () => {
      const file = path.join(m.dir, 'text_encoder', 'model.onnx');
      const bytes = await fs.readFile(file);
      await fs.writeFile(file, bytes.subarray(0, 1000));
      await assert.rejects(ModelSession.create(file, cpu('text_encoder')), new RegExp(`${escape(file)} \\(1000 bytes\\) is not a valid ONNX model: .*download the model again`));
      await fs.writeFile(file, 'hello, this is not a model\n'.repeat(10));
      await assert.rejects(ModelSession.create(file, cpu('text_encoder')), /is not a valid ONNX model/);
      await fs.writeFile(file, 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n');
      await assert.rejects(ModelSession.create(file, cpu('text_encoder')), /is a Git LFS pointer, not the model: .*git lfs pull/);
    });

    it('missing or cut-short external weights: names weights.pb (also for a graph run in parts, which loads no part before its first run)', async () => {
      const file = path.join(m.dir, 'unet', 'model.onnx');
      const weights = path.join(m.dir, 'unet', 'weights.pb');
      const bytes = await fs.readFile(weights);
      const parted = { ...cpu('unet'), partBytes: bytes.length / 2 };
      const whole = await ModelSession.create(file, parted);
      assert.ok(whole.parts > 1);
      await whole.dispose();
      await fs.writeFile(weights, bytes.subarray(0, 100));
      for (const opts of [cpu('unet'), parted]) {
        await assert.rejects(ModelSession.create(file, opts), /external weights of .*unet\/model\.onnx are cut short.*download the model again/);
      }
      await fs.rm(weights);
      for (const opts of [cpu('unet'), parted]) {
        await assert.rejects(ModelSession.create(file, opts), new RegExp(`${escape(weights)} is missing: .*external data.*download the model again`));
      }
    });
  });

  it('requested CUDA that is not installed: runs on the CPU and says why', async () => {
    const cuda = ort.listSupportedBackends().find((b) => b.name === 'cuda');
    if (cuda?.bundled) return;
    const s = await ModelSession.create(path.join(a, 'vae_decoder', 'model.onnx'), { provider: 'cuda', threads: 1, label: 'vae_decoder' });
    try {
      assert.equal(s.provider, 'cpu');
      assert.match(s.warning ?? '', /CUDA .*using the CPU/);
      const out = await s.run({ latent_sample: new ort.Tensor('float32', new Float32Array(4 * 4), [1, 4, 2, 2]) });
      assert.deepEqual(out.sample.dims, [1, 3, 8, 8]);
    } finally {
      await s.dispose();
    }
  });

  it('requested WebGPU without a usable adapter: falls back to the CPU at session start, once per process', async () => {
    const file = path.join(a, 'vae_decoder', 'model.onnx');
    const first = await ModelSession.create(file, { provider: 'webgpu', threads: 1, label: 'vae_decoder' });
    const second = await ModelSession.create(file, { provider: 'webgpu', threads: 1, label: 'vae_decoder' });
    try {
      for (const s of [first, second]) {
        if (s.provider === 'cpu') {
          assert.match(s.warning ?? '', /^WebGPU could not start \((?!\/)[^)]*\); running on the CPU\. WebGPU needs a GPU/);
        } else {
          assert.equal(s.provider, 'webgpu'); // a machine with a GPU and drivers
        }
        const out = await s.run({ latent_sample: new ort.Tensor('float32', new Float32Array(4 * 4), [1, 4, 2, 2]) });
        assert.deepEqual(out.sample.dims, [1, 3, 8, 8]);
      }
      assert.equal(second.warning, first.warning);
    } finally {
      await first.dispose();
      await second.dispose();
    }
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
