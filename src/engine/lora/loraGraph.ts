// LoRAs as low-rank branches added to the graph, not merged into the weights. For a targeted
// Linear y = x·W (W stored [in, out]) the graph gets
//     y = x·W + (x·Dᵀ)·(s·Uᵀ)          s = multiplier · alpha / rank
// (MatMul, MatMul, Add), and for a Conv the same with a Conv of the LoRA's down kernel (same
// stride, padding, dilation) and a 1×1 Conv of s·U. That is what diffusers/PEFT compute unfused,
// to float rounding the merged W + s·U·D. Why not merge: SD 1.5's UNet weights are 3.4 GB that
// onnxruntime maps from the model folder; merging would copy and rewrite them for every LoRA set.
// The branches' matrices are small (rank × width) and go inline into the in-memory graph, so a
// new LoRA set costs a graph rewrite and a session creation (seconds), never a weight reload.
// Several LoRAs on one module are one branch: their downs and scaled ups concatenated along
// the rank (Σ sₖUₖDₖ = [s₁U₁ … sₙUₙ]·[D₁; …; Dₙ]).

import { onnx } from 'onnx-proto';
import { toFloat16Bits } from '../onnx/float16';
import { Node, OnnxGraph } from '../onnx/graph/onnxGraph';
import { LoraModule } from './loraFile';
import { GraphTarget, MatchedModule, convAttributes } from './loraMapping';

export interface BranchPart extends MatchedModule {
  /** multiplier · alpha / rank. */
  scale: number;
  down: Float32Array;
  up: Float32Array;
}

export interface BranchStats {
  /** Nodes that got a branch. */
  modules: number;
  /** Floats of the inline LoRA matrices. */
  floats: number;
}

/** Adds one branch per targeted node (parts with scale 0 are left out: multiplier 0 is no LoRA). */
export function addLoraBranches(g: OnnxGraph, parts: BranchPart[]): BranchStats {
  const byNode = new Map<Node, BranchPart[]>();
  for (const p of parts) {
    if (p.scale === 0) continue;
    const list = byNode.get(p.target.node);
    if (list) list.push(p);
    else byNode.set(p.target.node, [p]);
  }
  const added: Node[] = [];
  let floats = 0;
  for (const [node, list] of byNode) {
    const t = list[0].target;
    const { down, up, downDims, upDims } = t.kind === 'conv' ? convMatrices(t, list) : linearMatrices(t, list);
    floats += down.length + up.length;
    const base = `lora::${t.module}`;
    g.addInitializer(tensor(`${base}.down`, down, downDims, t.dataType));
    g.addInitializer(tensor(`${base}.up`, up, upDims, t.dataType));
    const y = node.output![0];
    const baseOut = `${y}/lora_base`;
    node.output![0] = baseOut;
    const x = node.input![0];
    const name = node.name || t.module;
    if (t.kind === 'conv') {
      added.push({ opType: 'Conv', name: `${name}/lora_down`, input: [x, `${base}.down`], output: [`${base}/low`], attribute: convAttributes(node) });
      added.push({ opType: 'Conv', name: `${name}/lora_up`, input: [`${base}/low`, `${base}.up`], output: [`${base}/delta`], attribute: [{ name: 'kernel_shape', type: 7 /* INTS */, ints: [1, 1] }] });
    } else {
      added.push({ opType: 'MatMul', name: `${name}/lora_down`, input: [x, `${base}.down`], output: [`${base}/low`] });
      added.push({ opType: 'MatMul', name: `${name}/lora_up`, input: [`${base}/low`, `${base}.up`], output: [`${base}/delta`] });
    }
    added.push({ opType: 'Add', name: `${name}/lora_add`, input: [baseOut, `${base}/delta`], output: [y] });
  }
  if (added.length) {
    g.replaceNodes(new Set(), added);
    g.sortNodes();
  }
  return { modules: byNode.size, floats };
}

/** Dᵀ [in, R] and s·Uᵀ [R, out] for y = x·W; a Gemm's alpha scales its product, so the branch's too. */
function linearMatrices(t: GraphTarget, parts: BranchPart[]) {
  const inF = t.inFeatures;
  const outF = t.outFeatures;
  const R = parts.reduce((a, p) => a + p.lora.rank, 0);
  const gemmAlpha = t.kind === 'gemm' ? (t.node.attribute?.find((a) => a.name === 'alpha')?.f ?? 1) : 1;
  const down = new Float32Array(inF * R);
  const up = new Float32Array(R * outF);
  let c0 = 0;
  for (const p of parts) {
    const r = p.lora.rank;
    const s = p.scale * gemmAlpha;
    for (let j = 0; j < r; j++) {
      for (let i = 0; i < inF; i++) down[i * R + c0 + j] = p.down[j * inF + i];
      for (let o = 0; o < outF; o++) up[(c0 + j) * outF + o] = s * p.up[o * r + j];
    }
    c0 += r;
  }
  return { down, up, downDims: [inF, R], upDims: [R, outF] };
}

/** D [R, in, kh, kw] (the downs stacked) and s·U [out, R, 1, 1]. */
function convMatrices(t: GraphTarget, parts: BranchPart[]) {
  const inF = t.inFeatures;
  const outF = t.outFeatures;
  const kk = t.kernel.reduce((a, b) => a * b, 1);
  const R = parts.reduce((a, p) => a + p.lora.rank, 0);
  const down = new Float32Array(R * inF * kk);
  const up = new Float32Array(outF * R);
  let c0 = 0;
  for (const p of parts) {
    const r = p.lora.rank;
    down.set(p.down, c0 * inF * kk);
    for (let o = 0; o < outF; o++) for (let j = 0; j < r; j++) up[o * R + c0 + j] = p.scale * p.up[o * r + j];
    c0 += r;
  }
  return { down, up, downDims: [R, inF, ...t.kernel], upDims: [outF, R, 1, 1] };
}

function tensor(name: string, data: Float32Array, dims: number[], dataType: number): onnx.ITensorProto {
  if (dataType === onnx.TensorProto.DataType.FLOAT16) {
    const half = new Uint16Array(data.length);
    for (let i = 0; i < data.length; i++) half[i] = toFloat16Bits(data[i]);
    return { name, dims, dataType, rawData: new Uint8Array(half.buffer) };
  }
  return { name, dims, dataType, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** multiplier · alpha / rank, as kohya's and A1111's LoRA modules scale (alpha absent: rank). */
export function loraScale(m: LoraModule, multiplier: number): number {
  return (multiplier * (m.alpha ?? m.rank)) / m.rank;
}
