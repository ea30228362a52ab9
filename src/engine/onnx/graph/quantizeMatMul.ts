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
    if (o.perColumn) {
      const q = quantizeColumns(values, K, N);
      const base = `${wName}_int8`;
      g.addInitializer({ name: `${base}_weight`, dataType: onnx.TensorProto.DataType.INT8, dims: [K, N], rawData: new Uint8Array(q.weights.buffer) });
      g.addInitializer({ name: `${base}_scales`, dataType: onnx.TensorProto.DataType.FLOAT, dims: [N], rawData: new Uint8Array(q.scales.buffer) });
      g.addInitializer({ name: `${base}_zero_points`, dataType: onnx.TensorProto.DataType.INT8, dims: [N], rawData: new Uint8Array(N) });
      g.removeInitializer(wName!);
      replaced.add(n);
      added.push({
        opType: 'DynamicQuantizeMatMul',
        domain: 'com.microsoft',
        name: `${n.name ?? wName}_int8`,
        input: [n.input![0], `${base}_weight`, `${base}_scales`, `${base}_zero_points`],
        output: n.output,
      });
      result.matmuls += 1;
      result.floatBytes += K * N * 4;
      result.quantizedBytes += K * N + N * 5;
      continue;
    }
    const q = quantizeBlocks(values, K, N, o.blockSize);
    const base = `${wName}_q8`;
    g.addInitializer({ name: `${base}_weight`, dataType: onnx.TensorProto.DataType.UINT8, dims: [N, K / o.blockSize, o.blockSize], rawData: q.weights });
    g.addInitializer({ name: `${base}_scales`, dataType: onnx.TensorProto.DataType.FLOAT, dims: [N * (K / o.blockSize)], rawData: new Uint8Array(q.scales.buffer) });
    g.addInitializer({ name: `${base}_zero_points`, dataType: onnx.TensorProto.DataType.UINT8, dims: [N * (K / o.blockSize)], rawData: q.zeroPoints });
    g.removeInitializer(wName!);
    replaced.add(n);
    added.push({
      opType: 'MatMulNBits',
      domain: 'com.microsoft',
      name: `${n.name ?? wName}_q8`,
      input: [n.input![0], `${base}_weight`, `${base}_scales`, `${base}_zero_points`],
      output: n.output,
      attribute: [
        { name: 'K', type: 2, i: K },
        { name: 'N', type: 2, i: N },
        { name: 'bits', type: 2, i: 8 },
        { name: 'block_size', type: 2, i: o.blockSize },
        { name: 'accuracy_level', type: 2, i: o.accuracyLevel },
      ],
    });
    result.matmuls += 1;
    result.floatBytes += K * N * 4;
    result.quantizedBytes += q.weights.length + q.scales.byteLength + q.zeroPoints.length;
  }
  if (result.matmuls === 0) return result;
  g.replaceNodes(replaced, added);
  g.useOpset('com.microsoft', 1);
  g.sortNodes();
  return result;
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
