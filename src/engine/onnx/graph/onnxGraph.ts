// An ONNX graph held in memory for rewriting: who produces and who consumes each value, the
// constant values small shape tensors carry, and dead-node removal. The weights stay where they
// are (external data), so decoding and re-encoding a 2 MB UNet graph is cheap.

import { onnx } from 'onnx-proto';

export type Node = onnx.INodeProto;

export class OnnxGraph {
  readonly model: onnx.ModelProto;
  private producers = new Map<string, Node>();
  private consumers = new Map<string, Node[]>();
  private readonly initializers = new Map<string, onnx.ITensorProto>();

  constructor(bytes: Uint8Array) {
    this.model = onnx.ModelProto.decode(bytes);
    for (const t of this.graph.initializer) if (t.name) this.initializers.set(t.name, t);
    this.index();
  }

  get graph(): onnx.GraphProto {
    if (!this.model.graph) throw new Error('the ONNX file has no graph');
    return this.model.graph as onnx.GraphProto;
  }

  get nodes(): Node[] {
    return this.graph.node;
  }

  producer(value: string | null | undefined): Node | undefined {
    return value ? this.producers.get(value) : undefined;
  }

  consumersOf(value: string | null | undefined): Node[] {
    return value ? (this.consumers.get(value) ?? []) : [];
  }

  /** The producer of `value` when it is an op of `opType` (and, if given, one of its inputs at `input`). */
  from(value: string | null | undefined, opType: string): Node | undefined {
    const n = this.producer(value);
    return n && n.opType === opType ? n : undefined;
  }

  /** The integer or float values of a constant (a Constant node or an initializer), else undefined. */
  constantValues(value: string | null | undefined): number[] | undefined {
    if (!value) return undefined;
    const init = this.initializers.get(value);
    if (init) return tensorValues(init);
    const n = this.producer(value);
    if (n?.opType !== 'Constant') return undefined;
    const attr = n.attribute?.find((a) => a.name === 'value');
    return attr?.t ? tensorValues(attr.t) : undefined;
  }

  initializer(name: string): onnx.ITensorProto | undefined {
    return this.initializers.get(name);
  }

  addInitializer(t: onnx.ITensorProto): void {
    // One object in both places, so a change made through initializer() is what gets encoded.
    const tensor = onnx.TensorProto.create(t);
    this.graph.initializer.push(tensor);
    this.initializers.set(tensor.name, tensor);
  }

  removeInitializer(name: string): void {
    this.graph.initializer = this.graph.initializer.filter((t) => t.name !== name);
    this.initializers.delete(name);
  }

  /** Drops those of `names` that are initializers no node reads any more (graph inputs stay). */
  removeUnreadInitializers(names: Iterable<string | null | undefined>): void {
    const inputs = new Set(this.graph.input.map((v) => v.name));
    for (const name of new Set(names)) if (name && !inputs.has(name) && this.initializers.has(name) && this.consumersOf(name).length === 0) this.removeInitializer(name);
  }

  replaceNodes(remove: Set<Node>, add: Node[]): void {
    const kept = this.graph.node.filter((n) => !remove.has(n));
    this.graph.node = [...kept, ...add];
    this.index();
  }

  /** Drops nodes none of whose outputs is used (graph outputs count as used), until none is left. */
  removeDeadNodes(): number {
    const graphOutputs = new Set(this.graph.output.map((o) => o.name));
    let removed = 0;
    for (;;) {
      const dead = new Set(
        this.graph.node.filter((n) => (n.output ?? []).every((o) => !o || (!graphOutputs.has(o) && this.consumersOf(o).length === 0))),
      );
      if (dead.size === 0) break;
      removed += dead.size;
      this.replaceNodes(dead, []);
    }
    return removed;
  }

  /** Topological order, which ONNX requires of a graph's nodes (new nodes were appended). */
  sortNodes(): void {
    const available = new Set<string>([...this.graph.input.map((i) => i.name ?? ''), ...this.initializers.keys()]);
    const pending = [...this.graph.node];
    const sorted: Node[] = [];
    const waiting = new Map<string, Node[]>();
    const missing = new Map<Node, number>();
    const ready: Node[] = [];
    for (const n of pending) {
      const needs = (n.input ?? []).filter((i) => i && !available.has(i));
      const unique = [...new Set(needs)];
      missing.set(n, unique.length);
      if (unique.length === 0) ready.push(n);
      for (const i of unique) waiting.set(i, [...(waiting.get(i) ?? []), n]);
    }
    while (ready.length) {
      const n = ready.shift()!;
      sorted.push(n);
      for (const o of n.output ?? []) {
        for (const c of waiting.get(o) ?? []) {
          const left = missing.get(c)! - 1;
          missing.set(c, left);
          if (left === 0) ready.push(c);
        }
        waiting.delete(o);
      }
    }
    if (sorted.length !== pending.length) throw new Error(`the rewritten graph has a cycle or a missing input (${pending.length - sorted.length} nodes unplaced)`);
    this.graph.node = sorted;
  }

  useOpset(domain: string, version: number): void {
    if (!this.model.opsetImport.some((o) => (o.domain ?? '') === domain)) this.model.opsetImport.push({ domain, version });
  }

  encode(): Uint8Array {
    return onnx.ModelProto.encode(this.model).finish();
  }

  private index(): void {
    this.producers = new Map();
    this.consumers = new Map();
    for (const n of this.graph.node) {
      for (const o of n.output ?? []) if (o) this.producers.set(o, n);
      for (const i of n.input ?? []) {
        if (!i) continue;
        const list = this.consumers.get(i);
        if (list) list.push(n);
        else this.consumers.set(i, [n]);
      }
    }
  }
}

export function intAttr(n: Node, name: string): number | undefined {
  const a = n.attribute?.find((x) => x.name === name);
  if (!a) return undefined;
  return a.i === undefined || a.i === null ? undefined : Number(a.i);
}

export function intsAttr(n: Node, name: string): number[] | undefined {
  const a = n.attribute?.find((x) => x.name === name);
  return a?.ints ? a.ints.map(Number) : undefined;
}

export function tensorValues(t: onnx.ITensorProto): number[] | undefined {
  const T = onnx.TensorProto.DataType;
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) return undefined;
  const raw = t.rawData && t.rawData.length ? t.rawData : undefined;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
  switch (t.dataType) {
    case T.INT64:
      if (view) return Array.from({ length: view.byteLength / 8 }, (_, i) => Number(view.getBigInt64(i * 8, true)));
      return (t.int64Data ?? []).map(Number);
    case T.INT32:
      if (view) return Array.from({ length: view.byteLength / 4 }, (_, i) => view.getInt32(i * 4, true));
      return (t.int32Data ?? []).map(Number);
    case T.FLOAT:
      if (view) return Array.from({ length: view.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true));
      return [...(t.floatData ?? [])];
    case T.DOUBLE:
      if (view) return Array.from({ length: view.byteLength / 8 }, (_, i) => view.getFloat64(i * 8, true));
      return [...(t.doubleData ?? [])];
    default:
      return undefined;
  }
}

/** The ai.onnx opset the graph imports (0 when none). */
export function opsetVersion(g: OnnxGraph): number {
  return Number(g.model.opsetImport.find((x) => (x.domain ?? '') === '')?.version ?? 0);
}

export const attr = {
  int: (name: string, value: number): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INT, i: value }),
  ints: (name: string, values: number[]): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: values }),
  str: (name: string, value: string): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.STRING, s: Buffer.from(value) }),
};

/**
 * The nodes and constants of one rewritten op (winogradConv, upsampleConv): every name under
 * `prefix_`, constants added to `g` as initializers, nodes kept in `nodes` for replaceNodes.
 */
export class NodeWriter {
  readonly nodes: Node[] = [];

  constructor(private readonly g: OnnxGraph, private readonly prefix: string) {}

  // Arrow properties, so a rewrite can take them apart: const { node, int64 } = writer.
  readonly name = (part: string): string => `${this.prefix}_${part}`;

  readonly int64 = (part: string, values: number[]): string => {
    const data = BigInt64Array.from(values.map(BigInt));
    this.g.addInitializer({ name: this.name(part), dataType: onnx.TensorProto.DataType.INT64, dims: [values.length], rawData: new Uint8Array(data.buffer) });
    return this.name(part);
  };

  readonly float = (part: string, dims: number[], data: Float32Array): string => {
    this.g.addInitializer({ name: this.name(part), dataType: onnx.TensorProto.DataType.FLOAT, dims, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    return this.name(part);
  };

  /** Adds a node named `prefix_part` whose output is that name too, or `output`; returns the output. */
  readonly node = (opType: string, input: string[], part: string, attribute: onnx.IAttributeProto[] = [], output = this.name(part)): string => {
    this.nodes.push({ opType, name: this.name(part), input, output: [output], attribute });
    return output;
  };
}
