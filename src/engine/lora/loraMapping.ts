// Which node of an exported ONNX graph a LoRA module changes. torch.onnx names every node by its
// module scope, e.g. `/down_blocks.1/attentions.0/transformer_blocks.0/attn1/to_q/MatMul` (weight
// `onnx::MatMul_1234`, stored transposed as [in, out]) or `/down_blocks.0/resnets.0/conv1/Conv`
// (weight `down_blocks.0.resnets.0.conv1.weight`, [out, in, kh, kw]); the text encoder's are
// `/text_model/encoder/layers.0/self_attn/q_proj/MatMul`. The module list is read from the graph,
// not written down here, so every Linear and Conv the exporter kept is a target, whatever the
// LoRA trained. Where node names carry no scope, a Conv or Gemm weight's own name
// (`<module>.weight`) still says the module.

import { onnx } from 'onnx-proto';
import { Node, OnnxGraph, intAttr } from '../onnx/graph/onnxGraph';
import { LoraComponent, LoraFile, LoraModule } from './loraFile';

export interface GraphTarget {
  module: string;
  node: Node;
  kind: 'matmul' | 'gemm' | 'conv';
  /** Linear: features in and out. Conv: channels in and out, kernel. */
  inFeatures: number;
  outFeatures: number;
  kernel: number[];
  /** The weight's element type (FLOAT or FLOAT16): the LoRA matrices are written in it too. */
  dataType: number;
}

const OP_SEGMENT = /^(MatMul|Gemm|Conv)(_\d+)?$/;

/** Every Linear and Conv of the graph by module path; modules with two candidate nodes are left out. */
export function graphTargets(g: OnnxGraph): Map<string, GraphTarget> {
  const found = new Map<string, GraphTarget | null>();
  for (const node of g.nodes) {
    const t = target(g, node);
    if (!t) continue;
    // Two weighted ops in one module: which one a LoRA meant cannot be told.
    found.set(t.module, found.has(t.module) ? null : t);
  }
  return new Map([...found].filter((e): e is [string, GraphTarget] => e[1] !== null));
}

function target(g: OnnxGraph, node: Node): GraphTarget | undefined {
  const op = node.opType;
  if (op !== 'MatMul' && op !== 'Gemm' && op !== 'Conv') return undefined;
  const weight = weightOf(g, node.input?.[1]);
  if (!weight || !weight.dims) return undefined;
  const dims = weight.dims.map(Number);
  const T = onnx.TensorProto.DataType;
  if (weight.dataType !== T.FLOAT && weight.dataType !== T.FLOAT16) return undefined;
  const module = moduleOf(node, weight);
  if (!module) return undefined;
  const base = { module, node, dataType: weight.dataType };
  if (op === 'MatMul') {
    if (dims.length !== 2) return undefined;
    return { ...base, kind: 'matmul', inFeatures: dims[0], outFeatures: dims[1], kernel: [] };
  }
  if (op === 'Gemm') {
    if (dims.length !== 2 || intAttr(node, 'transA')) return undefined;
    const transB = intAttr(node, 'transB') === 1;
    return { ...base, kind: 'gemm', inFeatures: transB ? dims[1] : dims[0], outFeatures: transB ? dims[0] : dims[1], kernel: [] };
  }
  if (dims.length !== 4 || (intAttr(node, 'group') ?? 1) !== 1) return undefined;
  return { ...base, kind: 'conv', inFeatures: dims[1], outFeatures: dims[0], kernel: dims.slice(2) };
}

/** The initializer a node's weight input is, directly or through an Identity. */
function weightOf(g: OnnxGraph, value: string | null | undefined): onnx.ITensorProto | undefined {
  if (!value) return undefined;
  const init = g.initializer(value);
  if (init) return init;
  const id = g.from(value, 'Identity');
  return id ? g.initializer(id.input?.[0] ?? '') : undefined;
}

function moduleOf(node: Node, weight: onnx.ITensorProto): string | undefined {
  const parts = (node.name ?? '').split('/').filter(Boolean);
  if (parts.length >= 2 && OP_SEGMENT.test(parts[parts.length - 1])) return parts.slice(0, -1).join('.');
  const w = weight.name ?? '';
  if (node.opType !== 'MatMul' && w.endsWith('.weight')) return w.slice(0, -'.weight'.length);
  return undefined;
}

/** kohya's name for a module: every `.` as `_` (lora_unet_down_blocks_0_..._to_q). */
export function kohyaName(module: string): string {
  return module.replace(/\./g, '_');
}

export interface MatchedModule {
  lora: LoraModule;
  target: GraphTarget;
}

export interface LoraMatch {
  matched: MatchedModule[];
  /** Modules of the file with no target here (keyed for the caller to merge across components). */
  unmatched: LoraModule[];
  /** Modules that name a target whose shape they do not fit. */
  mismatched: string[];
}

/** The modules of `lora` meant for `component`, matched to `targets` (that component's graph). */
export function matchLora(lora: LoraFile, component: LoraComponent, targets: Map<string, GraphTarget>): LoraMatch {
  const byKohya = new Map<string, GraphTarget>();
  for (const t of targets.values()) byKohya.set(kohyaName(t.module), t);
  const out: LoraMatch = { matched: [], unmatched: [], mismatched: [] };
  for (const m of lora.modules) {
    if (m.component !== undefined && m.component !== component) continue;
    const t = m.style === 'kohya' ? byKohya.get(m.name) : targets.get(m.name);
    if (!t) {
      out.unmatched.push(m);
      continue;
    }
    const problem = fitProblem(m, t);
    if (problem) out.mismatched.push(`${m.key}: ${problem}`);
    else out.matched.push({ lora: m, target: t });
  }
  return out;
}

/** Whether down [r, in(, kh, kw)] and up [out, r(, 1, 1)] fit the target's weight. */
function fitProblem(m: LoraModule, t: GraphTarget): string | undefined {
  const [, inF, ...k] = m.downShape;
  const outF = m.upShape[0];
  const what = `${t.node.name} is ${t.inFeatures} -> ${t.outFeatures}${t.kernel.length ? ` (${t.kernel.join('x')} kernel)` : ''}`;
  if (inF !== t.inFeatures || outF !== t.outFeatures) return `the LoRA is ${inF} -> ${outF} but ${what} (a LoRA for another model?)`;
  const kernel = k.length ? k : [1, 1];
  if (t.kind === 'conv') {
    if (kernel.join('x') !== t.kernel.join('x')) return `its ${kernel.join('x')} kernel does not fit: ${what}`;
  } else if (kernel.some((d) => d !== 1)) {
    return `a ${kernel.join('x')} kernel on a linear layer: ${what}`;
  }
  return undefined;
}

/** The Conv attributes a LoRA down convolution repeats (stride, padding, dilation), so its output lines up. */
export function convAttributes(node: Node): onnx.IAttributeProto[] {
  const keep = ['strides', 'pads', 'dilations', 'auto_pad', 'kernel_shape'];
  return (node.attribute ?? []).filter((a) => keep.includes(a.name ?? ''));
}
