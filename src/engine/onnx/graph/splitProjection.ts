// A projection whose output is cut in two along its features (GEGLU's, diffusers'
// `proj(x).chunk(2, dim=-1)`) as two MatMuls, each on its half of the weight, so that nothing
// copies the halves out of the whole: at SD v1.5's 64×64 latents one GEGLU projection is a
// [2, 4096, 2560] tensor, and its two Slices took 15 ms of a 6 s step each time, 0.14 s in
// all. The halves of the weight are Slices of the model's own, which onnxruntime folds when it
// creates the session; only small weights are split (budgetBytes), so that fold stays short.
// The same products, summed in the same order: the output is the same to the last bit.

import { onnx } from 'onnx-proto';
import { Node, NodeWriter, OnnxGraph } from './onnxGraph';

const T = onnx.TensorProto.DataType;

export interface SplitProjectionOptions {
  /** Weights (bytes) onnxruntime may fold into halves at each load, the smallest first. */
  budgetBytes: number;
}

export interface SplitProjectionResult {
  split: number;
  /** Bytes of the weights split. */
  weightBytes: number;
}

interface Candidate {
  matmul: Node;
  add: Node | undefined;
  weight: string;
  bias: string | undefined;
  /** The two Slices, the one from 0 first, and where the second starts. */
  slices: [Node, Node];
  at: number;
  features: number;
  bytes: number;
}

export function splitProjections(g: OnnxGraph, o: SplitProjectionOptions): SplitProjectionResult {
  const result: SplitProjectionResult = { split: 0, weightBytes: 0 };
  const candidates = g.nodes.flatMap((n) => candidate(g, n) ?? []).sort((x, y) => x.bytes - y.bytes);
  const remove = new Set<Node>();
  const add: Node[] = [];
  for (const c of candidates) {
    if (result.weightBytes + c.bytes > o.budgetBytes) break;
    add.push(...rewrite(g, c));
    for (const n of [c.matmul, c.add, ...c.slices]) if (n) remove.add(n);
    result.split += 1;
    result.weightBytes += c.bytes;
  }
  if (!result.split) return result;
  const read = g.nodes.flatMap((n) => n.input ?? []);
  g.replaceNodes(remove, add);
  // The chunk's bounds, worked out from the whole output's shape, are read by nothing now, nor
  // are their constants.
  g.removeDeadNodes();
  g.removeUnreadInitializers(read);
  g.sortNodes();
  return result;
}

/**
 * MatMul(x, W) with W a float [C, F] initializer of its own, then, optionally, Add of a float [F]
 * bias of its own, whose output only two Slices along the last axis read, [0, s) and [s, F) (and
 * Shape, for the bounds).
 */
function candidate(g: OnnxGraph, matmul: Node): Candidate | undefined {
  if (matmul.opType !== 'MatMul' || (matmul.domain ?? '') !== '') return undefined;
  const weight = matmul.input?.[1] ?? '';
  const dims = floatDims(g, weight);
  if (dims?.length !== 2 || uses(g, weight) !== 1) return undefined;
  const features = dims[1];
  let out = matmul.output![0];
  let add: Node | undefined;
  let bias: string | undefined;
  const next = g.consumersOf(out);
  if (next.length === 1 && next[0].opType === 'Add') {
    add = next[0];
    bias = add.input?.find((i) => i !== out);
    const b = floatDims(g, bias);
    if (!bias || b?.length !== 1 || b[0] !== features || uses(g, bias) !== 1) return undefined;
    out = add.output![0];
  }
  const outputs = new Set(g.graph.output.map((v) => v.name));
  if (outputs.has(matmul.output![0]) || outputs.has(out)) return undefined;
  const readers = g.consumersOf(out);
  const slices = readers.filter((n) => n.opType === 'Slice');
  if (slices.length !== 2 || readers.some((n) => n.opType !== 'Slice' && n.opType !== 'Shape')) return undefined;
  // What reads its shape must end in the two Slices' bounds, which go with them.
  if (!readers.filter((n) => n.opType === 'Shape').every((n) => onlyBounds(g, n, new Set(slices), outputs))) return undefined;
  const bounds = slices.map((s) => sliceBounds(g, s, out, features));
  const first = bounds.findIndex((b) => b?.[0] === 0);
  const [a, b] = [bounds[first], bounds[1 - first]];
  if (first < 0 || !a || !b || a[1] !== b[0] || b[1] !== features || a[1] <= 0 || a[1] >= features) return undefined;
  return { matmul, add, weight, bias, slices: [slices[first], slices[1 - first]], at: a[1], features, bytes: dims[0] * features * 4 };
}

function rewrite(g: OnnxGraph, c: Candidate): Node[] {
  const w = new NodeWriter(g, `${c.matmul.name || c.matmul.output![0]}_split`);
  const x = c.matmul.input![0];
  const halves: [number, number][] = [[0, c.at], [c.at, c.features]];
  halves.forEach(([from, to], k) => {
    const part = (s: string) => `${s}${k}`;
    const start = w.int64(part('start'), [from]);
    const end = w.int64(part('end'), [to]);
    const weight = w.node('Slice', [c.weight, start, end, w.int64(part('weight_axis'), [1])], part('weight'));
    const out = c.slices[k].output![0];
    const product = w.node('MatMul', [x, weight], part('product'), [], c.bias ? undefined : out);
    if (c.bias) w.node('Add', [product, w.node('Slice', [c.bias, start, end, w.int64(part('bias_axis'), [0])], part('bias'))], part('biased'), [], out);
  });
  return w.nodes;
}

/**
 * [start, end) of a Slice of `whole` (last axis of `features`), steps 1; its bounds constants or
 * worked out from Shape(whole), as the exporter writes torch's `chunk`. Undefined when unsure.
 */
function sliceBounds(g: OnnxGraph, s: Node, whole: string, features: number): [number, number] | undefined {
  const [input, starts, ends, axes, steps] = s.input ?? [];
  if (input !== whole || !axes) return undefined;
  const axis = g.constantValues(axes);
  if (axis?.length !== 1 || axis[0] !== -1) return undefined;
  if (steps && (g.constantValues(steps) ?? []).some((v) => v !== 1)) return undefined;
  const value = (name: string | undefined) => {
    const v = name ? evaluate(g, name, whole, features) : undefined;
    return v?.length === 1 && Number.isFinite(v[0]) ? v[0] : undefined;
  };
  const clamp = (v: number) => Math.min(features, Math.max(0, v < 0 ? v + features : v));
  const [from, to] = [value(starts), value(ends)];
  return from === undefined || to === undefined ? undefined : [clamp(from), clamp(to)];
}

/** Whether everything `from` feeds, on to the end, is shape arithmetic read only by `slices` (as bounds). */
function onlyBounds(g: OnnxGraph, from: Node, slices: ReadonlySet<Node>, outputs: ReadonlySet<string | null | undefined>): boolean {
  const seen = new Set<Node>();
  const todo = [from];
  while (todo.length) {
    const n = todo.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    if (!ARITHMETIC.has(n.opType ?? '') || (n.output ?? []).some((o) => outputs.has(o))) return false;
    for (const o of n.output ?? []) {
      for (const c of g.consumersOf(o)) {
        if (slices.has(c)) {
          if (c.input?.[0] === o) return false;
        } else todo.push(c);
      }
    }
  }
  return true;
}

const ARITHMETIC = new Set(['Shape', 'Gather', 'Add', 'Sub', 'Mul', 'Div', 'Unsqueeze', 'Squeeze', 'Identity', 'Cast', 'Concat']);

/** Integer arithmetic on integer constants and on the last entry of Shape(whole), the features. */
function evaluate(g: OnnxGraph, name: string, whole: string, features: number, depth = 0): number[] | undefined {
  const type = constantType(g, name);
  if (type !== undefined) return INTEGER.has(type) ? g.constantValues(name) : undefined;
  const n = g.producer(name);
  if (!n || depth > 16) return undefined;
  const arg = (i: number) => (n.input?.[i] ? evaluate(g, n.input[i], whole, features, depth + 1) : undefined);
  switch (n.opType) {
    case 'Gather': {
      // Only the last dimension of the whole output is known here.
      const index = g.constantValues(n.input?.[1]);
      return g.producer(n.input?.[0])?.opType === 'Shape' && g.producer(n.input?.[0])?.input?.[0] === whole && index?.length === 1 && index[0] === -1 ? [features] : undefined;
    }
    case 'Add': case 'Sub': case 'Mul': case 'Div': {
      const [a, b] = [arg(0), arg(1)];
      if (a?.length !== 1 || b?.length !== 1) return undefined;
      if (n.opType === 'Div') return b[0] === 0 ? undefined : [Math.trunc(a[0] / b[0])];
      return [n.opType === 'Add' ? a[0] + b[0] : n.opType === 'Sub' ? a[0] - b[0] : a[0] * b[0]];
    }
    case 'Unsqueeze': case 'Squeeze': case 'Identity':
      return arg(0);
    default:
      return undefined;
  }
}

const INTEGER = new Set<number>([T.INT64, T.INT32]);

/** The element type of a constant (an initializer or a Constant node's tensor), if `name` is one. */
function constantType(g: OnnxGraph, name: string): number | undefined {
  const init = g.initializer(name);
  if (init) return init.dataType ?? undefined;
  const n = g.producer(name);
  if (n?.opType !== 'Constant') return undefined;
  return n.attribute?.find((a) => a.name === 'value')?.t?.dataType ?? -1;
}

function floatDims(g: OnnxGraph, name: string | undefined): number[] | undefined {
  const t = name ? g.initializer(name) : undefined;
  return t && t.dataType === T.FLOAT ? t.dims?.map(Number) : undefined;
}

function uses(g: OnnxGraph, name: string): number {
  return g.consumersOf(name).length;
}
