// A graph cut into consecutive parts of about equal weight, each a graph of its own, so that a
// session holds only its part's weights: low-memory mode runs the UNet one part at a time and
// releases each before the next (onnx/partedSession.ts), keeping a third of its 3.4 GB mapped
// instead of all of it. The parts compute exactly the whole graph's nodes, in its order.

import { onnx } from 'onnx-proto';
import { intAttr, Node, OnnxGraph } from './onnxGraph';

export interface GraphPart {
  /** Values it reads: the whole graph's inputs and earlier parts' outputs. */
  readonly inputs: readonly string[];
  /** Values that later parts, or the whole graph's outputs, take from it. */
  readonly outputs: readonly string[];
  /** Bytes of the weights (initializers) it reads. */
  readonly weightBytes: number;
}

const T = onnx.TensorProto.DataType;

// Ops whose outputs have their first input's element type. The split needs every value's type
// (a part's inputs and outputs must declare it); a graph with any other op is not split.
const SAME_AS_FIRST = new Set([
  'Identity', 'Gather', 'Unsqueeze', 'Squeeze', 'Concat', 'Reshape', 'Mul', 'Add', 'Sub', 'Div', 'Pow',
  'Sqrt', 'Expand', 'Sin', 'Cos', 'Exp', 'Slice', 'Gemm', 'Sigmoid', 'Conv', 'InstanceNormalization',
  'Transpose', 'ReduceMean', 'MatMul', 'Softmax', 'Erf', 'Resize', 'Split', 'Tanh', 'Relu', 'Neg', 'Abs',
  'LayerNormalization', 'MultiHeadAttention', 'DepthToSpace', 'SpaceToDepth', 'Flatten', 'Tile', 'Pad',
  'ReduceSum', 'ReduceMax', 'ReduceMin', 'Max', 'Min', 'Clip', 'Range', 'Einsum', 'Softplus', 'Log', 'Reciprocal',
]);
const BOOLEAN = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor']);

export class GraphSplit {
  private constructor(
    private readonly g: OnnxGraph,
    private readonly ranges: Node[][],
    private readonly types: Map<string, number>,
    private readonly sizes: Map<string, number>,
    readonly parts: GraphPart[],
  ) {}

  /**
   * `whole` cut into as few parts as keep each one's weights near `partBytes` (the cuts fall
   * where the weights read so far first reach each equal share), or undefined when one part
   * would do or an op's output type is not known here.
   */
  static plan(whole: Uint8Array, partBytes: number): GraphSplit | undefined {
    const g = new OnnxGraph(whole);
    g.sortNodes();
    const types = elementTypes(g);
    if (!types) return undefined;
    const sizes = new Map(g.graph.initializer.map((t) => [t.name ?? '', initializerBytes(t)]));
    const total = [...sizes.values()].reduce((a, b) => a + b, 0);
    const count = Math.ceil(total / partBytes);
    if (count < 2) return undefined;
    const nodes = g.nodes;
    const cuts: number[] = [];
    const seen = new Set<string>();
    let read = 0;
    for (let i = 0; i < nodes.length && cuts.length < count - 1; i++) {
      for (const v of nodes[i].input ?? []) {
        if (!v || seen.has(v) || !sizes.has(v)) continue;
        seen.add(v);
        read += sizes.get(v)!;
      }
      if (read >= (total * (cuts.length + 1)) / count) cuts.push(i + 1);
    }
    const ends = [...cuts, nodes.length];
    const ranges = ends.map((end, k) => nodes.slice(k ? ends[k - 1] : 0, end)).filter((r) => r.length);
    if (ranges.length < 2) return undefined;
    return new GraphSplit(g, ranges, types, sizes, describeParts(g, ranges, sizes));
  }

  /** The whole graph's inputs and outputs, as its file declares them. */
  get inputs(): onnx.IValueInfoProto[] {
    return this.g.graph.input;
  }

  get outputs(): onnx.IValueInfoProto[] {
    return this.g.graph.output;
  }

  /**
   * Part `k` as an ONNX model (its weights stay in the whole graph's external data). `ranks`
   * gives its inputs' ranks: onnxruntime's fusions (layer norm among them) need at least that
   * much of a shape, and without them the part computes the same values by other kernels.
   */
  encode(k: number, ranks: ReadonlyMap<string, number>): Uint8Array {
    const part = this.parts[k];
    const nodes = this.ranges[k];
    const own = new Set(nodes.flatMap((n) => n.output ?? []));
    // A constant made in an earlier part is copied, not passed: onnxruntime's fusions match constants only.
    const copied = new Set<Node>();
    const inits = new Set<string>();
    for (const n of nodes) {
      for (const v of n.input ?? []) {
        if (!v || own.has(v)) continue;
        if (this.sizes.has(v)) inits.add(v);
        const c = this.g.from(v, 'Constant');
        if (c) copied.add(c);
      }
    }
    // And a constant only later parts read is theirs to copy.
    const read = new Set([...part.outputs, ...nodes.flatMap((n) => n.input ?? [])]);
    const kept = nodes.filter((n) => n.opType !== 'Constant' || (n.output ?? []).some((v) => read.has(v)));
    const model = onnx.ModelProto.create({
      ...this.g.model,
      graph: onnx.GraphProto.create({
        name: `${this.g.graph.name || 'graph'}_part${k + 1}`,
        node: [...copied, ...kept],
        initializer: this.g.graph.initializer.filter((t) => inits.has(t.name ?? '')),
        input: part.inputs.map((v) => valueInfo(v, this.types.get(v)!, ranks.get(v))),
        output: part.outputs.map((v) => valueInfo(v, this.types.get(v)!)),
      }),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function describeParts(g: OnnxGraph, ranges: Node[][], sizes: Map<string, number>): GraphPart[] {
  const madeIn = new Map<string, number>();
  const lastReader = new Map<string, number>();
  ranges.forEach((nodes, k) => {
    for (const n of nodes) {
      for (const v of n.input ?? []) if (v) lastReader.set(v, k);
      for (const v of n.output ?? []) if (v) madeIn.set(v, k);
    }
  });
  const graphOutputs = new Set(g.graph.output.map((o) => o.name ?? ''));
  // Weights and Constant nodes' values are never passed between parts (encode copies them).
  const isConstant = (v: string) => sizes.has(v) || !!g.from(v, 'Constant');
  return ranges.map((nodes, k) => {
    const inputs = new Set<string>();
    const weights = new Set<string>();
    for (const n of nodes) {
      for (const v of n.input ?? []) {
        if (!v || madeIn.get(v) === k) continue;
        if (sizes.has(v)) weights.add(v);
        else if (!g.from(v, 'Constant')) inputs.add(v);
      }
    }
    const outputs = [...madeIn]
      .filter(([v, at]) => at === k && (graphOutputs.has(v) || ((lastReader.get(v) ?? -1) > k && !isConstant(v))))
      .map(([v]) => v);
    return { inputs: [...inputs], outputs, weightBytes: [...weights].reduce((a, v) => a + sizes.get(v)!, 0) };
  });
}

function valueInfo(name: string, elemType: number, rank?: number): onnx.IValueInfoProto {
  const shape = rank === undefined ? undefined : { dim: Array.from({ length: rank }, () => ({})) };
  return { name, type: { tensorType: { elemType, shape } } };
}

/** Each value's element type, or undefined when an op is not one whose types are known here. */
function elementTypes(g: OnnxGraph): Map<string, number> | undefined {
  const types = new Map<string, number>();
  for (const i of g.graph.input) types.set(i.name ?? '', i.type?.tensorType?.elemType ?? T.UNDEFINED);
  for (const t of g.graph.initializer) types.set(t.name ?? '', t.dataType ?? T.UNDEFINED);
  for (const n of g.nodes) {
    const op = n.opType ?? '';
    let type: number | undefined;
    if (op === 'Shape' || op === 'Size' || op === 'NonZero') type = T.INT64;
    else if (op === 'Cast') type = intAttr(n, 'to');
    else if (op === 'Constant') type = n.attribute?.find((a) => a.name === 'value')?.t?.dataType ?? undefined;
    else if (op === 'ConstantOfShape') type = n.attribute?.find((a) => a.name === 'value')?.t?.dataType ?? T.FLOAT;
    else if (op === 'Where') type = types.get(n.input?.[1] ?? '');
    else if (BOOLEAN.has(op)) type = T.BOOL;
    // Split has several outputs of its input's type; the other ops here have one.
    else if (SAME_AS_FIRST.has(op) && (op === 'Split' || (n.output ?? []).length === 1)) type = types.get(n.input?.[0] ?? '');
    if (!type) return undefined;
    for (const o of n.output ?? []) if (o) types.set(o, type);
  }
  return types;
}

function initializerBytes(t: onnx.ITensorProto): number {
  const length = t.externalData?.find((e) => e.key === 'length')?.value;
  if (length) return Number(length);
  if (t.rawData?.length) return t.rawData.length;
  const count = (t.dims ?? []).reduce((a: number, d) => a * Number(d), 1);
  return count * 4;
}
