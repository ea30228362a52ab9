import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { OnnxGraph } from '../../../src/engine/onnx/graph/onnxGraph';
import { splitProjections } from '../../../src/engine/onnx/graph/splitProjection';
import { prepareGraph } from '../../../src/engine/onnx/graph/prepareGraph';
import { ensureFixture } from '../../fixtures/tinyPipeline';
import { GraphBuilder } from '../../fixtures/onnx/graph';
import { WeightRandom } from '../../fixtures/onnx/random';
import { runGraph as run } from '../../support/runGraph';

type Bounds = 'chunk' | 'constant' | 'axis1' | 'gap' | 'float-chunk' | 'shape-elsewhere';

/**
 * Diffusers' GEGLU as exported: x [batch, tokens, C] → MatMul W [C, 2F] (+ bias) → two halves,
 * one gating the other through Gelu (Erf), → y [batch, tokens, F]. `bounds` says how the halves
 * are cut: 'chunk' as torch's chunk(2, dim=-1) exports (from Shape, Gather -1, Add 1, Div 2, Mul),
 * 'constant' with constant bounds, and three that must be left as they are.
 */
function geglu(o: { C: number; F: number; bias?: boolean; bounds?: Bounds; projections?: number[] }): Uint8Array {
  const g = new GraphBuilder('geglu');
  const rnd = new WeightRandom(7);
  let x = g.input('x', 'float32', ['batch', 'tokens', o.C]);
  const one = (C: number, F: number, out?: string) => {
    const w = g.weight('proj_w', rnd.normals(C * 2 * F, 1 / Math.sqrt(C)), [C, 2 * F]);
    let h = g.op('MatMul', [x, w]);
    if (o.bias !== false) h = g.op('Add', [g.weight('proj_b', rnd.normals(2 * F, 0.5), [2 * F]), h]);
    const bounds = o.bounds ?? 'chunk';
    const axis = g.int64Const('axis', [bounds === 'axis1' ? 1 : -1]);
    let cut: [string, string, string, string];
    let extra: string | undefined;
    if (bounds === 'chunk' || bounds === 'float-chunk' || bounds === 'shape-elsewhere') {
      const int = bounds !== 'float-chunk';
      const c = (p: string, v: number) => (int ? g.int64Const(p, [v]) : g.floatConst(p, [v]));
      const last = g.op('Gather', [g.op('Shape', [h]), g.int64Const('last', [-1])], { axis: 0 });
      const half = g.op('Div', [g.op('Add', [int ? last : g.op('Cast', [last], { to: 1 }), c('one', 1)]), c('two', 2)]);
      // Float arithmetic (x.5 rounded as it goes) back to the int64 bounds Slice takes.
      const toInt = (v: string) => (int ? v : g.op('Cast', [v], { to: 7 }));
      const mid = toInt(g.op('Mul', [half, c('one_b', 1)]));
      cut = [toInt(c('zero', 0)), mid, mid, toInt(g.op('Mul', [half, c('two_b', 2)]))];
      // The whole output's width read for something else too (added to the result).
      if (bounds === 'shape-elsewhere') extra = g.op('Cast', [last], { to: 1 });
    } else {
      const s = bounds === 'gap' ? F + 1 : F;
      cut = [g.int64Const('s0', [0]), g.int64Const('e0', [F]), g.int64Const('s1', [s]), g.int64Const('e1', [2 * F])];
    }
    const a = g.op('Slice', [h, cut[0], cut[1], axis]);
    const gate = g.op('Slice', [h, cut[2], cut[3], axis]);
    const gelu = g.op('Mul', [g.op('Mul', [gate, g.op('Add', [g.op('Erf', [g.op('Div', [gate, g.floatConst('sqrt2', [Math.SQRT2])])]), g.floatConst('one_f', [1])])]), g.floatConst('half_f', [0.5])]);
    return extra ? g.op('Add', [g.op('Mul', [a, gelu]), extra], {}, out) : g.op('Mul', [a, gelu], {}, out);
  };
  const sizes = o.projections ?? [o.F];
  sizes.forEach((F, k) => {
    const last = k === sizes.length - 1;
    x = one(k === 0 ? o.C : sizes[k - 1], F, last ? 'y' : undefined);
  });
  g.output('y', 'float32', ['batch', 'tokens', sizes[sizes.length - 1]]);
  return g.build().model;
}

function split(model: Uint8Array, budgetBytes = 1e9) {
  const g = new OnnxGraph(model);
  const result = splitProjections(g, { budgetBytes });
  // Slices left on activations (not on weights, which onnxruntime folds).
  const activationSlices = g.nodes.filter((n) => n.opType === 'Slice' && !g.initializer(n.input![0])).length;
  return { model: g.encode(), result, activationSlices, matmuls: g.nodes.filter((n) => n.opType === 'MatMul').length };
}

describe('projections cut in two as two MatMuls (splitProjection)', () => {
  for (const bounds of ['chunk', 'constant'] as const) {
    for (const bias of [true, false]) {
      it(`splits GEGLU's projection (${bounds === 'chunk' ? 'torch chunk\'s bounds from Shape' : 'constant bounds'}, ${bias ? 'with' : 'without'} a bias): no Slice of the activations, the same output to the last bit`, async () => {
        const model = geglu({ C: 12, F: 20, bias, bounds });
        const r = split(model);
        assert.deepEqual(r.result, { split: 1, weightBytes: 12 * 40 * 4 });
        assert.equal(r.activationSlices, 0);
        assert.equal(r.matmuls, 2);
        for (const dims of [[2, 7, 12], [1, 1, 12]]) {
          const x = new WeightRandom(dims[1]).normals(dims.reduce((p, d) => p * d), 1);
          assert.deepEqual(await run(r.model, x, dims), await run(model, x, dims), dims.join('x'));
        }
      });
    }
  }

  it('spends the budget on the smallest weights first', () => {
    // Projections 12→2·20 (1920 bytes) then 20→2·8 (1280 bytes): room for the second only.
    const model = geglu({ C: 12, F: 20, projections: [20, 8] });
    assert.deepEqual(split(model, 1e9).result, { split: 2, weightBytes: 3200 });
    const small = split(model, 1500);
    assert.deepEqual(small.result, { split: 1, weightBytes: 1280 });
    assert.equal(small.activationSlices, 2);
    assert.deepEqual(split(model, 1000).result, { split: 0, weightBytes: 0 });
  });

  it('leaves a cut it cannot be sure of: not on the last axis, halves that do not meet, bounds from float arithmetic, the width read elsewhere too', async () => {
    for (const bounds of ['axis1', 'gap', 'float-chunk', 'shape-elsewhere'] as const) {
      const model = geglu({ C: 12, F: 20, bounds });
      const r = split(model);
      assert.deepEqual(r.result, { split: 0, weightBytes: 0 }, bounds);
      assert.equal(r.activationSlices, 2, bounds);
      // (The first two only stand for graphs that cut otherwise; these two run.)
      if (bounds === 'float-chunk' || bounds === 'shape-elsewhere') {
        const x = new WeightRandom(2).normals(2 * 3 * 12, 1);
        assert.deepEqual(await run(r.model, x, [2, 3, 12]), await run(model, x, [2, 3, 12]), bounds);
      }
    }
  });
});

describe('projections split in the UNet\'s plan (prepareGraph)', () => {
  it('the default mode\'s UNet (a checkpoint-built one) has its GEGLUs split, a graph run in parts not; the same output to the last bit', async () => {
    const file = path.join(await ensureFixture('tiny-ckpt'), 'unet', 'model.onnx');
    const whole = await prepareGraph(file, 'cpu', { convolutions: 'unet' });
    const parted = await prepareGraph(file, 'cpu', { convolutions: 'unet', foldAtLoad: false });
    const splitNote = (notes: string[]) => notes.filter((n) => /split into two MatMuls/.test(n));
    assert.equal(splitNote(whole!.notes).length, 1, whole!.notes.join('; '));
    assert.match(splitNote(whole!.notes)[0], /^\d+ projections? split into two MatMuls each \(weights 0\.00 GB, halved when loaded\)$/);
    // Nothing else to rewrite there: the file's graph runs as it is.
    assert.deepEqual(splitNote(parted?.notes ?? []), []);
    const outputs = async (bytes: Uint8Array) => {
      const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, extra: { 'session.model_external_initializers_file_folder_path': path.dirname(file) } });
      try {
        const rnd = new WeightRandom(4);
        const feeds: Record<string, ort.Tensor> = {};
        for (const m of s.inputMetadata) {
          if (!m.isTensor) throw new Error(`${m.name} is not a tensor`);
          const dims = m.shape.map((d, i) => (typeof d === 'number' ? d : i === 0 ? 2 : m.name === 'encoder_hidden_states' ? 77 : 8));
          const n = dims.reduce((p, d) => p * d, 1);
          const type = m.type;
          feeds[m.name] = type === 'int64' ? new ort.Tensor('int64', BigInt64Array.from({ length: n }, () => 500n), dims) : new ort.Tensor('float32', type === 'float32' && m.name === 'timestep' ? new Float32Array(n).fill(500) : rnd.normals(n, 1), dims);
        }
        return (await s.run(feeds))[s.outputNames[0]].data as Float32Array;
      } finally {
        await s.release();
      }
    };
    const asIs = parted ? (parted.bytes as Uint8Array) : await fs.readFile(file);
    assert.deepEqual(await outputs(whole!.bytes as Uint8Array), await outputs(asIs));
  });
});
