// The compact variant (opt-in, an experiment): every MatMul whose weight is a constant
// [K, N] float32 initializer becomes com.microsoft MatMulNBits with 8-bit weights in blocks of
// `blockSize` along K (asymmetric: a float scale and a uint8 zero point per block), computed
// with int8 activations where the CPU has the instructions (accuracy_level 4). Convolutions stay
// float32. In SD v1.5's UNet the MatMul weights are 0.97 of its 3.44 GB.
// The int8 variant (perColumn) uses com.microsoft DynamicQuantizeMatMul instead: int8 weights
// with one scale per output column, the activations quantized per tensor as the op runs; on
// SD's shapes onnxruntime runs it 1.4-2.4 times faster than MatMulNBits, a little less exactly.

import { onnx } from 'onnx-proto';
import { Node, OnnxGraph } from './onnxGraph';

export interface QuantizeOptions {
  blockSize: number;
  accuracyLevel: number;
  /** DynamicQuantizeMatMul with per-column int8 weights instead of MatMulNBits blocks. */
  perColumn?: boolean;
  /** Reads a float32 initializer's values (external data included); called for one weight at a time. */
  read(t: onnx.ITensorProto): Promise<Float32Array>;
}

export interface QuantizeResult {
  matmuls: number;
  floatBytes: number;
  quantizedBytes: number;
}

export async function quantizeMatMulWeights(g: OnnxGraph, o: QuantizeOptions): Promise<QuantizeResult> {
  const result: QuantizeResult = { matmuls: 0, floatBytes: 0, quantizedBytes: 0 };
  const replaced = new Set<Node>();
  const added: Node[] = [];
  const used = new Map<string, number>();
  for (const n of g.nodes) for (const i of n.input ?? []) if (i) used.set(i, (used.get(i) ?? 0) + 1);
  for (const n of g.nodes) {
    if (n.opType !== 'MatMul' || (n.domain ?? '') !== '') continue;
    const wName = n.input?.[1];
    const w = wName ? g.initializer(wName) : undefined;
    if (!w || w.dataType !== onnx.TensorProto.DataType.FLOAT || w.dims?.length !== 2) continue;
    const [K, N] = w.dims.map(Number);
    if ((!o.perColumn && K % o.blockSize !== 0) || used.get(wName!) !== 1) continue;
    // One weight in memory at a time: all of SD v1.5's at once would be another 0.97 GB.
    const values = await o.read(w);
    const T = onnx.TensorProto.DataType;
    // The weight's replacement: three initializers (weight, scales, zero points) and the op reading them.
    const q = o.perColumn ? perColumnOp(values, K, N) : blockOp(values, K, N, o);
    const base = `${wName}_${q.suffix}`;
    const names = ['weight', 'scales', 'zero_points'].map((part) => `${base}_${part}`);
    q.tensors.forEach((t, k) => g.addInitializer({ name: names[k], dataType: T[t.type], dims: t.dims, rawData: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) }));
    g.removeInitializer(wName!);
    replaced.add(n);
    added.push({ opType: q.opType, domain: 'com.microsoft', name: `${n.name ?? wName}_${q.suffix}`, input: [n.input![0], ...names], output: n.output, attribute: q.attribute });
    result.matmuls += 1;
    result.floatBytes += K * N * 4;
    result.quantizedBytes += q.tensors.reduce((sum, t) => sum + t.data.byteLength, 0);
  }
  if (result.matmuls === 0) return result;
  g.replaceNodes(replaced, added);
  g.useOpset('com.microsoft', 1);
  g.sortNodes();
  return result;
}

interface QuantizedOp {
  opType: string;
  suffix: string;
  tensors: { type: 'UINT8' | 'INT8' | 'FLOAT'; dims: number[]; data: ArrayBufferView }[];
  attribute?: onnx.IAttributeProto[];
}

function blockOp(values: Float32Array, K: number, N: number, o: QuantizeOptions): QuantizedOp {
  const q = quantizeBlocks(values, K, N, o.blockSize);
  const blocks = K / o.blockSize;
  return {
    opType: 'MatMulNBits',
    suffix: 'q8',
    tensors: [
      { type: 'UINT8', dims: [N, blocks, o.blockSize], data: q.weights },
      { type: 'FLOAT', dims: [N * blocks], data: q.scales },
      { type: 'UINT8', dims: [N * blocks], data: q.zeroPoints },
    ],
    attribute: [
      { name: 'K', type: 2, i: K },
      { name: 'N', type: 2, i: N },
      { name: 'bits', type: 2, i: 8 },
      { name: 'block_size', type: 2, i: o.blockSize },
      { name: 'accuracy_level', type: 2, i: o.accuracyLevel },
    ],
  };
}

function perColumnOp(values: Float32Array, K: number, N: number): QuantizedOp {
  const q = quantizeColumns(values, K, N);
  return {
    opType: 'DynamicQuantizeMatMul',
    suffix: 'int8',
    tensors: [
      { type: 'INT8', dims: [K, N], data: q.weights },
      { type: 'FLOAT', dims: [N], data: q.scales },
      { type: 'INT8', dims: [N], data: new Int8Array(N) },
    ],
  };
}

/** W [K, N] row-major -> int8 in the same layout, symmetric, one scale (max |w| / 127) per column n. */
export function quantizeColumns(w: Float32Array, K: number, N: number): { weights: Int8Array; scales: Float32Array } {
  const scales = new Float32Array(N);
  for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) scales[n] = Math.max(scales[n], Math.abs(w[k * N + n]));
  for (let n = 0; n < N; n++) scales[n] = scales[n] > 0 ? Math.fround(scales[n] / 127) : 1;
  const weights = new Int8Array(K * N);
  for (let i = 0; i < weights.length; i++) weights[i] = Math.max(-127, Math.min(127, Math.round(w[i] / scales[i % N])));
  return { weights, scales };
}

/** W [K, N] row-major -> per column n, blocks along K: q[n][b][j], scale[n][b], zero point[n][b]. */
export function quantizeBlocks(w: Float32Array, K: number, N: number, block: number): { weights: Uint8Array; scales: Float32Array; zeroPoints: Uint8Array } {
  const blocks = K / block;
  const weights = new Uint8Array(N * K);
  const scales = new Float32Array(N * blocks);
  const zeroPoints = new Uint8Array(N * blocks);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < blocks; b++) {
      let lo = 0;
      let hi = 0;
      for (let j = 0; j < block; j++) {
        const v = w[(b * block + j) * N + n];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      // The range always holds 0, so 0 is exact (as onnxruntime's own quantizer does it).
      const scale = hi > lo ? (hi - lo) / 255 : 1;
      const zp = Math.min(255, Math.max(0, Math.round(-lo / scale)));
      scales[n * blocks + b] = scale;
      zeroPoints[n * blocks + b] = zp;
      const at = (n * blocks + b) * block;
      for (let j = 0; j < block; j++) {
        const v = w[(b * block + j) * N + n];
        weights[at + j] = Math.min(255, Math.max(0, Math.round(v / scale) + zp));
      }
    }
  }
  return { weights, scales, zeroPoints };
}
