// LoRA files written by the tests themselves (no download): a .safetensors writer, random
// low-rank matrices, and the reference the engine's branches are checked against: the model's
// graph with W + s·U·D merged into its weights, computed here in plain JS from the same tensors.

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { toFloat16Bits } from '../../../src/engine/onnx/float16';
import { WeightRandom } from '../../fixtures/onnx/random';

export interface TestTensor {
  dtype?: 'F32' | 'F16' | 'BF16';
  shape: number[];
  data: Float32Array;
}

/** A .safetensors file: u64 header length, JSON header, tensors in order. */
export function safetensorsBytes(tensors: Record<string, TestTensor>, metadata?: Record<string, string>): Buffer {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const dtype = t.dtype ?? 'F32';
    let bytes: Buffer;
    if (dtype === 'F32') bytes = Buffer.from(new Float32Array(t.data).buffer);
    else {
      const u = new Uint16Array(t.data.length);
      const f = new Float32Array(1);
      const bits = new Uint32Array(f.buffer);
      for (let i = 0; i < t.data.length; i++) {
        if (dtype === 'F16') u[i] = toFloat16Bits(t.data[i]);
        else {
          f[0] = t.data[i];
          u[i] = bits[0] >>> 16; // truncation: the test rounds its own values to bf16 first
        }
      }
      bytes = Buffer.from(u.buffer);
    }
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, ...chunks]);
}

export async function writeSafetensors(file: string, tensors: Record<string, TestTensor>, metadata?: Record<string, string>): Promise<string> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, safetensorsBytes(tensors, metadata));
  return file;
}

/** One module of a test LoRA: down [r, in(, kh, kw)], up [out, r(, 1, 1)], alpha. */
export interface TestModule {
  down: TestTensor;
  up: TestTensor;
  alpha?: number;
}

export function randomModule(rnd: WeightRandom, rank: number, inF: number, outF: number, kernel: number[] = [], alpha?: number): TestModule {
  const kk = kernel.reduce((a, b) => a * b, 1);
  return {
    down: { shape: [rank, inF, ...kernel], data: rnd.normals(rank * inF * kk, 0.3) },
    up: { shape: kernel.length ? [outF, rank, 1, 1] : [outF, rank], data: rnd.normals(outF * rank, 0.3) },
    alpha,
  };
}

/** kohya keys: lora_unet_<module with _>.lora_down.weight / .lora_up.weight / .alpha. */
export function kohyaTensors(modules: Record<string, TestModule>, prefix: 'lora_unet_' | 'lora_te_'): Record<string, TestTensor> {
  const out: Record<string, TestTensor> = {};
  for (const [module, m] of Object.entries(modules)) {
    const k = prefix + module.replace(/\./g, '_');
    out[`${k}.lora_down.weight`] = m.down;
    out[`${k}.lora_up.weight`] = m.up;
    if (m.alpha !== undefined) out[`${k}.alpha`] = { shape: [], data: new Float32Array([m.alpha]) };
  }
  return out;
}

/** PEFT keys: <prefix>.<module>.lora_A.weight / .lora_B.weight (no alpha: alpha = rank). */
export function peftTensors(modules: Record<string, TestModule>, prefix: 'unet.' | 'text_encoder.'): Record<string, TestTensor> {
  const out: Record<string, TestTensor> = {};
  for (const [module, m] of Object.entries(modules)) {
    out[`${prefix}${module}.lora_A.weight`] = m.down;
    out[`${prefix}${module}.lora_B.weight`] = m.up;
  }
  return out;
}

/** How a module's weight is stored in the graph: Linear as MatMul [in, out] or Gemm [out, in]; Conv [out, in, kh, kw]. */
export type Layout = 'in-out' | 'out-in';

/** s·U·D in the weight's own layout. */
export function delta(m: TestModule, scale: number, layout: Layout): Float32Array {
  const [r, inF, ...kernel] = m.down.shape;
  const kk = kernel.reduce((a, b) => a * b, 1);
  const outF = m.up.shape[0];
  const d = new Float32Array(outF * inF * kk);
  for (let o = 0; o < outF; o++) {
    for (let i = 0; i < inF * kk; i++) {
      let sum = 0;
      for (let j = 0; j < r; j++) sum += m.up.data[o * r + j] * m.down.data[j * inF * kk + i];
      if (layout === 'out-in') d[o * inF * kk + i] = scale * sum;
      else d[i * outF + o] = scale * sum;
    }
  }
  return d;
}

/** The graph with every weight inline and `deltas` (initializer name -> values to add) merged in. */
export async function mergedGraph(file: string, deltas: Map<string, Float32Array>): Promise<Uint8Array> {
  const model = onnx.ModelProto.decode(await fs.readFile(file));
  const folder = path.dirname(file);
  const left = new Set(deltas.keys());
  for (const t of model.graph?.initializer ?? []) {
    const name = t.name ?? '';
    if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
      const kv = Object.fromEntries((t.externalData ?? []).map((e) => [e.key, e.value]));
      const data = await fs.readFile(path.join(folder, kv.location!));
      const start = Number(kv.offset ?? 0);
      t.rawData = new Uint8Array(data.subarray(start, start + Number(kv.length)));
      t.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
      t.externalData = [];
    }
    const d = deltas.get(name);
    if (!d) continue;
    left.delete(name);
    const raw = t.rawData ?? new Uint8Array();
    const w = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    if (w.length !== d.length) throw new Error(`${name}: ${w.length} values, delta has ${d.length}`);
    for (let i = 0; i < w.length; i++) w[i] += d[i];
    t.rawData = new Uint8Array(w.buffer);
  }
  if (left.size) throw new Error(`no initializers ${[...left].join(', ')} in ${file}`);
  return onnx.ModelProto.encode(model).finish();
}
