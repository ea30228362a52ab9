// A session over a graph cut into parts (graph/splitGraph.ts) that holds no part between runs:
// each run creates each part's session in turn, runs it and releases it before the next, so at
// most one part's weights are mapped. Low-memory mode runs the UNet this way: on the full-size
// SD v1.5 UNet a part's session is made in about 0.1 s (its weights are mapped, not read), far
// less than its share of a step.

import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { GraphSplit } from './graph/splitGraph';

/** What ModelSession needs of a session: onnxruntime's own, or one run in parts. */
export interface SessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata?: readonly ort.InferenceSession.ValueMetadata[];
  readonly outputMetadata?: readonly ort.InferenceSession.ValueMetadata[];
  run(feeds: Record<string, ort.Tensor>, fetches: string[]): Promise<Record<string, ort.OnnxValue>>;
  release(): Promise<void>;
}

const T = onnx.TensorProto.DataType;
const ORT_TYPES: Record<number, ort.Tensor.Type> = {
  [T.FLOAT]: 'float32', [T.FLOAT16]: 'float16', [T.DOUBLE]: 'float64', [T.INT64]: 'int64', [T.INT32]: 'int32',
  [T.INT8]: 'int8', [T.UINT8]: 'uint8', [T.BOOL]: 'bool',
};

export class PartedSession implements SessionLike {
  readonly inputMetadata: ort.InferenceSession.ValueMetadata[];
  readonly outputMetadata: ort.InferenceSession.ValueMetadata[];
  /** Each part's graph, made on its first run (it needs its inputs' ranks). */
  private readonly encoded = new Map<string, Uint8Array>();
  /** The last part that reads each value, so a run drops it after that part. */
  private readonly lastUse = new Map<string, number>();
  /** Sessions created so far (tests: each run creates every part). */
  created = 0;

  constructor(
    private readonly split: GraphSplit,
    private readonly options: ort.InferenceSession.SessionOptions,
  ) {
    this.inputMetadata = split.inputs.map(metadata);
    this.outputMetadata = split.outputs.map(metadata);
    split.parts.forEach((p, k) => p.inputs.forEach((v) => this.lastUse.set(v, k)));
  }

  get inputNames(): string[] {
    return this.inputMetadata.map((m) => m.name);
  }

  get outputNames(): string[] {
    return this.outputMetadata.map((m) => m.name);
  }

  get partCount(): number {
    return this.split.parts.length;
  }

  async run(feeds: Record<string, ort.Tensor>, fetches: string[]): Promise<Record<string, ort.OnnxValue>> {
    const parts = this.split.parts;
    const wanted = new Set(fetches);
    const values = new Map<string, ort.OnnxValue>(Object.entries(feeds));
    for (let k = 0; k < parts.length; k++) {
      const part = parts[k];
      const inputs: Record<string, ort.OnnxValue> = {};
      for (const v of part.inputs) {
        const t = values.get(v);
        if (!t) throw new Error(`part ${k + 1} of the graph needs "${v}", which nothing gave`);
        inputs[v] = t;
      }
      const session = await ort.InferenceSession.create(this.bytes(k, inputs), this.options);
      this.created++;
      try {
        const out = await session.run(inputs);
        for (const [name, value] of Object.entries(out)) values.set(name, value);
      } finally {
        await session.release();
      }
      // What no later part reads goes now: a step's skip connections are tens of MB.
      for (const v of part.inputs) if ((this.lastUse.get(v) ?? -1) <= k && !wanted.has(v)) values.delete(v);
    }
    const result: Record<string, ort.OnnxValue> = {};
    for (const name of wanted) {
      const v = values.get(name);
      if (v) result[name] = v;
    }
    return result;
  }

  async release(): Promise<void> {
    // Nothing is held between runs.
  }

  private bytes(k: number, inputs: Record<string, ort.OnnxValue>): Uint8Array {
    const ranks = new Map(Object.entries(inputs).map(([v, t]) => [v, (t as ort.Tensor).dims.length]));
    const key = `${k}:${[...ranks.values()].join(',')}`;
    let bytes = this.encoded.get(key);
    if (!bytes) {
      bytes = this.split.encode(k, ranks);
      this.encoded.set(key, bytes);
    }
    return bytes;
  }
}

function metadata(v: onnx.IValueInfoProto): ort.InferenceSession.ValueMetadata {
  const t = v.type?.tensorType;
  const type = ORT_TYPES[t?.elemType ?? T.UNDEFINED];
  if (!t || !type) return { name: v.name ?? '', isTensor: false };
  const shape = (t.shape?.dim ?? []).map((d) => (d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0 ? Number(d.dimValue) : d.dimParam || ''));
  return { name: v.name ?? '', isTensor: true, type, shape };
}
