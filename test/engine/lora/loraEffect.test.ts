import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ModelSession } from '../../../src/engine/onnx/session';
import { LoraRequest, loraSet } from '../../../src/engine/lora/loraSet';
import { ensureFixture } from '../../fixtures/tinyPipeline';
import { WeightRandom } from '../../fixtures/onnx/random';
import { Layout, TestModule, delta, kohyaTensors, mergedGraph, peftTensors, randomModule, writeSafetensors } from './loraFixtures';

// The tiny-lora fixture's layers (test/fixtures/onnx/loraNets.ts): C = 16 channels, H = 32 text width.
const C = 16;
const H = 32;
const UNET: Record<string, { init: string; layout: Layout; inF: number; outF: number; kernel?: number[] }> = {
  'time_embedding.linear_1': { init: 'time_embedding.linear_1.weight', layout: 'out-in', inF: C, outF: C },
  'down_blocks.0.resnets.0.conv1': { init: 'down_blocks.0.resnets.0.conv1.weight', layout: 'out-in', inF: C, outF: C, kernel: [3, 3] },
  'down_blocks.0.attentions.0.proj_in': { init: 'down_blocks.0.attentions.0.proj_in.weight', layout: 'out-in', inF: C, outF: C, kernel: [1, 1] },
  'down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_q': { init: 'onnx::MatMul_9001', layout: 'in-out', inF: C, outF: C },
  'down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k': { init: 'onnx::MatMul_9002', layout: 'in-out', inF: H, outF: C },
  'down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_v': { init: 'onnx::MatMul_9003', layout: 'in-out', inF: H, outF: C },
  'down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_out.0': { init: 'onnx::MatMul_9004', layout: 'in-out', inF: C, outF: C },
};
const TE: Record<string, { init: string; layout: Layout; inF: number; outF: number }> = {
  'text_model.encoder.layers.0.self_attn.q_proj': { init: 'onnx::MatMul_2262', layout: 'in-out', inF: H, outF: H },
  'text_model.encoder.layers.0.mlp.fc1': { init: 'onnx::MatMul_2283', layout: 'in-out', inF: H, outF: H },
};

function unetFeeds(): Record<string, ort.Tensor> {
  const rnd = new WeightRandom(5);
  return {
    sample: new ort.Tensor('float32', rnd.normals(2 * 4 * 8 * 8, 1), [2, 4, 8, 8]),
    timestep: new ort.Tensor('float32', new Float32Array([981, 981]), [2]),
    encoder_hidden_states: new ort.Tensor('float32', rnd.normals(2 * 77 * H, 1), [2, 77, H]),
  };
}

function teFeeds(): Record<string, ort.Tensor> {
  const ids = new BigInt64Array(2 * 77);
  for (let i = 0; i < ids.length; i++) ids[i] = BigInt((i * 7919) % 49408);
  return { input_ids: new ort.Tensor('int64', ids, [2, 77]) };
}

async function runGraph(file: string, graph: { bytes: Uint8Array | string; notes: string[] } | undefined, feeds: Record<string, ort.Tensor>, out: string): Promise<Float32Array> {
  const s = await ModelSession.create(file, { provider: 'cpu', threads: 1, label: 'test', graph });
  try {
    return (await s.run(feeds))[out].data as Float32Array;
  } finally {
    await s.dispose();
  }
}

async function runBytes(bytes: Uint8Array, feeds: Record<string, ort.Tensor>, out: string): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes, { logSeverityLevel: 4 });
  try {
    return (await s.run(feeds))[out].data as Float32Array;
  } finally {
    await s.release();
  }
}

function relError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

describe('LoRA branches on the tiny-lora pipeline (against the merged weights)', function () {
  this.timeout(120000);
  let dir: string;
  let tmp: string;
  let files: { unet: string; textEncoder: string };
  const rnd = new WeightRandom(2024);
  const unetModules: Record<string, TestModule> = {};
  for (const [name, m] of Object.entries(UNET)) unetModules[name] = randomModule(rnd, 4, m.inF, m.outF, m.kernel, 2);
  const teModules: Record<string, TestModule> = {};
  for (const [name, m] of Object.entries(TE)) teModules[name] = randomModule(rnd, 3, m.inF, m.outF);
  // A second LoRA on two of the same modules, rank 2, PEFT keys (alpha = rank).
  const second: Record<string, TestModule> = {
    'down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_q': randomModule(rnd, 2, C, C),
    'down_blocks.0.resnets.0.conv1': randomModule(rnd, 2, C, C, [3, 3]),
  };

  before(async () => {
    dir = await ensureFixture('tiny-lora');
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'lora-effect-'));
    files = { unet: path.join(dir, 'unet', 'model.onnx'), textEncoder: path.join(dir, 'text_encoder', 'model.onnx') };
    await writeSafetensors(path.join(tmp, 'kohya.safetensors'), { ...kohyaTensors(unetModules, 'lora_unet_'), ...kohyaTensors(teModules, 'lora_te_') });
    await writeSafetensors(path.join(tmp, 'peft.safetensors'), peftTensors(second, 'unet.'));
  });
  after(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  const kohya = (multiplier: number): LoraRequest => ({ path: path.join(tmp, 'kohya.safetensors'), multiplier, name: 'kohya' });
  const peft = (multiplier: number): LoraRequest => ({ path: path.join(tmp, 'peft.safetensors'), multiplier, name: 'peft' });

  function unetDeltas(multiplier: number, secondMultiplier = 0): Map<string, Float32Array> {
    const deltas = new Map<string, Float32Array>();
    for (const [name, m] of Object.entries(UNET)) {
      // kohya: alpha 2, rank 4 -> scale m * 0.5
      const d = delta(unetModules[name], multiplier * 0.5, m.layout);
      const s = second[name];
      if (s && secondMultiplier) {
        const d2 = delta(s, secondMultiplier, m.layout);
        for (let i = 0; i < d.length; i++) d[i] += d2[i];
      }
      deltas.set(m.init, d);
    }
    return deltas;
  }

  it('changes the UNet as W + m·(alpha/rank)·U·D would (Linear, Gemm, 1x1 and 3x3 Conv), attention still fused', async () => {
    const set = await loraSet(files, 'cpu', [kohya(0.8)]);
    assert.ok(set.graphs.unet, 'a rewritten UNet');
    assert.deepEqual(set.warnings, []);
    assert.ok(set.graphs.unet.notes.some((n) => n.startsWith('7 LoRA branches')), set.graphs.unet.notes.join('; '));
    assert.ok(set.graphs.unet.notes.some((n) => n.includes('MultiHeadAttention')), `fusion kept: ${set.graphs.unet.notes.join('; ')}`);
    assert.equal(set.applied[0].modules, 9);
    const feeds = unetFeeds();
    const got = await runGraph(files.unet, set.graphs.unet, feeds, 'out_sample');
    const want = await runBytes(await mergedGraph(files.unet, unetDeltas(0.8)), feeds, 'out_sample');
    const base = await runGraph(files.unet, undefined, feeds, 'out_sample');
    const err = relError(got, want);
    const effect = relError(base, want);
    assert.ok(effect > 1e-2, `the LoRA changes the output (${effect})`);
    assert.ok(err < 2e-5, `branch vs merged: ${err}`);
  });

  it('changes the text encoder the same way', async () => {
    const set = await loraSet(files, 'cpu', [kohya(1.5)]);
    assert.ok(set.graphs.textEncoder);
    const deltas = new Map<string, Float32Array>();
    for (const [name, m] of Object.entries(TE)) deltas.set(m.init, delta(teModules[name], 1.5, m.layout)); // alpha absent: rank
    const got = await runGraph(files.textEncoder, set.graphs.textEncoder, teFeeds(), 'last_hidden_state');
    const want = await runBytes(await mergedGraph(files.textEncoder, deltas), teFeeds(), 'last_hidden_state');
    assert.ok(relError(got, want) < 2e-5, `${relError(got, want)}`);
  });

  it('adds up two LoRAs (kohya and PEFT keys) on shared modules', async () => {
    const set = await loraSet(files, 'cpu', [kohya(0.5), peft(-1.25)]);
    assert.deepEqual(set.applied.map((a) => a.modules), [9, 2]);
    const feeds = unetFeeds();
    const got = await runGraph(files.unet, set.graphs.unet, feeds, 'out_sample');
    const want = await runBytes(await mergedGraph(files.unet, unetDeltas(0.5, -1.25)), feeds, 'out_sample');
    assert.ok(relError(got, want) < 2e-5, `${relError(got, want)}`);
  });

  it('multiplier 0 is no LoRA: the graphs are left as they are', async () => {
    const set = await loraSet(files, 'cpu', [kohya(0)]);
    assert.equal(set.graphs.unet, undefined);
    assert.equal(set.graphs.textEncoder, undefined);
    assert.equal(set.applied[0].modules, 9);
  });

  it('keeps a set: the same files and multipliers are not read again', async () => {
    await loraSet(files, 'cpu', [kohya(0.3)]);
    const again = await loraSet(files, 'cpu', [kohya(0.3)]);
    assert.equal(again.ms, 0);
  });
});
