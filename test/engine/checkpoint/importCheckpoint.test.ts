import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Engine } from '../../../src/engine/engine';
import { readNpy } from '../../../src/engine/image/npy';
import { importCheckpoint } from '../../../src/engine/checkpoint/importCheckpoint';
import { MANIFEST_NAME, verifyModel } from '../../../src/engine/hub/store';
import { toFloat16Bits, fromFloat16Bits } from '../../../src/engine/onnx/float16';
import { copyFixture, TempModel } from '../../fixtures/tempCopy';
import { ensureFixture } from '../../fixtures/tinyPipeline';
import { mergedGraph, writeSafetensors } from '../lora/loraFixtures';
import { graphParams, ldmKey, ldmTensor, ldmTensors } from './ldmFixture';

// Perturbed tensors: a transposed attention weight, a conv, a norm shared through Identity nodes
// in the base graph, the VAE attention's 1x1 conv (a MatMul in the graph), a text MLP weight.
const TO_K = 'model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight';
const CONV = 'model.diffusion_model.output_blocks.2.0.in_layers.2.weight';
const SHARED_NORM = 'model.diffusion_model.input_blocks.1.1.transformer_blocks.0.norm3.weight';
const VAE_Q = 'first_stage_model.decoder.mid.attn_1.q.weight';
const FC1 = 'cond_stage_model.transformer.text_model.encoder.layers.1.mlp.fc1.weight';
const scaled = (k: number) => (v: Float32Array) => v.map((x, i) => x * k + (i % 3) * 0.01);
const CHANGE: Record<string, (v: Float32Array) => Float32Array> = { [TO_K]: scaled(1.6), [CONV]: scaled(-0.8), [SHARED_NORM]: scaled(1.3), [VAE_Q]: scaled(1.5), [FC1]: scaled(1.4) };

describe('checkpoint import: an LDM-layout .safetensors onto the base graphs', function () {
  this.timeout(180000);
  let base: string;
  let tmp: string;
  let engine: Engine;

  before(async () => {
    base = await ensureFixture('tiny-ckpt');
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ckpt-import-'));
    engine = new Engine({ provider: 'cpu', threads: 1 });
  });
  after(async () => {
    await engine.dispose();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  const store = () => path.join(tmp, 'store');
  const job = { prompt: 'a plant cell', seed: 5, steps: 3, guidance: 7.5, scheduler: 'euler' };
  const latents = async (model: string, name: string) => {
    const npy = path.join(tmp, `${name}.npy`);
    await engine.generate({ model, ...job, outFile: path.join(tmp, `${name}.png`), saveLatents: npy, overwrite: true });
    return (await readNpy(npy)).data;
  };
  const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let d = 0;
    for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
    return d;
  };

  it('fills every initializer with its checkpoint tensor (transposes included) and runs like the base with those weights', async () => {
    const tensors = await ldmTensors(base, { change: CHANGE });
    const file = await writeSafetensors(path.join(tmp, 'Perturbed Model.safetensors'), tensors);
    const r = await importCheckpoint({ file, store: store(), base });
    assert.equal(r.model.id, 'perturbed-model');
    assert.equal(r.ignoredTensors, 3, 'the EMA copy, alphas_cumprod and position_ids are left alone');
    assert.equal(r.verified.length, 4);
    const imported = await graphParams(r.model.path);
    assert.equal(r.tensors, imported.length, 'one initializer per parameter after unsharing');
    for (const p of imported) {
      const t = ldmTensor(p);
      assert.deepEqual(Array.from(t.data), Array.from(tensors[t.key].data), `${p.component} ${p.param} (${p.init}) holds ${t.key}`);
    }
    for (const c of ['unet', 'text_encoder', 'vae_decoder', 'vae_encoder']) await fs.access(path.join(r.model.path, c, 'weights.pb'));
    assert.equal((await verifyModel(store(), r.model.id)).ok, true, 'the manifest lists every file with its sha256');

    // The reference: the base folder with the changed values written straight into its graphs.
    const direct: TempModel = await copyFixture('tiny-ckpt');
    try {
      const params = await graphParams(base);
      for (const c of ['unet', 'text_encoder', 'vae_decoder'] as const) {
        const deltas = new Map<string, Float32Array>();
        for (const p of params.filter((x) => x.component === c)) {
          const key = ldmKey(c, p.param);
          if (!CHANGE[key] || key === SHARED_NORM) continue;
          // The changed checkpoint tensor back in the graph's layout, as a delta for mergedGraph.
          const changed = tensors[key].data;
          const graphLayout = p.transposed ? transposeBack(changed, p.dims) : changed;
          deltas.set(p.init, graphLayout.map((v, i) => v - p.values[i]));
        }
        await fs.writeFile(path.join(direct.dir, c, 'model.onnx'), await mergedGraph(path.join(base, c, 'model.onnx'), deltas));
      }
      // The shared norm cannot be written into the base without unsharing: compare without it.
      const noNorm = await ldmTensors(base, { change: { ...CHANGE, [SHARED_NORM]: (v) => v } });
      const file2 = await writeSafetensors(path.join(tmp, 'no-norm.safetensors'), noNorm);
      const r2 = await importCheckpoint({ file: file2, store: store(), base });
      const got = await latents(r2.model.path, 'imported');
      const want = await latents(direct.dir, 'direct');
      const orig = await latents(base, 'base');
      assert.ok(maxDiff(got, want) < 1e-5, `imported = base with the weights written directly (${maxDiff(got, want)})`);
      assert.ok(maxDiff(got, orig) > 1e-3, `the changed weights change the image (${maxDiff(got, orig)})`);
      const withNorm = await latents(r.model.path, 'with-norm');
      assert.ok(maxDiff(withNorm, got) > 1e-4, 'the norm shared in the base graph is changed on its own in the import');
    } finally {
      await direct.remove();
    }
  });

  it('the base\'s own weights give the base\'s image', async () => {
    const file = await writeSafetensors(path.join(tmp, 'same.safetensors'), await ldmTensors(base));
    const r = await importCheckpoint({ file, store: store(), base, name: 'same' });
    assert.equal(maxDiff(await latents(r.model.path, 'same'), await latents(base, 'base2')), 0);
  });

  for (const dtype of ['F16', 'BF16'] as const) {
    it(`converts ${dtype} to the base's fp32`, async () => {
      const tensors = await ldmTensors(base, { dtype });
      const file = await writeSafetensors(path.join(tmp, `${dtype}.safetensors`), tensors);
      const r = await importCheckpoint({ file, store: store(), base, name: `m-${dtype.toLowerCase()}` });
      assert.deepEqual(r.checkpoint.dtypes, [dtype]);
      const round = dtype === 'F16' ? (v: number) => fromFloat16Bits(toFloat16Bits(v)) : bf16;
      for (const p of await graphParams(r.model.path)) {
        const t = ldmTensor(p);
        const src = tensors[t.key].data;
        for (let i = 0; i < src.length; i++) {
          if (t.data[i] !== round(src[i])) assert.fail(`${t.key}[${i}]: ${t.data[i]} != ${dtype}(${src[i]}) = ${round(src[i])}`);
        }
      }
    });
  }

  it('leaves no model folder and no staging files when the import fails after writing began, or is cancelled', async () => {
    const nan = await writeSafetensors(path.join(tmp, 'nan.safetensors'), await ldmTensors(base, { change: { [CONV]: (v) => v.map(() => NaN) } }));
    await assert.rejects(importCheckpoint({ file: nan, store: store(), base, name: 'nan' }), /does not run correctly.*NaN or infinite/);
    await assert.rejects(fs.access(path.join(store(), 'nan')));
    const ok = await writeSafetensors(path.join(tmp, 'ok.safetensors'), await ldmTensors(base));
    const ac = new AbortController();
    await assert.rejects(
      importCheckpoint({ file: ok, store: store(), base, name: 'cancelled', signal: ac.signal, onProgress: (p) => p.tensorsDone > 10 && ac.abort() }),
      (e: Error & { code?: string }) => e.code === 'cancelled' && /nothing was installed/.test(e.message),
    );
    await assert.rejects(fs.access(path.join(store(), 'cancelled')));
    assert.deepEqual(await fs.readdir(path.join(store(), '.staging')), [], 'no staging folder or lock left');
  });

  it('names missing, misshapen and left-over tensors', async () => {
    const missing = await writeSafetensors(path.join(tmp, 'missing.safetensors'), await ldmTensors(base, { drop: [VAE_Q] }));
    await assert.rejects(importCheckpoint({ file: missing, store: store(), base }), new RegExp(`lacks 1 tensor\\(s\\) the model needs: ${VAE_Q.replace(/\./g, '\\.')} \\(vae_decoder decoder\\.mid_block\\.attentions\\.0\\.to_q\\.weight\\)`));
    const extra = await writeSafetensors(path.join(tmp, 'extra.safetensors'), await ldmTensors(base, { extra: { 'model.diffusion_model.input_blocks.9.0.op.weight': { shape: [2], data: new Float32Array(2) } } }));
    await assert.rejects(importCheckpoint({ file: extra, store: store(), base }), /has 1 tensor\(s\) the base model .* has no place for: model\.diffusion_model\.input_blocks\.9\.0\.op\.weight/);
    const wrong = await writeSafetensors(path.join(tmp, 'wrong.safetensors'), await ldmTensors(base, { extra: { [FC1]: { shape: [3, 3], data: new Float32Array(9) } } }));
    await assert.rejects(importCheckpoint({ file: wrong, store: store(), base }), /do not fit the base model.*mlp\.fc1\.weight: \[3, 3\] in the checkpoint, \[32, 64\] in the base graph \(stored transposed\)/);
    assert.deepEqual((await fs.readdir(store())).filter((n) => !n.startsWith('.')).sort(), ['m-bf16', 'm-f16', 'perturbed-model', 'no-norm', 'same'].sort());
  });

  it('refuses SD 2.x, SDXL, inpainting, LoRA, pickle, garbage and cut-short files, saying what they are', async () => {
    const good = await ldmTensors(base);
    const convIn = good['model.diffusion_model.input_blocks.0.0.weight'];
    const cases: [string, Record<string, { shape: number[]; data: Float32Array }> | Buffer, RegExp][] = [
      ['sd2', { ...good, 'cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight': { shape: [2], data: new Float32Array(2) } }, /is an SD 2\.x checkpoint \(OpenCLIP/],
      ['sd2-width', { 'model.diffusion_model.input_blocks.0.0.weight': convIn, 'model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight': { shape: [4, 1024], data: new Float32Array(4096) } }, /SD 2\.x checkpoint \(1024-wide text conditioning\)/],
      ['sdxl', { 'conditioner.embedders.0.transformer.text_model.x': { shape: [1], data: new Float32Array(1) }, ...good }, /is an SDXL checkpoint/],
      ['inpaint', { ...good, 'model.diffusion_model.input_blocks.0.0.weight': { shape: [8, 9, 3, 3], data: new Float32Array(8 * 9 * 9) } }, /an inpainting checkpoint .*: import it on top of an inpainting ONNX model with --base/],
      ['lora', { 'lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight': { shape: [4, 8], data: new Float32Array(32) } }, /is a LoRA.*this is a LoRA, use --lora/],
      ['other', { 'some.weight': { shape: [2], data: new Float32Array(2) } }, /is not a Stable Diffusion checkpoint \(1 tensors, e\.g\. "some\.weight"\)/],
      ['garbage', Buffer.from('this is not a checkpoint at all, just text'), /is not a valid \.safetensors checkpoint: its header claims/],
      ['pickle', Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(100)]), /is a PyTorch \.ckpt\/\.pt file \(a pickle\).*Download the \.safetensors version/],
    ];
    for (const [name, content, message] of cases) {
      const file = path.join(tmp, `${name}.safetensors`);
      if (Buffer.isBuffer(content)) await fs.writeFile(file, content);
      else await writeSafetensors(file, content);
      await assert.rejects(importCheckpoint({ file, store: store(), base, name: `x-${name}` }), (e: Error & { code?: string }) => {
        assert.match(e.message, message, name);
        assert.equal(e.code, 'badInput');
        return true;
      });
    }
    const whole = await fs.readFile(await writeSafetensors(path.join(tmp, 'whole.safetensors'), good));
    await fs.writeFile(path.join(tmp, 'cut.safetensors'), whole.subarray(0, whole.length - 1000));
    await assert.rejects(importCheckpoint({ file: path.join(tmp, 'cut.safetensors'), store: store(), base }), /lies outside the file .*cut short/);
    await assert.rejects(importCheckpoint({ file: path.join(tmp, 'absent.safetensors'), store: store(), base }), /the file does not exist/);
    await assert.rejects(importCheckpoint({ file: path.join(tmp, 'whole.safetensors'), store: path.join(tmp, 'empty-store') }), /No base model: .*models pull sd15-onnx.*--base DIR/);
    await assert.rejects(importCheckpoint({ file: path.join(tmp, 'whole.safetensors'), store: store(), base, name: 'same' }), /A model "same" is already installed/);
  });

  it('writes a manifest like the store\'s other models', async () => {
    const m = JSON.parse(await fs.readFile(path.join(store(), 'same', MANIFEST_NAME), 'utf8'));
    assert.equal(m.format, 1);
    assert.equal(m.kind, 'pipeline');
    assert.match(m.repo, /^checkpoint:same\.safetensors$/);
    assert.ok(m.files.some((f: { path: string }) => f.path === 'unet/weights.pb'));
    assert.ok(!m.files.some((f: { path: string }) => f.path.endsWith('.onnx_data')));
  });
});

function transposeBack(ldm: Float32Array, dims: number[]): Float32Array {
  const [inF, outF] = dims;
  const out = new Float32Array(ldm.length);
  for (let o = 0; o < outF; o++) for (let i = 0; i < inF; i++) out[i * outF + o] = ldm[o * inF + i];
  return out;
}

function bf16(v: number): number {
  const f = new Float32Array([v]);
  const u = new Uint32Array(f.buffer);
  u[0] = u[0] & 0xffff0000; // the writer truncates, as loraFixtures' does
  return f[0];
}
