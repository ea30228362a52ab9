import * as assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { OnnxGraph } from '../../../src/engine/onnx/graph/onnxGraph';
import { subpixelSums, upsampleConvolutions, upsampleConvPairs } from '../../../src/engine/onnx/graph/upsampleConv';
import { GraphBuilder } from '../../fixtures/onnx/graph';
import { WeightRandom } from '../../fixtures/onnx/random';
import { relativeL2 } from '../../support/relativeL2';
import { comparePlan } from '../../support/planSessions';

interface Up {
  mode?: string;
  coordinates?: string;
  nearest?: string;
  scales?: number[];
  bias?: boolean;
  cin?: number;
  cout?: number;
}

/** Nearest 2× upsample then a 3×3 convolution, as diffusers' Upsample2D exports, from `x` to `y`. */
function upsample(g: GraphBuilder, x: string, rnd: WeightRandom, o: Up = {}, out?: string): string {
  const cin = o.cin ?? 6;
  const cout = o.cout ?? 5;
  const attrs: Record<string, string> = {};
  if (o.mode) attrs.mode = o.mode;
  if (o.coordinates) attrs.coordinate_transformation_mode = o.coordinates;
  if (o.nearest) attrs.nearest_mode = o.nearest;
  const up = g.op('Resize', [x, '', g.floatConst('scales', o.scales ?? [1, 1, 2, 2])], { mode: 'nearest', ...attrs });
  const w = g.weight('w', rnd.normals(cout * cin * 9, 1 / Math.sqrt(cin * 9)), [cout, cin, 3, 3]);
  const inputs = o.bias === false ? [up, w] : [up, w, g.weight('b', rnd.normals(cout, 0.5), [cout])];
  return g.op('Conv', inputs, { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, out);
}

function model(build: (g: GraphBuilder, x: string, rnd: WeightRandom) => void, cin = 6): Uint8Array {
  const g = new GraphBuilder('upsample');
  const x = g.input('x', 'float32', ['batch', cin, 'height', 'width']);
  build(g, x, new WeightRandom(7));
  g.output('y', 'float32', ['batch', '?', '?', '?']);
  return g.build().model;
}

async function run(bytes: Uint8Array, x: Float32Array, dims: number[]): Promise<ort.Tensor> {
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, graphOptimizationLevel: 'extended' });
  try {
    return (await s.run({ x: new ort.Tensor('float32', x, dims) })).y;
  } finally {
    await s.release();
  }
}

function rewritten(bytes: Uint8Array, budgetBytes = 1e9) {
  const g = new OnnxGraph(bytes);
  const result = upsampleConvolutions(g, { budgetBytes });
  return { model: g.encode(), result, ops: g.nodes.map((n) => n.opType) };
}

async function assertSame(before: Uint8Array, after: Uint8Array, dims: number[]): Promise<void> {
  const x = new WeightRandom(dims[2] * 31 + dims[3]).normals(dims.reduce((p, d) => p * d), 1);
  const want = await run(before, x, dims);
  const got = await run(after, x, dims);
  assert.deepEqual(got.dims, want.dims);
  const err = relativeL2(want.data as Float32Array, got.data as Float32Array);
  assert.ok(err < 1e-6, `relative L2 ${err.toExponential(2)} at ${dims.join('×')}`);
}

describe('Upsamples folded into their convolution (nearest 2× then 3×3 as one 2×2 convolution per pixel parity)', () => {
  it('sums the 3×3 taps each parity reads: every tap once per parity, 16 sub-taps', () => {
    const sums = subpixelSums();
    for (let parity = 0; parity < 4; parity++) {
      const perTap = Array.from({ length: 9 }, (_, t) => [0, 1, 2, 3].reduce((s, uv) => s + sums[(parity * 4 + uv) * 9 + t], 0));
      assert.deepEqual(perTap, Array(9).fill(1), `parity ${parity}`);
    }
  });

  const sizes: [string, number[]][] = [
    ['a batch of 2 at 8×8', [2, 6, 8, 8]],
    ['an odd size (7×5)', [1, 6, 7, 5]],
    ['one pixel', [1, 6, 1, 1]],
  ];
  for (const [name, dims] of sizes) {
    it(`gives onnxruntime's Resize and Conv output on ${name}, bias or not`, async () => {
      for (const bias of [true, false]) {
        const before = model((g, x, rnd) => upsample(g, x, rnd, { coordinates: 'asymmetric', nearest: 'floor', bias }, 'y'));
        const r = rewritten(before);
        assert.equal(r.result.rewritten, 1);
        assert.deepEqual(r.ops.filter((op) => op === 'Resize' || op === 'Conv'), ['Conv'], 'the upsample is gone, one convolution left');
        await assertSame(before, r.model, dims);
      }
    });
  }

  // Each accepted mode maps output pixels 2i and 2i+1 to input pixel i at scale 2; checked against onnxruntime.
  const modes: Up[] = [
    {},
    { coordinates: 'asymmetric', nearest: 'round_prefer_floor' },
    { coordinates: 'half_pixel', nearest: 'round_prefer_ceil' },
    { coordinates: 'pytorch_half_pixel', nearest: 'round_prefer_floor' },
  ];
  for (const m of modes) {
    it(`takes nearest mode ${m.coordinates ?? 'half_pixel (default)'} with ${m.nearest ?? 'round_prefer_floor (default)'}`, async () => {
      const before = model((g, x, rnd) => upsample(g, x, rnd, m, 'y'));
      const r = rewritten(before);
      assert.equal(r.result.rewritten, 1);
      await assertSame(before, r.model, [1, 6, 5, 6]);
    });
  }

  it('takes the scales from a Constant node, as torch exports them, and drops it', async () => {
    const before = onnx.ModelProto.decode(model((g, x, rnd) => upsample(g, x, rnd, { coordinates: 'asymmetric', nearest: 'floor' }, 'y')));
    const graph = before.graph as onnx.GraphProto;
    const resize = graph.node.find((n) => n.opType === 'Resize')!;
    const scales = graph.initializer.find((t) => t.name === resize.input![2])!;
    graph.initializer = graph.initializer.filter((t) => t !== scales);
    graph.node.unshift({ opType: 'Constant', name: 'scales_constant', output: [scales.name!], attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: scales }] });
    const bytes = onnx.ModelProto.encode(before).finish();
    const r = rewritten(bytes);
    assert.equal(r.result.rewritten, 1);
    assert.ok(!r.ops.includes('Constant'), 'the scales constant went with the Resize');
    await assertSame(bytes, r.model, [2, 6, 4, 3]);
  });

  it('leaves alone what is not a nearest 2× upsample into a plain 3×3 convolution', () => {
    const leaves: [string, (g: GraphBuilder, x: string, rnd: WeightRandom) => void][] = [
      ['linear', (g, x, rnd) => void upsample(g, x, rnd, { mode: 'linear' }, 'y')],
      ['scale 3', (g, x, rnd) => void upsample(g, x, rnd, { scales: [1, 1, 3, 3] }, 'y')],
      ['scale 2 on one axis', (g, x, rnd) => void upsample(g, x, rnd, { scales: [1, 1, 2, 1] }, 'y')],
      // 2i + 1 → i + 0.5 → i + 1 and 2i → i - 0.25 → i - 1: other pixels than the rewrite reads.
      ['asymmetric, round_prefer_ceil', (g, x, rnd) => void upsample(g, x, rnd, { coordinates: 'asymmetric', nearest: 'round_prefer_ceil' }, 'y')],
      ['half_pixel, floor', (g, x, rnd) => void upsample(g, x, rnd, { coordinates: 'half_pixel', nearest: 'floor' }, 'y')],
      ['align_corners', (g, x, rnd) => void upsample(g, x, rnd, { coordinates: 'align_corners' }, 'y')],
    ];
    for (const [name, build] of leaves) {
      assert.equal(upsampleConvPairs(new OnnxGraph(model(build))).length, 0, name);
    }
    // The upsampled image also feeds an Add: folding it away would leave the Add without input.
    const shared = onnx.ModelProto.decode(model((g, x, rnd) => void upsample(g, x, rnd, {}, 'conv_y')));
    const sharedGraph = shared.graph as onnx.GraphProto;
    const resize = sharedGraph.node.find((n) => n.opType === 'Resize')!;
    sharedGraph.node.push({ opType: 'Add', name: 'also', input: ['conv_y', resize.output![0]], output: ['y'] });
    assert.equal(upsampleConvPairs(new OnnxGraph(onnx.ModelProto.encode(shared).finish())).length, 0, 'used twice');
  });

  it('spends its budget on the smallest weights first and keeps the model\'s weights as they are', async () => {
    // 6→5 (270 floats, new 480) then 5→12 (540, new 960).
    const before = model((g, x, rnd) => {
      const a = upsample(g, x, rnd, { cin: 6, cout: 5 });
      upsample(g, a, rnd, { cin: 5, cout: 12 }, 'y');
    });
    const small = rewritten(before, 480 * 4);
    assert.deepEqual(small.result, { rewritten: 1, weightBytes: 480 * 4 });
    assert.deepEqual(small.ops.filter((op) => op === 'Resize'), ['Resize']);
    await assertSame(before, small.model, [1, 6, 3, 4]);
    const both = rewritten(before);
    assert.deepEqual(both.result, { rewritten: 2, weightBytes: (480 + 960) * 4 });
    await assertSame(before, both.model, [2, 6, 3, 4]);
    // The original weights, byte for byte; the only new float constant is the [16, 9] table of sums.
    const a = new OnnxGraph(before);
    const b = new OnnxGraph(both.model);
    for (const t of a.graph.initializer.filter((t) => t.dims?.length === 4)) assert.deepEqual(b.initializer(t.name!)?.rawData, t.rawData, t.name!);
    const added = b.graph.initializer.filter((t) => !a.initializer(t.name!) && t.dataType === onnx.TensorProto.DataType.FLOAT);
    assert.deepEqual(added.map((t) => t.dims!.map(Number)), [[16, 9], [16, 9]]);
  });

  it('runs in ModelSession with the VAE decoder\'s plan, the weights read from the model folder', async () => {
    const g = new GraphBuilder('decoder');
    const x = g.input('x', 'float32', ['batch', 64, 'height', 'width']);
    upsample(g, x, new WeightRandom(3), { cin: 64, cout: 64, coordinates: 'asymmetric', nearest: 'floor' }, 'y');
    g.output('y', 'float32', ['batch', 64, '?', '?']);
    const r = await comparePlan(g.build('weights.pb'), 'vaeDecoder', [1, 64, 9, 7]);
    assert.deepEqual(r.notes, { fast: ['1 upsample folded into its convolution (weights 0.00 GB when loaded)'], plain: [] });
    assert.deepEqual(r.fast.dims, [1, 64, 18, 14]);
    assert.ok(relativeL2(r.plain.data as Float32Array, r.fast.data as Float32Array) < 1e-6);
  });
});
