import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { Calibration, compactGraph } from '../../../src/engine/onnx/graph/compactGraph';
import { OnnxGraph } from '../../../src/engine/onnx/graph/onnxGraph';
import { asymmetric, quantizableConvs, quantizePerChannel, rangeOutput } from '../../../src/engine/onnx/graph/quantizeConv';
import { ModelSession } from '../../../src/engine/onnx/session';
import { GraphBuilder } from '../../fixtures/onnx/graph';
import { WeightRandom } from '../../fixtures/onnx/random';
import { relativeL2 } from '../../support/relativeL2';

const C = 8;
const H = 12;

describe('int8 variant (8-bit convolutions, calibrated activations)', () => {
  let dir: string;
  let cache: string;
  let file: string;
  const rnd = new WeightRandom(11);
  const sample = (seed: number) => new WeightRandom(seed).normals(2 * 4 * H * H, 1);
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ci-int8-'));
    cache = path.join(dir, 'cache');
    // As a UNet has them: a conv on the input, 3x3 and 1x1 convs inside, a conv making the output.
    const g = new GraphBuilder('convs');
    const x = g.input('sample', 'float32', [2, 4, H, H]);
    const conv = (input: string, cin: number, cout: number, k: number, out?: string) =>
      g.op('Conv', [input, g.weight('w', rnd.normals(cout * cin * k * k, 0.3), [cout, cin, k, k]), g.weight('b', rnd.normals(cout, 0.1), [cout])],
        { kernel_shape: [k, k], pads: k === 3 ? [1, 1, 1, 1] : [0, 0, 0, 0] }, out);
    const h0 = conv(x, 4, C, 3);
    const h1 = g.op('Sigmoid', [conv(g.op('Tanh', [h0]), C, C, 3)]);
    const h2 = g.op('Add', [conv(h1, C, C, 1), h0]);
    conv(h2, C, 4, 3, 'out_sample');
    g.output('out_sample', 'float32', [2, 4, H, H]);
    const { model, external } = g.build('weights.pb');
    file = path.join(dir, 'model.onnx');
    await fs.writeFile(file, model);
    await fs.writeFile(path.join(dir, 'weights.pb'), external!);
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  /** Runs the probe graph on three samples, as the pipeline's calibration does on the UNet. */
  function calibration(id: string, calls: { n: number }): Calibration {
    return {
      id,
      async run(graph, tensors) {
        calls.n += 1;
        const s = await ModelSession.create(file, { graph: { bytes: graph, notes: [] }, provider: 'cpu', threads: 1, label: 'probe' });
        const ranges = new Map<string, [number, number]>(tensors.map((t) => [t, [0, 0]]));
        s.onOutputs = (out) => tensors.forEach((t, i) => {
          const r = ranges.get(t)!;
          r[0] = Math.min(r[0], (out[rangeOutput(i, 'min')].data as Float32Array)[0]);
          r[1] = Math.max(r[1], (out[rangeOutput(i, 'max')].data as Float32Array)[0]);
        });
        try {
          for (const seed of [1, 2, 3]) await s.run({ sample: new ort.Tensor('float32', sample(seed), [2, 4, H, H]) });
        } finally {
          await s.dispose();
        }
        return ranges;
      },
    };
  }

  it('quantizes weights per output channel, symmetric: each within half a step of its channel scale', () => {
    const w = rnd.normals(3 * 20, 1);
    w.fill(0, 40); // a channel of zeros gets a usable scale
    const q = quantizePerChannel(w, 3);
    for (let i = 0; i < w.length; i++) {
      const m = Math.floor(i / 20);
      assert.ok(Math.abs(q.weights[i] * q.scales[m] - w[i]) <= q.scales[m] / 2 + 1e-7, `weight ${i}`);
    }
    assert.equal(q.scales[2], 1);
    assert.equal(Math.max(...[...q.weights.subarray(0, 20)].map(Math.abs)), 127);
  });

  it('keeps zero exact in activation ranges that do not hold it', () => {
    const { scale, zeroPoint } = asymmetric([0.5, 2]);
    assert.equal(zeroPoint, 0);
    assert.ok(Math.abs(scale - 2 / 255) < 1e-7);
    assert.equal(asymmetric([-1, 3]).zeroPoint, 64);
  });

  it('leaves the convolutions on the graph input and output in float32', async () => {
    const g = new OnnxGraph(await fs.readFile(file));
    assert.equal(g.nodes.filter((n) => n.opType === 'Conv').length, 4);
    assert.equal(quantizableConvs(g).length, 2);
  });

  it('calibrates once, caches, and runs close to float32 with QLinearConv', async () => {
    const calls = { n: 0 };
    const made = await compactGraph(file, { level: 'int8', calibration: calibration('test-v1', calls), cacheDir: cache });
    assert.ok(made);
    assert.deepEqual(made.notes, ['2 convolutions in 8 bits (0.00 GB -> 0.00 GB)']);
    const g = new OnnxGraph(await fs.readFile(made.file));
    assert.deepEqual(g.nodes.filter((n) => /Conv/.test(n.opType ?? '')).map((n) => n.opType).sort(), ['Conv', 'Conv', 'QLinearConv', 'QLinearConv']);
    const again = await compactGraph(file, { level: 'int8', calibration: calibration('test-v1', calls), cacheDir: cache });
    assert.equal(again?.file, made.file);
    assert.equal(calls.n, 1, 'the cached variant is not calibrated again');
    const other = await compactGraph(file, { level: 'int8', calibration: calibration('test-v2', calls), cacheDir: cache });
    assert.ok(other && other.file !== made.file && Number(calls.n) === 2, 'another calibration is another variant');

    const input = { sample: new ort.Tensor('float32', sample(4), [2, 4, H, H]) }; // not one of the calibration samples
    const full = await ModelSession.create(file, { provider: 'cpu', threads: 1, label: 'unet' });
    const int8 = await ModelSession.create(file, { provider: 'cpu', threads: 1, label: 'unet', compact: { level: 'int8', calibration: calibration('test-v1', calls), cacheDir: cache } });
    try {
      assert.deepEqual(int8.notes, made.notes);
      const a = (await full.run(input)).out_sample.data as Float32Array;
      const b = (await int8.run(input)).out_sample.data as Float32Array;
      const rel = relativeL2(a, b);
      console.log(`      · int8 vs float32: relative L2 error ${rel.toExponential(2)}`);
      assert.ok(rel < 3e-2, `relative error ${rel}`);
      assert.ok(rel > 0, 'the convolutions really are 8-bit');
    } finally {
      await full.dispose();
      await int8.dispose();
    }
  });
});
