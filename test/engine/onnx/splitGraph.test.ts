import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { OnnxGraph } from '../../../src/engine/onnx/graph/onnxGraph';
import { GraphSplit } from '../../../src/engine/onnx/graph/splitGraph';
import { PartedSession } from '../../../src/engine/onnx/partedSession';
import { ModelSession } from '../../../src/engine/onnx/session';
import { fileGraph, prepareGraph } from '../../../src/engine/onnx/graph/prepareGraph';
import { sessionOptions } from '../../../src/engine/onnx/backend';
import { relativeL2 } from '../../support/relativeL2';
import { float32ToFloat16 } from '../../../src/engine/onnx/float16';
import { ensureFixture } from '../../fixtures/tinyPipeline';
import { GraphBuilder } from '../../fixtures/onnx/graph';
import { WeightRandom } from '../../fixtures/onnx/random';

/** The graph the engine runs for this file on the CPU: rewritten, or the file's own. */
async function graphOf(file: string): Promise<Uint8Array> {
  const g = (await prepareGraph(file, 'cpu')) ?? (await fileGraph(file));
  return g!.bytes as Uint8Array;
}

/** The options PartedSession's parts get in the engine: onnxruntime's packed weights off. */
function partOptions(file: string): ort.InferenceSession.SessionOptions {
  const o = sessionOptions({ executionProviders: ['cpu'] }, 1, 'unet');
  return { ...o, extra: { ...(o.extra as Record<string, string>), 'session.model_external_initializers_file_folder_path': path.dirname(file), 'session.disable_prepacking': '1' } };
}

function bits(a: Float32Array | Uint16Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** Bytes of the weights a graph reads (external or inline). */
function weightBytes(bytes: Uint8Array): number {
  const g = new OnnxGraph(bytes);
  return g.graph.initializer.reduce((sum, t) => {
    const length = t.externalData?.find((e) => e.key === 'length')?.value;
    return sum + (length ? Number(length) : (t.rawData?.length ?? 0));
  }, 0);
}

function unetFeeds(timestep: 'float32' | 'int64', batch = 2, channels = 4, size = 8, hidden = 32): Record<string, ort.Tensor> {
  const rnd = new WeightRandom(11);
  return {
    sample: new ort.Tensor('float32', rnd.normals(batch * channels * size * size, 1), [batch, channels, size, size]),
    timestep: timestep === 'int64' ? new ort.Tensor('int64', BigInt64Array.of(601n), [1]) : new ort.Tensor('float32', Float32Array.of(601), [1]),
    encoder_hidden_states: new ort.Tensor('float32', rnd.normals(batch * 77 * hidden, 1), [batch, 77, hidden]),
  };
}

// The parts run one after another must give the whole graph's numbers exactly: low-memory mode
// promises the default mode's pictures.
describe('a UNet run in parts (splitGraph, PartedSession)', () => {
  const cases = [
    { preset: 'tiny-a', timestep: 'float32' as const },
    { preset: 'tiny-b', timestep: 'int64' as const },
    { preset: 'tiny-lora', timestep: 'float32' as const },
    { preset: 'tiny-inpaint', timestep: 'float32' as const, channels: 9 },
    { preset: 'tiny-fp16', timestep: 'float32' as const, half: true },
  ];
  for (const { preset, timestep, channels, half } of cases) {
    it(`${preset}: two and three parts give the whole graph's output bit for bit`, async () => {
      const file = path.join(await ensureFixture(preset), 'unet', 'model.onnx');
      const bytes = await graphOf(file);
      const feeds = unetFeeds(timestep, 2, channels);
      if (half) for (const [name, t] of Object.entries(feeds)) feeds[name] = new ort.Tensor('float16', float32ToFloat16(t.data as Float32Array), t.dims);
      const whole = await ort.InferenceSession.create(bytes, partOptions(file));
      const want = (await whole.run(feeds)).out_sample.data as Float32Array | Uint16Array;
      await whole.release();
      for (const parts of [2, 3]) {
        const split = GraphSplit.plan(bytes, weightBytes(bytes) / parts + 1)!;
        assert.equal(split.parts.length, parts);
        const got = (await new PartedSession(split, partOptions(file)).run(feeds, ['out_sample'])).out_sample.data as Float32Array | Uint16Array;
        assert.ok(bits(got).equals(bits(want)), `${parts} parts differ from the whole graph`);
      }
    });
  }

  it('as a ModelSession: the whole graph\'s inputs, outputs, checks and (within packing\'s rounding) numbers', async () => {
    const file = path.join(await ensureFixture('tiny-lora'), 'unet', 'model.onnx');
    const opts = { provider: 'cpu' as const, threads: 1, label: 'unet' };
    const whole = await ModelSession.create(file, opts);
    const parted = await ModelSession.create(file, { ...opts, partBytes: weightBytes(await graphOf(file)) / 3 + 1 });
    try {
      assert.equal(whole.parts, 1);
      assert.equal(parted.parts, 3);
      assert.deepEqual(parted.inputs, whole.inputs);
      assert.deepEqual(parted.outputs, whole.outputs);
      assert.match(parted.notes.join('; '), /run in 3 parts \(0\.00 \+ 0\.00 \+ 0\.00 GB of weights\), one loaded at a time/);
      const feeds = unetFeeds('float32');
      const want = (await whole.run(feeds)).out_sample.data as Float32Array;
      const got = (await parted.run(feeds)).out_sample.data as Float32Array;
      // The whole session packs its MatMul weights, which sums in another order.
      assert.ok(relativeL2(got, want) < 1e-6, `relative L2 ${relativeL2(got, want)}`);
      await assert.rejects(parted.run({ ...feeds, sample: new ort.Tensor('float32', new Float32Array(16), [1, 1, 4, 4]) }), /input "sample" must be float32 \[.*\], got float32 \[1, 1, 4, 4\]/);
    } finally {
      await whole.dispose();
      await parted.dispose();
    }
  });

  it('cuts by weight; each part reads the graph inputs, its own weights or earlier parts\' outputs', async () => {
    const file = path.join(await ensureFixture('tiny-a'), 'unet', 'model.onnx');
    const bytes = await graphOf(file);
    const total = weightBytes(bytes);
    const split = GraphSplit.plan(bytes, total / 3 + 1)!;
    assert.equal(split.parts.length, 3);
    const graphInputs = new Set(split.inputs.map((i) => i.name));
    const whole = new OnnxGraph(bytes);
    const made = new Set<string>();
    for (const [k, part] of split.parts.entries()) {
      for (const v of part.inputs) assert.ok(graphInputs.has(v) || made.has(v), `part ${k + 1} reads ${v}, which no earlier part makes`);
      part.outputs.forEach((v) => made.add(v));
      // Each part keeps near a third of the weights: the point of cutting it.
      assert.ok(part.weightBytes < total * 0.6, `part ${k + 1} reads ${part.weightBytes} of ${total} bytes`);
      const g = new OnnxGraph(split.encode(k, new Map(part.inputs.map((v) => [v, 4]))));
      for (const input of g.graph.input) assert.ok(!g.initializer(input.name ?? ''), `${input.name} is a weight, not an input`);
      for (const v of part.inputs) assert.ok(!whole.initializer(v) && !whole.from(v, 'Constant'), `constant ${v} passed between parts`);
      for (const n of g.nodes) for (const v of n.input ?? []) if (v) assert.ok(g.producer(v) || g.initializer(v) || g.graph.input.some((i) => i.name === v), `part ${k + 1}: ${v} comes from nowhere`);
    }
    assert.ok(made.has('out_sample'));
    assert.equal(split.parts.reduce((n, p) => n + p.weightBytes, 0) >= total, true);
  });

  it('holds no part between runs: every run creates each part\'s session and releases it', async () => {
    const file = path.join(await ensureFixture('tiny-a'), 'unet', 'model.onnx');
    const bytes = await graphOf(file);
    const split = GraphSplit.plan(bytes, weightBytes(bytes) / 2 + 1)!;
    const session = new PartedSession(split, partOptions(file));
    await session.run(unetFeeds('float32'), ['out_sample']);
    assert.equal(session.created, 2);
    const out = await session.run(unetFeeds('float32', 1), ['out_sample']);
    assert.equal(session.created, 4);
    assert.deepEqual(out.out_sample.dims, [1, 4, 8, 8]);
  });

  it('copies constants into the part that needs them and declares its inputs\' ranks: a layer norm after the cut computes as in the whole graph', async () => {
    // A MatMul, then a layer norm written out as torch exports it (its epsilon and exponent are
    // Constant nodes made before the cut), then another MatMul.
    const rnd = new WeightRandom(5);
    const T = onnx.TensorProto.DataType;
    const weight = (name: string, dims: number[]) => ({ name, dims, dataType: T.FLOAT, rawData: new Uint8Array(rnd.normals(dims.reduce((a, b) => a * b), 0.5).buffer) });
    const constant = (out: string, v: number, dataType: number = T.FLOAT): onnx.INodeProto => ({
      opType: 'Constant', input: [], output: [out], attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: dataType === T.FLOAT ? { dims: [], dataType, floatData: [v] } : { dims: [1], dataType, int64Data: [v] } }],
    });
    const node = (opType: string, input: string[], output: string, axes?: number[]): onnx.INodeProto => ({
      opType, input, output: [output], attribute: axes ? [{ name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: axes }] : [],
    });
    const io = (name: string, dims: (number | string)[]) => ({ name, type: { tensorType: { elemType: T.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } });
    const model = onnx.ModelProto.encode({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 14 }],
      graph: {
        name: 'layernorm',
        node: [
          constant('eps', 1e-5), constant('two', 2), constant('zero', 0, T.INT64), constant('end', 2, T.INT64), constant('width', 48, T.INT64),
          // The normalised tensor's shape comes from values made before the cut, as in diffusers' export.
          node('Shape', ['x'], 'xshape'), node('Slice', ['xshape', 'zero', 'end'], 'lead'),
          node('MatMul', ['x', 'w1'], 'h0'),
          { opType: 'Concat', input: ['lead', 'width'], output: ['shape'], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] },
          node('Reshape', ['h0', 'shape'], 'h'),
          node('ReduceMean', ['h'], 'mean', [-1]), node('Sub', ['h', 'mean'], 'd'), node('Pow', ['d', 'two'], 'p'),
          node('ReduceMean', ['p'], 'var', [-1]), node('Add', ['var', 'eps'], 've'), node('Sqrt', ['ve'], 'sd'),
          node('Div', ['d', 'sd'], 'n'), node('Mul', ['n', 'gamma'], 'g'), node('Add', ['g', 'beta'], 'b'),
          node('MatMul', ['b', 'w2'], 'y'),
        ],
        initializer: [weight('w1', [32, 48]), weight('gamma', [48]), weight('beta', [48]), weight('w2', [48, 8])],
        input: [io('x', ['n', 16, 32])],
        output: [io('y', ['n', 16, 8])],
      },
    }).finish();
    const split = GraphSplit.plan(model, weightBytes(model) / 2 + 1)!;
    assert.deepEqual(split.parts.map((p) => [...p.inputs].sort()), [['x'], ['h0', 'xshape']]);
    const options = { intraOpNumThreads: 1, graphOptimizationLevel: 'extended' as const };
    const x = new ort.Tensor('float32', rnd.normals(3 * 16 * 32, 2), [3, 16, 32]);
    const whole = await ort.InferenceSession.create(model, options);
    const want = (await whole.run({ x })).y.data as Float32Array;
    await whole.release();
    const got = (await new PartedSession(split, options).run({ x }, ['y'])).y.data as Float32Array;
    assert.ok(bits(got).equals(bits(want)), `parts differ from the whole graph by ${relativeL2(want, got)}`);
    // Each part's inputs declare their ranks (dims unknown): on the full-size UNet, without them
    // onnxruntime could not infer the shapes that 30 of its 48 layer-norm fusions need.
    const second = new OnnxGraph(split.encode(1, new Map([['h0', 3], ['xshape', 1]])));
    assert.deepEqual(second.graph.input.map((i) => [i.name, i.type?.tensorType?.shape?.dim?.length]).sort(), [['h0', 3], ['xshape', 1]]);
    assert.deepEqual(second.nodes.filter((n) => n.opType === 'Constant').map((n) => n.output?.[0]).sort(), ['end', 'eps', 'two', 'width', 'zero']);
  });

  it('is not cut when one part would hold every weight, or when an op\'s output type is not known', () => {
    const g = new GraphBuilder('unknown');
    const x = g.input('x', 'float32', ['n', 4]);
    const rnd = new WeightRandom(3);
    const h = g.op('MatMul', [x, g.weight('w1', rnd.normals(16, 1), [4, 4])]);
    const top = g.op('TopK', [h, g.int64Const('k', [2])], { axis: 1 }, 'top');
    g.op('MatMul', [top, g.weight('w2', rnd.normals(8, 1), [2, 4])], {}, 'y');
    g.output('y', 'float32', ['n', 4]);
    const bytes = g.build().model;
    assert.equal(GraphSplit.plan(bytes, 1), undefined);
    const plain = new GraphBuilder('plain');
    const y = plain.op('MatMul', [plain.input('x', 'float32', ['n', 4]), plain.weight('w1', rnd.normals(16, 1), [4, 4])]);
    plain.op('MatMul', [y, plain.weight('w2', rnd.normals(16, 1), [4, 4])], {}, 'y');
    plain.output('y', 'float32', ['n', 4]);
    const ok = plain.build().model;
    assert.equal(GraphSplit.plan(ok, 1e9), undefined);
    assert.equal(GraphSplit.plan(ok, 64)?.parts.length, 2);
  });
});
