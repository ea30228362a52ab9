import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { compactGraph } from '../../../src/engine/onnx/graph/compactGraph';
import { quantizeBlocks, quantizeColumns } from '../../../src/engine/onnx/graph/quantizeMatMul';
import { OnnxGraph } from '../../../src/engine/onnx/graph/onnxGraph';
import { ModelSession } from '../../../src/engine/onnx/session';
import { GraphBuilder } from '../../fixtures/onnx/graph';
import { WeightRandom } from '../../fixtures/onnx/random';
import { relativeL2 } from '../../support/relativeL2';

const K = 64;
const N = 48;

describe('compact variant (8-bit MatMul weights)', () => {
  let dir: string;
  let cache: string;
  let file: string;
  const rnd = new WeightRandom(5);
  const x = rnd.normals(2 * 3 * K, 1);
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ci-compact-'));
    cache = path.join(dir, 'cache');
    const g = new GraphBuilder('linear');
    const input = g.input('hidden_states', 'float32', [2, 3, K]);
    const h = g.op('MatMul', [input, g.weight('w1', rnd.normals(K * N, 0.2), [K, N])]);
    // K = 48 is not a whole number of 32-blocks: this one stays float32.
    g.op('MatMul', [h, g.weight('w2', rnd.normals(N * 8, 0.2), [N, 8])], {}, 'out');
    g.output('out', 'float32', [2, 3, 8]);
    const { model, external } = g.build('weights.pb');
    file = path.join(dir, 'model.onnx');
    await fs.writeFile(file, model);
    await fs.writeFile(path.join(dir, 'weights.pb'), external!);
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  it('quantizes blocks of 32 along K with a scale and zero point each: every weight within half a step, zero exact', () => {
    const w = rnd.normals(K * N, 1);
    w[5] = 0;
    const q = quantizeBlocks(w, K, N, 32);
    for (let k = 0; k < K; k++) {
      for (let n = 0; n < N; n++) {
        const b = Math.floor(k / 32);
        const scale = q.scales[n * 2 + b];
        const back = (q.weights[(n * 2 + b) * 32 + (k % 32)] - q.zeroPoints[n * 2 + b]) * scale;
        assert.ok(Math.abs(back - w[k * N + n]) <= scale / 2 + 1e-6, `k ${k} n ${n}`);
      }
    }
    assert.equal((q.weights[5 * 2 * 32] - q.zeroPoints[5 * 2]) * q.scales[5 * 2], 0);
  });

  it('is made once, cached, and runs close to the float32 graph with its other weights read from the model folder', async () => {
    const made = await compactGraph(file, { cacheDir: cache });
    assert.ok(made);
    assert.deepEqual(made.notes, ['1 MatMul weights as 8-bit blocks (0.00 GB -> 0.00 GB)']);
    const cachedFiles = (await fs.readdir(cache)).sort();
    assert.equal(cachedFiles.length, 2, cachedFiles.join(', '));
    const stamp = (await fs.stat(made.file)).mtimeMs;
    const again = await compactGraph(file, { cacheDir: cache });
    assert.ok(again && again.file === made.file && (await fs.stat(again.file)).mtimeMs === stamp, 'read from the cache, not made again');

    const run = async (s: ModelSession) => (await s.run({ hidden_states: new ort.Tensor('float32', x, [2, 3, K]) })).out.data as Float32Array;
    const full = await ModelSession.create(file, { provider: 'cpu', threads: 1, label: 'unet' });
    const compact = await ModelSession.create(file, { provider: 'cpu', threads: 1, label: 'unet', compact: { level: 'compact', cacheDir: cache } });
    try {
      assert.deepEqual(compact.notes, made.notes);
      const a = await run(full);
      const b = await run(compact);
      let diff = 0;
      let scale = 0;
      for (let i = 0; i < a.length; i++) {
        diff = Math.max(diff, Math.abs(a[i] - b[i]));
        scale = Math.max(scale, Math.abs(a[i]));
      }
      console.log(`      · compact vs float32: max relative error ${(diff / scale).toExponential(2)}`);
      assert.ok(diff / scale < 2e-2, `relative error ${diff / scale}`);
      assert.ok(diff > 0, 'the weights really are 8-bit');
    } finally {
      await full.dispose();
      await compact.dispose();
    }
  });

  it('int8 level: every MatMul weight in 8 bits per column (DynamicQuantizeMatMul), K = 48 too, close to float32', async () => {
    const w = rnd.normals(K * N, 1);
    const q = quantizeColumns(w, K, N);
    for (let i = 0; i < w.length; i++) assert.ok(Math.abs(q.weights[i] * q.scales[i % N] - w[i]) <= q.scales[i % N] / 2 + 1e-6, `weight ${i}`);
    const never = { id: 'unused', run: async () => { throw new Error('no convolution: nothing to calibrate'); } };
    const made = await compactGraph(file, { level: 'int8', calibration: never, cacheDir: cache });
    assert.ok(made);
    assert.deepEqual(made.notes, ['2 MatMul weights in 8 bits per column (0.00 GB -> 0.00 GB)']);
    const ops = new OnnxGraph(await fs.readFile(made.file)).nodes.map((n) => n.opType);
    assert.deepEqual(ops, ['DynamicQuantizeMatMul', 'DynamicQuantizeMatMul']);
    const input = { hidden_states: new ort.Tensor('float32', x, [2, 3, K]) };
    const full = await ModelSession.create(file, { provider: 'cpu', threads: 1, label: 'unet' });
    const int8 = await ModelSession.create(file, { provider: 'cpu', threads: 1, label: 'unet', compact: { level: 'int8', calibration: never, cacheDir: cache } });
    try {
      const a = (await full.run(input)).out.data as Float32Array;
      const b = (await int8.run(input)).out.data as Float32Array;
      const rel = relativeL2(a, b);
      console.log(`      · int8 MatMul vs float32: relative L2 error ${rel.toExponential(2)}`);
      assert.ok(rel < 3e-2 && rel > 0);
    } finally {
      await full.dispose();
      await int8.dispose();
    }
  });

  it('a changed weights file makes a new variant, never the stale one', async () => {
    const before = await compactGraph(file, { cacheDir: cache });
    const beforeBytes = before && (await fs.readFile(before.file));
    const weights = path.join(dir, 'weights.pb');
    const bytes = await fs.readFile(weights);
    bytes.writeFloatLE(3.5, 0);
    await fs.writeFile(weights, bytes);
    await fs.utimes(weights, new Date(), new Date(Date.now() + 5000));
    const after = await compactGraph(file, { cacheDir: cache });
    assert.ok(beforeBytes && after && after.file !== before.file && !(await fs.readFile(after.file)).equals(beforeBytes));
  });
});
