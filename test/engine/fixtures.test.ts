// The tiny pipelines are real ONNX model folders: onnxruntime loads every graph, the metadata
// matches the diffusers export layout, and the outputs react to every input.

import * as assert from 'node:assert/strict';
import { promises as fs, existsSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ensureFixture, writeTinyPipeline, PRESETS } from '../fixtures/tinyPipeline';

type Meta = { name: string; type: string; shape: (number | string)[] };

function meta(list: readonly ort.InferenceSession.ValueMetadata[]): Meta[] {
  return list.map((m) => (m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: '?', shape: [] }));
}

function ids(type: 'int32' | 'int64', rows: number[][]): ort.Tensor {
  const flat = rows.flatMap((r) => [...r, ...Array(77 - r.length).fill(49407)]);
  return type === 'int64'
    ? new ort.Tensor('int64', BigInt64Array.from(flat.map(BigInt)), [rows.length, 77])
    : new ort.Tensor('int32', Int32Array.from(flat), [rows.length, 77]);
}

function maxDiff(a: ort.Tensor, b: ort.Tensor): number {
  const x = a.data as Float32Array;
  const y = b.data as Float32Array;
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

function randn(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}

describe('tiny pipeline fixtures', () => {
  let a: string;
  let b: string;

  before(async () => {
    [a, b] = await Promise.all([ensureFixture('tiny-a'), ensureFixture('tiny-b')]);
  });

  it('writes a complete diffusers ONNX folder with SD v1.5 scheduler config', async () => {
    for (const dir of [a, b]) {
      const index = JSON.parse(readFileSync(path.join(dir, 'model_index.json'), 'utf8'));
      assert.equal(index._class_name, 'OnnxStableDiffusionPipeline');
      for (const c of ['text_encoder', 'unet', 'vae_decoder', 'vae_encoder']) {
        assert.deepEqual(index[c], ['diffusers', 'OnnxRuntimeModel']);
        assert.ok(existsSync(path.join(dir, c, 'model.onnx')), `${c}/model.onnx`);
      }
      const sched = JSON.parse(readFileSync(path.join(dir, 'scheduler', 'scheduler_config.json'), 'utf8'));
      assert.equal(sched._class_name, 'PNDMScheduler');
      assert.equal(sched.beta_start, 0.00085);
      assert.equal(sched.beta_end, 0.012);
      assert.equal(sched.beta_schedule, 'scaled_linear');
      assert.equal(sched.steps_offset, 1);
      assert.equal(sched.skip_prk_steps, true);
      assert.equal(sched.set_alpha_to_one, false);
      const vocab = JSON.parse(readFileSync(path.join(dir, 'tokenizer', 'vocab.json'), 'utf8'));
      assert.equal(vocab['<|endoftext|>'], 49407);
      assert.ok(existsSync(path.join(dir, 'tokenizer', 'merges.txt')));
    }
    const vaeA = JSON.parse(readFileSync(path.join(a, 'vae_decoder', 'config.json'), 'utf8'));
    const vaeB = JSON.parse(readFileSync(path.join(b, 'vae_decoder', 'config.json'), 'utf8'));
    assert.equal(vaeA.block_out_channels.length, 3); // factor 4
    assert.equal(vaeB.block_out_channels.length, 4); // factor 8
    assert.equal(vaeB.scaling_factor, 0.18215);
  });

  it('keeps UNet weights in the external data file named by the preset', async () => {
    const sizeA = (await fs.stat(path.join(a, 'unet', 'weights.pb'))).size;
    const sizeB = (await fs.stat(path.join(b, 'unet', 'model.onnx_data'))).size;
    assert.ok(sizeA > 4000 && sizeB > 4000);
    assert.ok((await fs.stat(path.join(a, 'unet', 'model.onnx'))).size < sizeA);
    assert.ok(readFileSync(path.join(a, 'unet', 'model.onnx')).includes('weights.pb'));
  });

  it('text encoder: declared I/O as exports have it; tokens and positions change the states', async () => {
    for (const [dir, type] of [[a, 'int32'], [b, 'int64']] as const) {
      const s = await ort.InferenceSession.create(path.join(dir, 'text_encoder', 'model.onnx'));
      assert.deepEqual(meta(s.inputMetadata), [{ name: 'input_ids', type, shape: ['batch', 77] }]);
      assert.deepEqual(meta(s.outputMetadata), [
        { name: 'last_hidden_state', type: 'float32', shape: ['batch', 77, 32] },
        { name: 'pooler_output', type: 'float32', shape: ['batch', 32] },
      ]);
      const out = await s.run({ input_ids: ids(type, [[49406, 320, 1929, 49407], [49406, 2368, 49407], [49406, 320, 1929, 49407]]) });
      const h = out.last_hidden_state.data as Float32Array;
      assert.deepEqual(out.last_hidden_state.dims, [3, 77, 32]);
      assert.deepEqual(out.pooler_output.dims, [3, 32]);
      const at = (row: number, pos: number) => h.slice((row * 77 + pos) * 32, (row * 77 + pos + 1) * 32);
      assert.notDeepEqual(at(0, 1), at(1, 1), 'different tokens, same position');
      assert.notDeepEqual(at(0, 10), at(0, 11), 'same (padding) token, different positions');
      assert.deepEqual(at(0, 5), at(2, 5), 'deterministic');
      assert.ok(h.every((v) => Number.isFinite(v) && Math.abs(v) <= 1));
      await s.release();
    }
  });

  it('UNet: output depends on sample, timestep and text; [1] and [batch] timesteps both work', async () => {
    for (const [dir, tType] of [[a, 'float32'], [b, 'int64']] as const) {
      const s = await ort.InferenceSession.create(path.join(dir, 'unet', 'model.onnx'));
      assert.deepEqual(meta(s.inputMetadata), [
        { name: 'sample', type: 'float32', shape: ['batch', 4, 'height', 'width'] },
        { name: 'timestep', type: tType, shape: ['steps'] },
        { name: 'encoder_hidden_states', type: 'float32', shape: ['batch', 'sequence', 32] },
      ]);
      assert.deepEqual(meta(s.outputMetadata), [{ name: 'out_sample', type: 'float32', shape: ['batch', 4, 'height', 'width'] }]);
      const t = (v: number[]) =>
        tType === 'int64' ? new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [v.length]) : new ort.Tensor('float32', Float32Array.from(v), [v.length]);
      const sample = new ort.Tensor('float32', randn(2 * 4 * 8 * 12, 1), [2, 4, 8, 12]);
      const text = new ort.Tensor('float32', randn(2 * 77 * 32, 2).map((v) => Math.tanh(v)), [2, 77, 32]);
      const base = (await s.run({ sample, timestep: t([981]), encoder_hidden_states: text })).out_sample;
      assert.deepEqual(base.dims, [2, 4, 8, 12]);
      const d = base.data as Float32Array;
      assert.ok(d.every(Number.isFinite));
      const both = (await s.run({ sample, timestep: t([981, 981]), encoder_hidden_states: text })).out_sample;
      assert.equal(maxDiff(base, both), 0);
      const otherT = (await s.run({ sample, timestep: t([21]), encoder_hidden_states: text })).out_sample;
      assert.ok(maxDiff(base, otherT) > 1e-3, 'timestep matters');
      const text2 = new ort.Tensor('float32', randn(2 * 77 * 32, 3).map((v) => Math.tanh(v)), [2, 77, 32]);
      const otherC = (await s.run({ sample, timestep: t([981]), encoder_hidden_states: text2 })).out_sample;
      assert.ok(maxDiff(base, otherC) > 1e-3, 'text matters');
      const sample2 = new ort.Tensor('float32', randn(2 * 4 * 8 * 12, 4), [2, 4, 8, 12]);
      const otherS = (await s.run({ sample: sample2, timestep: t([981]), encoder_hidden_states: text })).out_sample;
      assert.ok(maxDiff(base, otherS) > 1e-2, 'sample matters');
      // Long prompts: two 77-token windows concatenated.
      const long = new ort.Tensor('float32', randn(2 * 154 * 32, 5).map((v) => Math.tanh(v)), [2, 154, 32]);
      assert.deepEqual((await s.run({ sample, timestep: t([981]), encoder_hidden_states: long })).out_sample.dims, [2, 4, 8, 12]);
      await s.release();
    }
  });

  it('VAE decoder and encoder scale by the factor in config.json and decode into [-1, 1]', async () => {
    for (const [dir, F] of [[a, 4], [b, 8]] as const) {
      const dec = await ort.InferenceSession.create(path.join(dir, 'vae_decoder', 'model.onnx'));
      assert.deepEqual(meta(dec.inputMetadata), [{ name: 'latent_sample', type: 'float32', shape: ['batch', 4, 'latent_height', 'latent_width'] }]);
      const noise = new ort.Tensor('float32', randn(4 * 6 * 10, 7).map((v) => v / 0.18215), [1, 4, 6, 10]);
      const img = (await dec.run({ latent_sample: noise })).sample;
      assert.deepEqual(img.dims, [1, 3, 6 * F, 10 * F]);
      const px = img.data as Float32Array;
      assert.ok(px.every((v) => v >= -1 && v <= 1));
      const saturated = px.filter((v) => Math.abs(v) > 0.99).length / px.length;
      assert.ok(saturated < 0.2, `too many saturated pixels: ${saturated}`);
      const enc = await ort.InferenceSession.create(path.join(dir, 'vae_encoder', 'model.onnx'));
      const lat = (await enc.run({ sample: img })).latent_sample;
      assert.deepEqual(lat.dims, [1, 4, 6, 10]);
      // The encoder roughly inverts the decoder: a flat colour comes back (through tanh).
      const colour = [0.3, -0.2, 0.1];
      const flat = new Float32Array(3 * 4 * F * 4 * F).map((_, i) => colour[Math.floor(i / (16 * F * F))]);
      const z = (await enc.run({ sample: new ort.Tensor('float32', flat, [1, 3, 4 * F, 4 * F]) })).latent_sample;
      const back = (await dec.run({ latent_sample: z })).sample.data as Float32Array;
      const plane = 16 * F * F;
      for (let c = 0; c < 3; c++) {
        let mean = 0;
        for (let i = 0; i < plane; i++) mean += back[c * plane + i] / plane;
        assert.ok(Math.abs(mean - Math.tanh(colour[c])) < 0.05, `channel ${c}: ${mean}`);
      }
      await dec.release();
      await enc.release();
    }
  });

  it('the VAE encoder samples inside its graph as diffusers\' export does (RandomNormalLike: two runs differ)', async () => {
    const bytes = readFileSync(path.join(a, 'vae_encoder', 'model.onnx'));
    assert.ok(bytes.includes('RandomNormalLike') && bytes.includes('Clip') && bytes.includes('Exp'));
    const enc = await ort.InferenceSession.create(path.join(a, 'vae_encoder', 'model.onnx'));
    assert.deepEqual(meta(enc.inputMetadata), [{ name: 'sample', type: 'float32', shape: ['batch', 3, 'height', 'width'] }]);
    assert.deepEqual(meta(enc.outputMetadata), [{ name: 'latent_sample', type: 'float32', shape: ['batch', 4, 'latent_height', 'latent_width'] }]);
    const img = new ort.Tensor('float32', randn(3 * 16 * 16, 9).map((v) => Math.tanh(v)), [1, 3, 16, 16]);
    const first = (await enc.run({ sample: img })).latent_sample;
    const second = (await enc.run({ sample: img })).latent_sample;
    assert.deepEqual(first.dims, [1, 4, 4, 4]);
    assert.ok(maxDiff(first, second) > 1e-3, 'unseeded noise');
    await enc.release();
  });

  it('the inpainting preset has a 9-channel UNet (latents, mask, masked-image latents) that the mask and masked image move', async () => {
    const dir = await ensureFixture('tiny-inpaint');
    const index = JSON.parse(readFileSync(path.join(dir, 'model_index.json'), 'utf8'));
    assert.equal(index._class_name, 'OnnxStableDiffusionInpaintPipeline');
    assert.equal(JSON.parse(readFileSync(path.join(dir, 'unet', 'config.json'), 'utf8')).in_channels, 9);
    const s = await ort.InferenceSession.create(path.join(dir, 'unet', 'model.onnx'));
    assert.deepEqual(meta(s.inputMetadata)[0], { name: 'sample', type: 'float32', shape: ['batch', 9, 'height', 'width'] });
    assert.deepEqual(meta(s.outputMetadata), [{ name: 'out_sample', type: 'float32', shape: ['batch', 4, 'height', 'width'] }]);
    const text = new ort.Tensor('float32', randn(77 * 32, 2).map((v) => Math.tanh(v)), [1, 77, 32]);
    const t = new ort.Tensor('float32', Float32Array.of(500), [1]);
    const x = randn(9 * 6 * 6, 3);
    const run = async (data: Float32Array) => (await s.run({ sample: new ort.Tensor('float32', data, [1, 9, 6, 6]), timestep: t, encoder_hidden_states: text })).out_sample;
    const base = await run(x);
    assert.deepEqual(base.dims, [1, 4, 6, 6]);
    const otherMask = x.slice();
    otherMask.fill(1, 4 * 36, 5 * 36);
    assert.ok(maxDiff(base, await run(otherMask)) > 1e-3, 'the mask channel matters');
    await s.release();
  });

  it('the fp16 preset declares float16 I/O and runs', async () => {
    const dir = await ensureFixture('tiny-fp16');
    const unet = await ort.InferenceSession.create(path.join(dir, 'unet', 'model.onnx'));
    assert.deepEqual(meta(unet.inputMetadata).map((m) => [m.type, m.shape]), [
      ['float16', ['batch', 4, 'height', 'width']],
      ['float16', [1]],
      ['float16', ['batch', 'sequence', 32]],
    ]);
    const te = await ort.InferenceSession.create(path.join(dir, 'text_encoder', 'model.onnx'));
    const text = (await te.run({ input_ids: ids('int64', [[49406, 49407]]) })).last_hidden_state;
    assert.equal(text.type, 'float16');
    const half = (n: number) => new ort.Tensor('float16', new Uint16Array(n).fill(0x3c00), [n]); // 1.0
    const out = await unet.run({
      sample: half(4 * 4 * 4).reshape([1, 4, 4, 4]),
      timestep: half(1),
      encoder_hidden_states: text,
    });
    assert.equal(out.out_sample.type, 'float16');
    assert.deepEqual(out.out_sample.dims, [1, 4, 4, 4]);
    await unet.release();
    await te.release();
  });

  it('is deterministic, refuses a non-empty folder, and caches by name', async () => {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'tinypipe-'));
    try {
      await writeTinyPipeline(path.join(tmp, 'x'), PRESETS['tiny-a']);
      for (const f of ['unet/model.onnx', 'unet/weights.pb', 'text_encoder/model.onnx', 'vae_decoder/model.onnx']) {
        assert.ok(readFileSync(path.join(tmp, 'x', f)).equals(readFileSync(path.join(a, f))), f);
      }
      await assert.rejects(writeTinyPipeline(path.join(tmp, 'x'), PRESETS['tiny-a']), /is not empty/);
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
    assert.equal(await ensureFixture('tiny-a'), a);
    assert.equal(await ensureFixture('tiny-int64-int'), b);
    await assert.rejects(ensureFixture('no-such-preset'), /unknown fixture "no-such-preset"/);
    // Any other name with options: its own folder, whose name carries a hash of the options.
    const custom = await ensureFixture('custom-test', { ...PRESETS['tiny-a'], hidden: 16, vaeFactor: 2 });
    assert.match(path.basename(custom), /^custom-test-g[0-9a-f]{8}-[0-9a-f]{8}$/);
    assert.deepEqual(JSON.parse(readFileSync(path.join(custom, 'vae_decoder', 'config.json'), 'utf8')).block_out_channels, [128, 256]);
    assert.ok(!(await fs.readdir(path.dirname(a))).some((n) => n.includes('.tmp-')), 'no temp folders left');
  });
});
