// The int8 variant's convolutions (opt-in, an experiment beside the compact variant): each Conv
// with a constant float32 weight runs as QLinearConv on 8-bit activations and weights, which
// onnxruntime's CPU kernels (VNNI where the CPU has it) run 3-4 times faster than fp32 Conv.
// Weights: symmetric int8 per output channel. Activations: uint8 with one range per tensor,
// measured by running the float graph on real inputs first (calibration, addRangeOutputs).
// The first and last convolutions (the latents in, the noise prediction out) stay float32:
// they cost little and their rounding would reach the image directly.

import { onnx } from 'onnx-proto';
import { Node, OnnxGraph } from './onnxGraph';

const T = onnx.TensorProto.DataType;

export type Ranges = ReadonlyMap<string, readonly [number, number]>;

/** The Conv nodes this rewrite quantizes, in graph order. */
export function quantizableConvs(g: OnnxGraph): Node[] {
  const inputs = new Set(g.graph.input.map((i) => i.name));
  const outputs = new Set(g.graph.output.map((o) => o.name));
  return g.nodes.filter((n) => {
    if (n.opType !== 'Conv' || (n.domain ?? '') !== '') return false;
    const w = g.initializer(n.input?.[1] ?? '');
    if (!w || w.dataType !== T.FLOAT || w.dims?.length !== 4) return false;
    const b = n.input?.[2] ? g.initializer(n.input[2]) : undefined;
    if (n.input?.[2] && b?.dataType !== T.FLOAT) return false;
    return !inputs.has(n.input![0]) && !outputs.has(n.output![0]);
  });
}

/** The activations whose ranges the rewrite needs: every quantized Conv's input and output. */
export function rangeTensors(g: OnnxGraph): string[] {
  return [...new Set(quantizableConvs(g).flatMap((n) => [n.input![0], n.output![0]]))];
}

/** Range outputs' names for tensor `i` (scalars: the tensor's min and max over the whole batch). */
export const rangeOutput = (i: number, end: 'min' | 'max') => `calibration_${end}_${i}`;

/** Adds a ReduceMin and a ReduceMax output per tensor: one run reports every range without keeping the activations. */
export function addRangeOutputs(g: OnnxGraph, tensors: readonly string[]): void {
  const nodes: Node[] = [];
  tensors.forEach((t, i) => {
    for (const end of ['min', 'max'] as const) {
      const name = rangeOutput(i, end);
      nodes.push({ opType: end === 'min' ? 'ReduceMin' : 'ReduceMax', name, input: [t], output: [name], attribute: [{ name: 'keepdims', type: 2, i: 0 }] });
      g.graph.output.push(onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: T.FLOAT, shape: { dim: [] } } } }));
    }
  });
  g.replaceNodes(new Set(), nodes);
  g.sortNodes();
}

export interface ConvQuantizeOptions {
  ranges: Ranges;
  /** Reads a float32 initializer's values (external data included); called for one weight at a time. */
  read(t: onnx.ITensorProto): Promise<Float32Array>;
}

export interface ConvQuantizeResult {
  convs: number;
  floatBytes: number;
  quantizedBytes: number;
}

export async function quantizeConvolutions(g: OnnxGraph, o: ConvQuantizeOptions): Promise<ConvQuantizeResult> {
  const result: ConvQuantizeResult = { convs: 0, floatBytes: 0, quantizedBytes: 0 };
  const replaced = new Set<Node>();
  const added: Node[] = [];
  const used = new Map<string, number>();
  for (const n of g.nodes) for (const i of n.input ?? []) if (i) used.set(i, (used.get(i) ?? 0) + 1);
  // One QuantizeLinear per activation, however many convolutions read it.
  const quantized = new Map<string, string>(); // activation -> the prefix of its QuantizeLinear
  for (const n of quantizableConvs(g)) {
    const [x, wName, bName] = n.input as string[];
    const y = n.output![0];
    const xr = o.ranges.get(x);
    const yr = o.ranges.get(y);
    if (!xr || !yr || used.get(wName) !== 1 || (bName && used.get(bName) !== 1)) continue;
    const wt = g.initializer(wName)!;
    const dims = wt.dims!.map(Number);
    const M = dims[0];
    const w = await o.read(wt);
    const bias = bName ? await o.read(g.initializer(bName)!) : new Float32Array(M);
    const xq = asymmetric(xr);
    const yq = asymmetric(yr);
    const q = quantizePerChannel(w, M);
    const p = `${n.name || y}_int8`;
    const add = (name: string, dataType: number, d: number[], data: ArrayBufferView) =>
      g.addInitializer({ name: `${p}_${name}`, dataType, dims: d, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    let xPrefix = quantized.get(x);
    if (!xPrefix) {
      xPrefix = p;
      add('x_scale', T.FLOAT, [], Float32Array.of(xq.scale));
      add('x_zero_point', T.UINT8, [], Uint8Array.of(xq.zeroPoint));
      added.push({ opType: 'QuantizeLinear', name: `${p}_quantize`, input: [x, `${p}_x_scale`, `${p}_x_zero_point`], output: [`${p}_x`] });
      quantized.set(x, p);
    }
    add('w', T.INT8, dims, q.weights);
    add('w_scale', T.FLOAT, [M], q.scales);
    add('w_zero_point', T.INT8, [M], new Int8Array(M));
    add('y_scale', T.FLOAT, [], Float32Array.of(yq.scale));
    add('y_zero_point', T.UINT8, [], Uint8Array.of(yq.zeroPoint));
    // The bias in the accumulator's units (x scale times each channel's weight scale), as QLinearConv wants it.
    // (Clamped: a near-constant input's tiny scale must not wrap a large bias around.)
    add('b', T.INT32, [M], Int32Array.from(bias, (v, m) => Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.round(v / (xq.scale * q.scales[m]))))));
    g.removeInitializer(wName);
    if (bName) g.removeInitializer(bName);
    replaced.add(n);
    added.push(
      {
        opType: 'QLinearConv',
        name: `${p}_conv`,
        input: [`${xPrefix}_x`, `${xPrefix}_x_scale`, `${xPrefix}_x_zero_point`, `${p}_w`, `${p}_w_scale`, `${p}_w_zero_point`, `${p}_y_scale`, `${p}_y_zero_point`, `${p}_b`],
        output: [`${p}_y`],
        attribute: n.attribute,
      },
      { opType: 'DequantizeLinear', name: `${p}_dequantize`, input: [`${p}_y`, `${p}_y_scale`, `${p}_y_zero_point`], output: [y] },
    );
    result.convs += 1;
    result.floatBytes += w.length * 4;
    result.quantizedBytes += w.length + M * 8;
  }
  if (result.convs === 0) return result;
  g.replaceNodes(replaced, added);
  g.sortNodes();
  return result;
}

/** uint8 with the range widened to hold 0 (so zero padding is exact), as onnxruntime's quantizer does. */
export function asymmetric([lo, hi]: readonly [number, number]): { scale: number; zeroPoint: number } {
  const a = Math.min(lo, 0);
  const b = Math.max(hi, 0);
  const scale = b > a ? Math.fround((b - a) / 255) : 1;
  return { scale, zeroPoint: Math.min(255, Math.max(0, Math.round(-a / scale))) };
}

/** W [M, ...] -> int8 per output channel m, symmetric (zero point 0), scale max|w| / 127. */
export function quantizePerChannel(w: Float32Array, M: number): { weights: Int8Array; scales: Float32Array } {
  const K = w.length / M;
  const weights = new Int8Array(w.length);
  const scales = new Float32Array(M);
  for (let m = 0; m < M; m++) {
    let a = 0;
    for (let j = 0; j < K; j++) a = Math.max(a, Math.abs(w[m * K + j]));
    const s = a > 0 ? Math.fround(a / 127) : 1;
    scales[m] = s;
    for (let j = 0; j < K; j++) weights[m * K + j] = Math.max(-127, Math.min(127, Math.round(w[m * K + j] / s)));
  }
  return { weights, scales };
}
