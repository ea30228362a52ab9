// Single-file checkpoints written by the tests from a tiny-ckpt model's own weights, in the LDM
// key layout (test/fixtures/onnx/checkpointNets.ts). The LDM names come from the explicit table
// below, written for the tiny topology (2 down blocks with 1 resnet each, a 3-block VAE), not
// from the code under test.

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import type { TestTensor } from '../lora/loraFixtures';

export type Component = 'text_encoder' | 'unet' | 'vae_decoder' | 'vae_encoder';
export const COMPONENTS: Component[] = ['text_encoder', 'unet', 'vae_decoder', 'vae_encoder'];

/** One use of an initializer as a parameter: its diffusers name, how the graph stores it, its values. */
export interface GraphParam {
  component: Component;
  param: string;
  init: string;
  dims: number[];
  /** MatMul weights are stored [in, out]. */
  transposed: boolean;
  values: Float32Array;
}

async function initValues(dir: string, t: onnx.ITensorProto): Promise<Float32Array> {
  let raw = t.rawData ?? new Uint8Array();
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    const kv = Object.fromEntries((t.externalData ?? []).map((e) => [e.key, e.value]));
    const data = await fs.readFile(path.join(dir, kv.location!));
    raw = data.subarray(Number(kv.offset ?? 0), Number(kv.offset ?? 0) + Number(kv.length));
  }
  return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
}

/** Every (initializer, parameter) pair of a model folder's graphs; an initializer shared through Identity nodes appears once per use. */
export async function graphParams(modelDir: string): Promise<GraphParam[]> {
  const out: GraphParam[] = [];
  for (const component of COMPONENTS) {
    const file = path.join(modelDir, component, 'model.onnx');
    const model = onnx.ModelProto.decode(await fs.readFile(file));
    const nodes = model.graph?.node ?? [];
    for (const t of model.graph?.initializer ?? []) {
      if (t.dataType !== onnx.TensorProto.DataType.FLOAT) continue;
      const values = await initValues(path.dirname(file), t);
      // Follow Identity nodes: each use names its module in the node name.
      const names = [t.name ?? '', ...nodes.filter((n) => n.opType === 'Identity' && n.input?.[0] === t.name).map((n) => n.output?.[0] ?? '')];
      const seen = new Set<string>();
      for (const n of nodes) {
        const at = (n.input ?? []).findIndex((i) => names.includes(i));
        if (at < 0 || n.opType === 'Identity' || !n.name?.startsWith('/')) continue;
        const scope = n.name.split('/').filter(Boolean).slice(0, -1).join('.');
        const role = n.opType === 'Add' || at === 2 ? 'bias' : 'weight';
        const param = `${scope}.${role}`;
        if (seen.has(param)) continue;
        seen.add(param);
        out.push({ component, param, init: t.name ?? '', dims: (t.dims ?? []).map(Number), transposed: n.opType === 'MatMul', values });
      }
    }
  }
  return out;
}

// diffusers module prefix -> LDM prefix, for the tiny-ckpt UNet (longest prefix wins).
const UNET: [string, string][] = [
  ['conv_in', 'input_blocks.0.0'],
  ['time_embedding.linear_1', 'time_embed.0'],
  ['time_embedding.linear_2', 'time_embed.2'],
  ['down_blocks.0.resnets.0', 'input_blocks.1.0'],
  ['down_blocks.0.attentions.0', 'input_blocks.1.1'],
  ['down_blocks.0.downsamplers.0.conv', 'input_blocks.2.0.op'],
  ['down_blocks.1.resnets.0', 'input_blocks.3.0'],
  ['mid_block.resnets.0', 'middle_block.0'],
  ['mid_block.attentions.0', 'middle_block.1'],
  ['mid_block.resnets.1', 'middle_block.2'],
  ['up_blocks.0.resnets.0', 'output_blocks.0.0'],
  ['up_blocks.0.resnets.1', 'output_blocks.1.0'],
  ['up_blocks.0.upsamplers.0.conv', 'output_blocks.1.1.conv'],
  ['up_blocks.1.resnets.0', 'output_blocks.2.0'],
  ['up_blocks.1.attentions.0', 'output_blocks.2.1'],
  ['up_blocks.1.resnets.1', 'output_blocks.3.0'],
  ['up_blocks.1.attentions.1', 'output_blocks.3.1'],
  ['conv_norm_out', 'out.0'],
  ['conv_out', 'out.2'],
];
const UNET_RESNET: Record<string, string> = { norm1: 'in_layers.0', conv1: 'in_layers.2', time_emb_proj: 'emb_layers.1', norm2: 'out_layers.0', conv2: 'out_layers.3', conv_shortcut: 'skip_connection' };

const VAE: [string, string][] = [
  ['decoder.conv_norm_out', 'decoder.norm_out'],
  ['encoder.conv_norm_out', 'encoder.norm_out'],
  ['decoder.mid_block.resnets.0', 'decoder.mid.block_1'],
  ['decoder.mid_block.resnets.1', 'decoder.mid.block_2'],
  ['decoder.mid_block.attentions.0', 'decoder.mid.attn_1'],
  ['encoder.mid_block.resnets.0', 'encoder.mid.block_1'],
  ['encoder.mid_block.resnets.1', 'encoder.mid.block_2'],
  ['encoder.mid_block.attentions.0', 'encoder.mid.attn_1'],
  ['decoder.up_blocks.0.resnets.0', 'decoder.up.2.block.0'],
  ['decoder.up_blocks.0.upsamplers.0.conv', 'decoder.up.2.upsample.conv'],
  ['decoder.up_blocks.1.resnets.0', 'decoder.up.1.block.0'],
  ['decoder.up_blocks.1.upsamplers.0.conv', 'decoder.up.1.upsample.conv'],
  ['decoder.up_blocks.2.resnets.0', 'decoder.up.0.block.0'],
  ['encoder.down_blocks.0.resnets.0', 'encoder.down.0.block.0'],
  ['encoder.down_blocks.0.downsamplers.0.conv', 'encoder.down.0.downsample.conv'],
  ['encoder.down_blocks.1.resnets.0', 'encoder.down.1.block.0'],
  ['encoder.down_blocks.1.downsamplers.0.conv', 'encoder.down.1.downsample.conv'],
  ['encoder.down_blocks.2.resnets.0', 'encoder.down.2.block.0'],
];
const VAE_INNER: Record<string, string> = { conv_shortcut: 'nin_shortcut', group_norm: 'norm', to_q: 'q', to_k: 'k', to_v: 'v', 'to_out.0': 'proj_out' };

function renamePrefix(name: string, table: [string, string][]): string {
  const hit = table.filter(([d]) => name.startsWith(`${d}.`)).sort((a, b) => b[0].length - a[0].length)[0];
  return hit ? hit[1] + name.slice(hit[0].length) : name;
}

function renameInner(name: string, inner: Record<string, string>): string {
  for (const [from, to] of Object.entries(inner)) {
    const at = name.lastIndexOf(`.${from}.`);
    if (at >= 0) return `${name.slice(0, at)}.${to}.${name.slice(at + from.length + 2)}`;
  }
  return name;
}

/** The LDM key of a diffusers parameter of the tiny-ckpt model. */
export function ldmKey(component: Component, param: string): string {
  if (component === 'text_encoder') return `cond_stage_model.transformer.${param}`;
  if (component === 'unet') {
    const p = param.replace(/(resnets\.\d+)\.(norm1|conv1|time_emb_proj|norm2|conv2|conv_shortcut)\./, (_, r: string, m: string) => `${r}.${UNET_RESNET[m]}.`);
    return `model.diffusion_model.${renamePrefix(p, UNET)}`;
  }
  return `first_stage_model.${renamePrefix(renameInner(param, VAE_INNER), VAE)}`;
}

/** The tensor as the checkpoint holds it: Linear [out, in] (VAE attention as 1x1 conv), norms [C]. */
export function ldmTensor(p: GraphParam): { key: string; shape: number[]; data: Float32Array } {
  const key = ldmKey(p.component, p.param);
  if (p.transposed) {
    const [inF, outF] = p.dims;
    const data = new Float32Array(p.values.length);
    for (let i = 0; i < inF; i++) for (let o = 0; o < outF; o++) data[o * inF + i] = p.values[i * outF + o];
    const conv = key.includes('.mid.attn_1.');
    return { key, shape: conv ? [outF, inF, 1, 1] : [outF, inF], data };
  }
  const norm = /(norm\d?|norm_out|layer_norm\d|final_layer_norm|in_layers\.0|out_layers\.0|out\.0)\.(weight|bias)$/.test(key);
  return { key, shape: norm ? [p.dims[0]] : p.dims, data: p.values };
}

export interface CheckpointOptions {
  dtype?: 'F32' | 'F16' | 'BF16';
  /** Changes some tensors: key -> new values (same length). */
  change?: Record<string, (values: Float32Array) => Float32Array>;
  /** Left out. */
  drop?: string[];
  /** Added as they are. */
  extra?: Record<string, TestTensor>;
}

/** The checkpoint tensors of a model folder (tiny-ckpt) in LDM layout, plus EMA and training buffers as real files have. */
export async function ldmTensors(modelDir: string, opts: CheckpointOptions = {}): Promise<Record<string, TestTensor>> {
  const out: Record<string, TestTensor> = {};
  for (const p of await graphParams(modelDir)) {
    const t = ldmTensor(p);
    if (opts.drop?.includes(t.key)) continue;
    const data = opts.change?.[t.key] ? opts.change[t.key](t.data) : t.data;
    out[t.key] = { dtype: opts.dtype ?? 'F32', shape: t.shape, data };
  }
  const first = Object.keys(out).find((k) => k.startsWith('model.diffusion_model.'))!;
  out[`model_ema.${first.slice('model.'.length).replace(/\./g, '')}`] = { shape: out[first].shape, data: out[first].data.map((v) => v * 2) };
  out.alphas_cumprod = { shape: [4], data: new Float32Array([0.99, 0.9, 0.5, 0.1]) };
  out['cond_stage_model.transformer.text_model.embeddings.position_ids'] = { shape: [1, 77], data: Float32Array.from({ length: 77 }, (_, i) => i) };
  return { ...out, ...opts.extra };
}
