import * as assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { OnnxGraph } from '../../../src/engine/onnx/graph/onnxGraph';
import { unetPlan, vaeDecoderPlan } from '../../../src/engine/onnx/graph/prepareGraph';
import { plain3x3Convolutions, winogradConvolutions, WinogradOptions } from '../../../src/engine/onnx/graph/winogradConv';
import { GraphBuilder } from '../../fixtures/onnx/graph';
import { WeightRandom } from '../../fixtures/onnx/random';
import { relativeL2 } from '../../support/relativeL2';
import { runGraph as run } from '../../support/runGraph';
import { comparePlan } from '../../support/planSessions';

const options = (o: Partial<WinogradOptions> = {}): WinogradOptions => ({ budgetBytes: 1e9, minChannels: 4, ...o });

/** A graph of one or more convolutions from `x` to `y`, any batch and size. */
function convs(build: (g: GraphBuilder, x: string, rnd: WeightRandom) => void, cin = 8, opset?: number): Uint8Array {
  const g = new GraphBuilder('convs');
  const x = g.input('x', 'float32', ['batch', cin, 'height', 'width']);
  build(g, x, new WeightRandom(5));
  g.output('y', 'float32', ['batch', '?', 'height', 'width']);
  const model = onnx.ModelProto.decode(g.build().model);
  if (opset) model.opsetImport = [{ domain: '', version: opset }];
  return onnx.ModelProto.encode(model).finish();
}

function conv3(g: GraphBuilder, input: string, rnd: WeightRandom, cin: number, cout: number, o: { bias?: boolean; out?: string; attrs?: Record<string, number[] | number> } = {}): string {
  const w = g.weight('w', rnd.normals(cout * cin * 9, 1 / Math.sqrt(cin * 9)), [cout, cin, 3, 3]);
  const inputs = o.bias === false ? [input, w] : [input, w, g.weight('b', rnd.normals(cout, 0.5), [cout])];
  return g.op('Conv', inputs, { kernel_shape: [3, 3], pads: [1, 1, 1, 1], ...o.attrs }, o.out);
}

function rewritten(model: Uint8Array, o: WinogradOptions) {
  const g = new OnnxGraph(model);
  const result = winogradConvolutions(g, o);
  return { model: g.encode(), result, ops: g.nodes.map((n) => n.opType) };
}

describe('Winograd convolutions (3×3 convolutions as F(4×4, 3×3) and F(2×2, 3×3))', () => {
  const cases: [string, number[]][] = [
    ['a batch of 2 at 16×16', [2, 8, 16, 16]],
    ['a size no tile divides (13×10)', [1, 8, 13, 10]],
    ['one tile (3×5)', [1, 8, 3, 5]],
  ];
  for (const [name, dims] of cases) {
    for (const min of [4, 2]) {
      const form = min === 4 ? 'F(4×4)' : 'F(2×2)';
      it(`${form} gives onnxruntime's Conv output on ${name}, bias or not`, async () => {
        const model = convs((g, x, rnd) => conv3(g, conv3(g, x, rnd, 8, 12), rnd, 12, 8, { bias: false, out: 'y' }));
        // min 2 with a budget too small for F(4×4) (4× the weights) but not for F(2×2) (16/9).
        const o = min === 4 ? options() : options({ minChannels: 2, budgetBytes: 8 * 12 * 36 * 2 });
        const r = rewritten(model, o);
        assert.deepEqual([r.result.f4, r.result.f2], min === 4 ? [2, 0] : [0, 2]);
        assert.ok(!r.ops.includes('Conv') || r.ops.filter((op) => op === 'Conv').length === 2, 'each Conv became a transform Conv');
        const x = new WeightRandom(9).normals(dims.reduce((p, d) => p * d), 1);
        const want = await run(model, x, dims);
        const got = await run(r.model, x, dims);
        assert.equal(got.length, want.length);
        const err = relativeL2(want, got);
        assert.ok(err < (min === 4 ? 1e-5 : 2e-6), `relative L2 ${err.toExponential(2)}`);
      });
    }
  }

  it('aligned (sides multiples of 4): no Pad and no crop, the same output to the last bit, bias or not', async () => {
    for (const bias of [false, true]) for (const o of [options(), options({ minChannels: 2, budgetBytes: 8 * 12 * 36 * 2 })]) {
      const model = convs((g, x, rnd) => conv3(g, conv3(g, x, rnd, 8, 12, { bias }), rnd, 12, 8, { bias, out: 'y' }));
      const general = rewritten(model, o);
      const aligned = rewritten(model, { ...o, aligned: 4 });
      assert.deepEqual([aligned.result.f4, aligned.result.f2], [general.result.f4, general.result.f2]);
      assert.deepEqual([aligned.result.whole, general.result.whole], [2, 0]);
      assert.ok(general.ops.includes('Pad'));
      assert.ok(!aligned.ops.includes('Pad'));
      assert.equal(aligned.ops.filter((op) => op === 'Slice').length, general.ops.filter((op) => op === 'Slice').length - 2, 'one crop less per convolution');
      for (const dims of [[2, 8, 16, 16], [1, 8, 12, 20], [1, 8, 4, 4]]) {
        const x = new WeightRandom(9).normals(dims.reduce((p, d) => p * d), 1);
        assert.deepEqual(await run(aligned.model, x, dims), await run(general.model, x, dims), dims.join('x'));
      }
    }
  });

  it('aligned by level: a convolution below the input\'s resolution is on whole tiles only where its sides are known to be', async () => {
    // 8→12 at full size, a 2×2 max pool, 12→8 at half size: both F(4×4).
    const model = convs((g, x, rnd) => {
      const pooled = g.op('MaxPool', [conv3(g, x, rnd, 8, 12)], { kernel_shape: [2, 2], strides: [2, 2] });
      conv3(g, pooled, rnd, 12, 8, { out: 'y' });
    });
    const general = rewritten(model, options());
    const pads = (r: ReturnType<typeof rewritten>) => r.ops.filter((op) => op === 'Pad').length;
    assert.equal(general.result.f4, 2);
    assert.equal(pads(general), 2);
    // Sides multiples of 4: the half-size convolution's are only known to be multiples of 2.
    const by4 = rewritten(model, options({ aligned: 4 }));
    assert.deepEqual([by4.result.whole, pads(by4)], [1, 1]);
    // Multiples of 8: both.
    const by8 = rewritten(model, options({ aligned: 8 }));
    assert.deepEqual([by8.result.whole, pads(by8)], [2, 0]);
    const x = (dims: number[]) => new WeightRandom(3).normals(dims.reduce((p, d) => p * d), 1);
    for (const dims of [[1, 8, 12, 20], [2, 8, 16, 8]]) assert.deepEqual(await run(by4.model, x(dims), dims), await run(general.model, x(dims), dims), dims.join('x'));
    for (const dims of [[1, 8, 16, 24], [2, 8, 8, 8]]) assert.deepEqual(await run(by8.model, x(dims), dims), await run(general.model, x(dims), dims), dims.join('x'));
  });

  it('runs one rewritten session at several image sizes, as the UNet is run', async () => {
    const model = convs((g, x, rnd) => conv3(g, x, rnd, 8, 8, { out: 'y' }));
    const r = rewritten(model, options());
    const s = await ort.InferenceSession.create(r.model, { intraOpNumThreads: 1 });
    try {
      for (const dims of [[2, 8, 8, 8], [2, 8, 12, 20], [1, 8, 7, 9]]) {
        const x = new WeightRandom(dims[3]).normals(dims.reduce((p, d) => p * d), 1);
        const got = (await s.run({ x: new ort.Tensor('float32', x, dims) })).y;
        assert.deepEqual(got.dims, dims);
        assert.ok(relativeL2(await run(model, x, dims), got.data as Float32Array) < 1e-5, dims.join('×'));
      }
    } finally {
      await s.release();
    }
  });

  it('keeps the weights where they are: the rewritten graph computes G w Gᵀ from them', () => {
    const model = convs((g, x, rnd) => conv3(g, conv3(g, x, rnd, 8, 16), rnd, 16, 8, { out: 'y' }));
    const before = new OnnxGraph(model);
    const weights = before.graph.initializer.filter((t) => t.dims?.length === 4 && t.dims[2] === 3).map((t) => t.name);
    const r = rewritten(model, options());
    const after = new OnnxGraph(r.model);
    for (const name of weights) assert.deepEqual(after.initializer(name!)?.rawData, before.initializer(name!)?.rawData, name!);
    // Only the transforms are new (6×6 tiles: 36 rows), never a transformed weight, [36, K, C].
    const added = after.graph.initializer.filter((t) => !before.initializer(t.name!));
    assert.ok(added.length > 0);
    for (const t of added) assert.ok(!(t.dims?.length === 3 && Number(t.dims[0]) === 36), `${t.name} [${t.dims?.join(', ')}]`);
  });

  it('leaves alone convolutions it cannot take: strided, grouped, dilated, 1×1, unpadded, a shared weight', () => {
    const model = convs((g, x, rnd) => {
      const a = conv3(g, x, rnd, 8, 8, { attrs: { strides: [2, 2] } });
      const b = conv3(g, a, rnd, 8, 8, { attrs: { group: 2 } }); // (weights for 8 in-channels: invalid, never run)
      const c = conv3(g, b, rnd, 8, 8, { attrs: { dilations: [2, 2], pads: [2, 2, 2, 2] } });
      const d = conv3(g, c, rnd, 8, 8, { attrs: { pads: [0, 0, 0, 0] } });
      const e = g.op('Conv', [d, g.weight('w1', rnd.normals(64, 0.3), [8, 8, 1, 1])], { kernel_shape: [1, 1] });
      const shared = g.weight('shared', rnd.normals(8 * 8 * 9, 0.1), [8, 8, 3, 3]);
      const f = g.op('Conv', [e, shared], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
      g.op('Conv', [f, shared], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, 'y');
    });
    assert.equal(plain3x3Convolutions(new OnnxGraph(model)).length, 0);
  });

  it('needs opset 13 (Unsqueeze with axes as an input)', () => {
    const build = (g: GraphBuilder, x: string, rnd: WeightRandom) => void conv3(g, x, rnd, 8, 8, { out: 'y' });
    assert.equal(plain3x3Convolutions(new OnnxGraph(convs(build, 8, 12))).length, 0);
    assert.equal(plain3x3Convolutions(new OnnxGraph(convs(build, 8, 13))).length, 1);
  });

  it('among weights at one resolution, spends the budget on F(2×2) where channels allow, then on the smallest weights, and skips too few channels', async () => {
    // Weights: 4→4 (144 floats), 4→16 (576), 16→16 (2304), 16→32 (4608) and back to 4 (1152).
    const model = convs((g, x, rnd) => {
      const a = conv3(g, x, rnd, 4, 4);
      const b = conv3(g, a, rnd, 4, 16);
      const c = conv3(g, b, rnd, 16, 16);
      const d = conv3(g, c, rnd, 16, 32);
      conv3(g, d, rnd, 32, 4, { out: 'y' });
    }, 4);
    // In bytes, F(4×4) adds 3× a weight, F(2×2) 7/9 of it; with minChannels 4, F(2×2) needs 8.
    // F(2×2) first: 16→16 +7168; 16→32 (+14336) would pass the budget. Then F(4×4), smallest
    // first: 4→4 +1728 (8896), 4→16 +6912 (15808); 32→4 (+13824) would pass, and 4 channels are
    // too few for F(2×2): left. F(4×4) in place of 16→16's F(2×2) (+20480) does not fit either.
    const r = rewritten(model, options({ budgetBytes: 20000 }));
    assert.deepEqual([r.result.f4, r.result.f2], [2, 1]);
    assert.equal(r.result.floatBytes, (144 + 576 + 2304) * 4);
    assert.equal(r.ops.filter((op) => op === 'DepthToSpace').length, 3);
    const dims = [1, 4, 9, 11];
    const x = new WeightRandom(3).normals(dims.reduce((p, d) => p * d), 1);
    assert.ok(relativeL2(await run(model, x, dims), await run(r.model, x, dims)) < 1e-5);
  });

  it('spends the budget where it saves the most time: a weight at full resolution before a smaller one at half', async () => {
    // 8→8 at half resolution (2304 bytes, F(4×4) +6912) and 8→16 at full resolution (4608 bytes,
    // +13824): with room for one, the full-resolution one does four times the work per byte.
    // Taking the smallest weight first would have chosen the other.
    const model = convs((g, x, rnd) => {
      const down = g.op('Conv', [x, g.weight('w', rnd.normals(8 * 8 * 9, 0.1), [8, 8, 3, 3])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] });
      const half = conv3(g, down, rnd, 8, 8);
      const up = g.op('Resize', [half, '', g.floatConst('scales', [1, 1, 2, 2])], { mode: 'nearest' });
      conv3(g, up, rnd, 8, 16, { out: 'y' });
    });
    const r = rewritten(model, options({ minChannels: 8, budgetBytes: 13824 }));
    assert.deepEqual([r.result.f4, r.result.f2, r.result.floatBytes], [1, 0, 4608]);
    const dims = [1, 8, 12, 10];
    const x = new WeightRandom(4).normals(dims.reduce((p, d) => p * d), 1);
    assert.ok(relativeL2(await run(model, x, dims), await run(r.model, x, dims)) < 1e-5);
  });

  it('takes F(2×2) before F(4×4) where it may, and F(4×4) in its place where bytes are left', () => {
    // 16→16 at one resolution, twice: F(2×2) +7168 each, F(4×4) in its place +20480 more.
    const build = (g: GraphBuilder, x: string, rnd: WeightRandom) => void conv3(g, conv3(g, x, rnd, 16, 16), rnd, 16, 16, { out: 'y' });
    const counts = (budgetBytes: number) => {
      const r = rewritten(convs(build, 16), options({ minChannels: 8, budgetBytes }));
      return [r.result.f4, r.result.f2];
    };
    assert.deepEqual(counts(7168), [0, 1]);
    assert.deepEqual(counts(2 * 7168), [0, 2]);
    assert.deepEqual(counts(2 * 7168 + 20480), [1, 1]);
    assert.deepEqual(counts(2 * 9216 * 3), [2, 0]);
  });

  it('runs in ModelSession on the CPU when asked, the weights still read from the model folder', async () => {
    // 320 channels: the fewest prepareGraph rewrites. Weights in weights.pb, as large exports keep them.
    const g = new GraphBuilder('convs');
    const x = g.input('x', 'float32', ['batch', 320, 'height', 'width']);
    conv3(g, x, new WeightRandom(2), 320, 320, { out: 'y' });
    g.output('y', 'float32', ['batch', 320, 'height', 'width']);
    const r = await comparePlan(g.build('weights.pb'), 'unet', [1, 320, 12, 12]);
    assert.deepEqual(r.notes.plain, []);
    assert.equal(r.notes.fast[0], '1 convolution by Winograd (1 F(4x4), 0 F(2x2); weights 0.00 -> 0.01 GB when loaded)');
    assert.match(r.notes.fast[1], /^Winograd weights mapped from \.course-illustrator[/\\]winograd-[0-9a-f]{16}-[0-9a-f]{16}\.bin$/);
    const err = relativeL2(r.plain.data as Float32Array, r.fast.data as Float32Array);
    assert.ok(err < 1e-5, `relative L2 ${err.toExponential(2)}`);
  });
});

describe('the VAE decoder\'s convolution plan by latent size (vaeDecoderPlan)', () => {
  it('aligned where both sides are multiples of 4, up to 64×64 latents; the large plan above or when unknown', () => {
    assert.equal(vaeDecoderPlan({ height: 64, width: 64 }), 'vaeDecoderAligned');
    assert.equal(vaeDecoderPlan({ height: 32, width: 48 }), 'vaeDecoderAligned');
    assert.equal(vaeDecoderPlan({ height: 62, width: 64 }), 'vaeDecoder');
    assert.equal(vaeDecoderPlan({ height: 64, width: 57 }), 'vaeDecoder');
    assert.equal(vaeDecoderPlan({ height: 64, width: 68 }), 'vaeDecoderLarge');
    assert.equal(vaeDecoderPlan(undefined), 'vaeDecoderLarge');
  });
});

describe('the UNet\'s convolution plan by latent size (unetPlan)', () => {
  it('aligned where both sides are multiples of 8 (images of multiples of 64 pixels), at any size', () => {
    assert.equal(unetPlan({ height: 64, width: 64 }), 'unetAligned');
    assert.equal(unetPlan({ height: 96, width: 128 }), 'unetAligned');
    assert.equal(unetPlan({ height: 72, width: 64 }), 'unetAligned');
    assert.equal(unetPlan({ height: 64, width: 60 }), 'unet');
    assert.equal(unetPlan({ height: 65, width: 64 }), 'unet');
    assert.equal(unetPlan(undefined), 'unet');
  });
});
