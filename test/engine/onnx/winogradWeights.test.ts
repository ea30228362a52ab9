import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { OnnxGraph } from '../../../src/engine/onnx/graph/onnxGraph';
import { prepareGraph } from '../../../src/engine/onnx/graph/prepareGraph';
import { winogradConvolutions, WinogradOptions } from '../../../src/engine/onnx/graph/winogradConv';
import { DERIVED_FOLDER } from '../../../src/engine/modelFolder/derivedFiles';
import { storeWinogradWeights } from '../../../src/engine/onnx/graph/winogradWeights';
import { ModelSession } from '../../../src/engine/onnx/session';
import { GraphBuilder } from '../../fixtures/onnx/graph';
import { WeightRandom } from '../../fixtures/onnx/random';
import { relativeL2 } from '../../support/relativeL2';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/** prepareGraph in another engine process (this one keeps what it prepared): its stored weights file. */
async function preparedElsewhere(file: string, convolutions: string): Promise<string> {
  const script = `require(${JSON.stringify(path.resolve(__dirname, '../../../src/engine/onnx/graph/prepareGraph'))})` +
    `.prepareGraph(${JSON.stringify(file)}, 'cpu', { convolutions: ${JSON.stringify(convolutions)} }).then((p) => process.stdout.write(p.storedWeights))`;
  return (await promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', script])).stdout;
}

/** Two 3×3 convolutions, cin → mid → cin, from `x` to `y`; weights external in weights.pb when asked. */
function twoConvs(cin: number, mid: number, seed: number, external?: boolean): { model: Uint8Array; external?: Uint8Array } {
  const g = new GraphBuilder('convs');
  const rnd = new WeightRandom(seed);
  const conv = (input: string, ci: number, co: number, out?: string) =>
    g.op('Conv', [input, g.weight('w', rnd.normals(co * ci * 9, 1 / Math.sqrt(ci * 9)), [co, ci, 3, 3]), g.weight('b', rnd.normals(co, 0.5), [co])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, out);
  const x = g.input('x', 'float32', ['batch', cin, 'height', 'width']);
  conv(conv(x, cin, mid), mid, cin, 'y');
  g.output('y', 'float32', ['batch', cin, 'height', 'width']);
  return g.build(external ? 'weights.pb' : undefined);
}

async function run(model: Uint8Array, folder: string | undefined, x: Float32Array, dims: number[]): Promise<Float32Array> {
  const extra = folder ? { 'session.model_external_initializers_file_folder_path': folder } : {};
  const s = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, graphOptimizationLevel: 'extended', extra } as ort.InferenceSession.SessionOptions);
  try {
    return (await s.run({ x: new ort.Tensor('float32', x, dims) })).y.data as Float32Array;
  } finally {
    await s.release();
  }
}

async function modelFolder(built: { model: Uint8Array; external?: Uint8Array }): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ci-winograd-'));
  await fs.writeFile(path.join(dir, 'model.onnx'), built.model);
  if (built.external) await fs.writeFile(path.join(dir, 'weights.pb'), built.external);
  return dir;
}

const stamp = 'test:1';

describe('Winograd weights stored once per model (winogradWeights)', () => {
  let dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
    dirs = [];
  });
  const folder = async (built: { model: Uint8Array; external?: Uint8Array }) => {
    const d = await modelFolder(built);
    dirs.push(d);
    return d;
  };

  for (const [form, o] of [
    ['F(4×4)', { budgetBytes: 1e9, minChannels: 4 }],
    ['F(2×2)', { budgetBytes: 8 * 12 * 36 * 2, minChannels: 2 }],
  ] as [string, WinogradOptions][]) {
    for (const external of [false, true]) {
      it(`${form}, weights ${external ? 'in weights.pb' : 'inline'}: the stored weights give the folded graph's output and the model's`, async () => {
        const built = twoConvs(8, 12, 3, external);
        const dir = await folder(built);
        const folded = new OnnxGraph(built.model);
        winogradConvolutions(folded, o);
        const g = new OnnxGraph(built.model);
        const r = winogradConvolutions(g, { ...o, weights: 'stored' });
        assert.equal(r.stored.length, 2);
        const s = await storeWinogradWeights(g, r.stored, { folder: dir, graphFile: 'model.onnx', graphStamp: stamp });
        assert.equal(s.made, true);
        assert.equal(path.dirname(s.file), path.join(dir, DERIVED_FOLDER));
        // Nothing left to fold: no Gemm, the 3×3 weights gone, the transformed ones read from the file.
        assert.ok(!g.nodes.some((n) => n.opType === 'Gemm'));
        assert.ok(!g.graph.initializer.some((t) => t.dims?.length === 4 && Number(t.dims[2]) === 3));
        for (const w of r.stored) {
          const t = g.initializer(w.name)!;
          assert.equal(t.dataLocation, onnx.TensorProto.DataLocation.EXTERNAL);
          assert.equal(t.externalData?.find((e) => e.key === 'location')?.value, `${DERIVED_FOLDER}/${path.basename(s.file)}`);
        }
        const dims = [2, 8, 13, 10];
        const x = new WeightRandom(9).normals(dims.reduce((p, d) => p * d), 1);
        const want = await run(built.model, dir, x, dims);
        const fold = await run(folded.encode(), dir, x, dims);
        const got = await run(g.encode(), dir, x, dims);
        // Summed in double and rounded once: as close to the model as onnxruntime's float fold, or closer.
        const vsFold = relativeL2(fold, got);
        const vsModel = relativeL2(want, got);
        const foldVsModel = relativeL2(want, fold);
        assert.ok(vsFold < 3e-6, `against the folded graph: relative L2 ${vsFold.toExponential(2)}`);
        assert.ok(vsModel <= foldVsModel * 1.05, `against the model: relative L2 ${vsModel.toExponential(2)}, folded ${foldVsModel.toExponential(2)}`);
        assert.ok(vsModel < (form === 'F(4×4)' ? 1e-5 : 2e-6), `against the model: relative L2 ${vsModel.toExponential(2)}`);
      });
    }
  }

  it('is made once and found after; changed weights make a new file and the old one goes', async () => {
    const o: WinogradOptions = { budgetBytes: 1e9, minChannels: 4, weights: 'stored' };
    const built = twoConvs(8, 12, 3, true);
    const dir = await folder(built);
    const store = async (model: Uint8Array) => {
      const g = new OnnxGraph(model);
      const r = winogradConvolutions(g, o);
      return { g, s: await storeWinogradWeights(g, r.stored, { folder: dir, graphFile: 'model.onnx', graphStamp: stamp }) };
    };
    const first = await store(built.model);
    const made = (await fs.stat(first.s.file)).mtimeMs;
    const again = await store(built.model);
    assert.deepEqual([first.s.made, again.s.made, again.s.file], [true, false, first.s.file]);
    assert.equal((await fs.stat(first.s.file)).mtimeMs, made, 'not written again');
    // Same graph, other weights (a model updated in place): its own file, the old one removed.
    const changed = twoConvs(8, 12, 4, true);
    await fs.writeFile(path.join(dir, 'weights.pb'), changed.external!);
    await fs.utimes(path.join(dir, 'weights.pb'), new Date(), new Date(Date.now() + 5000));
    const next = await store(changed.model);
    assert.equal(next.s.made, true);
    assert.notEqual(next.s.file, first.s.file);
    assert.deepEqual(await fs.readdir(path.join(dir, DERIVED_FOLDER)), [path.basename(next.s.file)]);
    const dims = [1, 8, 9, 9];
    const x = new WeightRandom(2).normals(dims.reduce((p, d) => p * d), 1);
    const err = relativeL2(await run(changed.model, dir, x, dims), await run(next.g.encode(), dir, x, dims));
    assert.ok(err < 1e-5, `relative L2 ${err.toExponential(2)}`);
  });

  it('is not made where it would leave the disk short of space: the caller folds instead', async () => {
    const built = twoConvs(8, 12, 3, true);
    const dir = await folder(built);
    const g = new OnnxGraph(built.model);
    const r = winogradConvolutions(g, { budgetBytes: 1e9, minChannels: 4, weights: 'stored' });
    await assert.rejects(
      storeWinogradWeights(g, r.stored, { folder: dir, graphFile: 'model.onnx', graphStamp: stamp, reserveBytes: Number.MAX_SAFE_INTEGER }),
      /GB free in .*: the Winograd weights \(0\.00 GB\) would leave less than/,
    );
    assert.deepEqual(await fs.readdir(path.join(dir, DERIVED_FOLDER)), []);
  });

  describe('through prepareGraph and ModelSession (the UNet plan: 320 channels)', () => {
    const dims = [1, 320, 12, 12];
    const x = () => new ort.Tensor('float32', new WeightRandom(6).normals(dims.reduce((p, d) => p * d), 1), dims);
    async function outputs(file: string) {
      const out: Float32Array[] = [];
      const notes: string[][] = [];
      for (const convolutions of ['unet', undefined] as const) {
        const s = await ModelSession.create(file, { provider: 'cpu', threads: 1, label: 'unet', convolutions });
        try {
          notes.push(s.notes);
          out.push((await s.run({ x: x() })).y.data as Float32Array);
        } finally {
          await s.dispose();
        }
      }
      return { notes: notes[0], err: relativeL2(out[1], out[0]) };
    }

    it('makes the file at the first load, maps it after, and makes it again if it was deleted', async () => {
      const dir = await folder(twoConvs(320, 320, 5, true));
      const file = path.join(dir, 'model.onnx');
      // The extension shows this as "preparing the model for this computer… 1/2".
      const told: [number, number][] = [];
      const preparing = (done: number, total: number) => told.push([done, total]);
      const first = await prepareGraph(file, 'cpu', { convolutions: 'unet', preparing });
      assert.ok(first?.storedWeights && (await fs.stat(first.storedWeights)).isFile());
      assert.match(first.notes.at(-1)!, /^Winograd weights mapped from \.course-illustrator/);
      assert.deepEqual(told, [[1, 2], [2, 2]]);
      assert.equal(await prepareGraph(file, 'cpu', { convolutions: 'unet', preparing }), first, 'kept for the next session');
      assert.equal(told.length, 2, 'nothing to prepare the second time');
      await fs.rm(path.join(dir, DERIVED_FOLDER), { recursive: true });
      const remade = await prepareGraph(file, 'cpu', { convolutions: 'unet' });
      assert.notEqual(remade, first);
      assert.ok((await fs.stat(remade!.storedWeights!)).isFile());
      const r = await outputs(file);
      assert.ok(r.err < 1e-5, `relative L2 ${r.err.toExponential(2)}`);
    });

    it('removes the files of plans this engine no longer makes (an older one\'s) once unused for two days; keeps every current plan\'s, one in use, and other files', async () => {
      // 320 → 320 (Winograd in every plan) and 320 → 256 (only the decoder's plans, from 256 channels): two plans, two files.
      const g = new GraphBuilder('convs');
      const rnd = new WeightRandom(12);
      const conv = (input: string, ci: number, co: number, out?: string) =>
        g.op('Conv', [input, g.weight('w', rnd.normals(co * ci * 9, 1 / Math.sqrt(ci * 9)), [co, ci, 3, 3])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, out);
      conv(conv(g.input('x', 'float32', ['batch', 320, 'height', 'width']), 320, 320), 320, 256, 'y');
      g.output('y', 'float32', ['batch', 256, 'height', 'width']);
      const dir = await folder(g.build('weights.pb'));
      const file = path.join(dir, 'model.onnx');
      const derived = path.join(dir, DERIVED_FOLDER);
      await fs.mkdir(derived);
      const days = (n: number) => new Date(Date.now() - n * 86400e3);
      // Another engine version's file, last used `age` days ago.
      const other = async (n: number, age: number) => {
        const name = `winograd-${'0123456789abcdef'.slice(n)}${'f'.repeat(n)}-0123456789abcdef.bin`;
        await fs.writeFile(path.join(derived, name), Buffer.alloc(1024));
        await fs.utimes(path.join(derived, name), days(age), days(age));
        return name;
      };
      await other(0, 3);
      const inUse = await other(2, 1);
      await fs.writeFile(path.join(derived, 'notes.txt'), 'a teacher\'s file');
      const decoder = await prepareGraph(file, 'cpu', { convolutions: 'vaeDecoder' });
      assert.match(decoder!.notes[0], /^2 convolutions by Winograd/);
      assert.deepEqual((await fs.readdir(derived)).sort(), [path.basename(decoder!.storedWeights!), inUse, 'notes.txt'].sort());
      await other(1, 3);
      // The decoder's file has not been loaded for three days: still one of this engine's plans.
      await fs.utimes(decoder!.storedWeights!, days(3), days(3));
      const unet = await prepareGraph(file, 'cpu', { convolutions: 'unet' });
      assert.match(unet!.notes[0], /^1 convolution by Winograd/);
      assert.notEqual(unet!.storedWeights, decoder!.storedWeights);
      assert.deepEqual((await fs.readdir(derived)).sort(), [path.basename(decoder!.storedWeights!), path.basename(unet!.storedWeights!), inUse, 'notes.txt'].sort());
      // A later load (another process: the file is found, not made) marks its file used, and
      // removes the other version's once that has gone unused for two days.
      await fs.utimes(unet!.storedWeights!, days(1), days(1));
      await fs.utimes(path.join(derived, inUse), days(2.5), days(2.5));
      const again = await preparedElsewhere(file, 'unet');
      assert.equal(again, unet!.storedWeights);
      assert.ok(Date.now() - (await fs.stat(unet!.storedWeights!)).mtimeMs < 60e3, 'marked used');
      assert.deepEqual((await fs.readdir(derived)).sort(), [path.basename(decoder!.storedWeights!), path.basename(unet!.storedWeights!), 'notes.txt'].sort());
    });

    it('folds them at each load when the model folder cannot take the file, and says why', async () => {
      const dir = await folder(twoConvs(320, 320, 7, true));
      // A file where the folder would go: mkdir fails as on a read-only folder, root or not.
      await fs.writeFile(path.join(dir, DERIVED_FOLDER), 'not a folder');
      const r = await outputs(path.join(dir, 'model.onnx'));
      assert.match(r.notes.at(-1)!, /^Winograd weights folded at each load \(.*\)$/);
      assert.equal(r.notes[0], '2 convolutions by Winograd (2 F(4x4), 0 F(2x2); weights 0.01 -> 0.03 GB when loaded)');
      assert.ok(r.err < 1e-5, `relative L2 ${r.err.toExponential(2)}`);
      assert.deepEqual((await fs.readdir(dir)).sort(), [DERIVED_FOLDER, 'model.onnx', 'weights.pb']);
    });

    it('leaves the convolutions as they are there instead, for a graph run in parts (sessions made every step)', async () => {
      const dir = await folder(twoConvs(320, 320, 7, true));
      await fs.writeFile(path.join(dir, DERIVED_FOLDER), 'not a folder');
      const file = path.join(dir, 'model.onnx');
      const parted = await prepareGraph(file, 'cpu', { convolutions: 'unet', foldAtLoad: false });
      assert.equal(parted?.notes.length, 1);
      assert.match(parted!.notes[0], /^no Winograd convolutions: their weights could not be stored \(.*\)$/);
      assert.deepEqual(new OnnxGraph(parted!.bytes as Uint8Array).nodes.map((n) => n.opType), ['Conv', 'Conv']);
      // The same file, loaded whole, still gets them (folded), from its own slot of the cache.
      const whole = await prepareGraph(file, 'cpu', { convolutions: 'unet' });
      assert.match(whole!.notes[0], /^2 convolutions by Winograd/);
    });
  });
});
