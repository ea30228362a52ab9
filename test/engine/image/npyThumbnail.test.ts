import * as assert from 'assert';
import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { encodeNpy, readNpy, writeNpy } from '../../../src/engine/image/npy';
import { makeThumbnail } from '../../../src/engine/image/thumbnail';

describe('npy', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'ci-npy-'));
  });
  afterEach(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('writes NumPy 1.0 float32 C-order files that read back exactly', async () => {
    const data = new Float32Array(1 * 4 * 3 * 5).map((_, i) => Math.fround(Math.sin(i) * 3.7));
    const f = path.join(dir, 'latents.npy');
    await writeNpy(f, data, [1, 4, 3, 5]);
    const buf = await fsp.readFile(f);
    assert.strictEqual(buf.subarray(0, 8).toString('latin1'), '\x93NUMPY\x01\x00');
    const headerLen = buf.readUInt16LE(8);
    assert.strictEqual((10 + headerLen) % 64, 0);
    assert.strictEqual(
      buf.toString('latin1', 10, 10 + headerLen).trimEnd(),
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 4, 3, 5), }",
    );
    const back = await readNpy(f);
    assert.deepStrictEqual(back.shape, [1, 4, 3, 5]);
    assert.deepStrictEqual([...back.data], [...data]);
    assert.deepStrictEqual(await fsp.readdir(dir), ['latents.npy']);
  });

  it('writes a 1-D shape as a Python 1-tuple and refuses to replace a file unless asked', async () => {
    assert.ok(encodeNpy(new Float32Array(3), [3]).toString('latin1').includes("'shape': (3,)"));
    const f = path.join(dir, 'a.npy');
    await writeNpy(f, new Float32Array(3), [3]);
    await assert.rejects(writeNpy(f, new Float32Array(3), [3]), /already exists/);
    await writeNpy(f, new Float32Array([1, 2]), [2], true);
    assert.deepStrictEqual([...(await readNpy(f)).data], [1, 2]);
  });

  it('rejects a shape that does not match the data', () => {
    assert.throws(() => encodeNpy(new Float32Array(5), [2, 2]), /holds 4 values/);
  });
});

describe('makeThumbnail', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'ci-thumb-'));
  });
  afterEach(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('fits the image in the box, keeps the aspect, writes webp or png', async () => {
    const src = path.join(dir, 'img.png');
    await sharp({ create: { width: 300, height: 200, channels: 3, background: '#336699' } }).png().toFile(src);
    const t = await makeThumbnail(src, path.join(dir, 'thumb.webp'), 96);
    assert.deepStrictEqual([t.width, t.height], [96, 64]);
    const meta = await sharp(t.path).metadata();
    assert.deepStrictEqual([meta.format, meta.width, meta.height], ['webp', 96, 64]);
    const p = await makeThumbnail(src, path.join(dir, 'thumb.png'), 500);
    assert.deepStrictEqual([p.width, p.height], [300, 200], 'never enlarged');
    assert.strictEqual((await sharp(p.path).metadata()).format, 'png');
    // Replacing our own thumbnail is fine.
    await makeThumbnail(src, path.join(dir, 'thumb.png'), 50);
    assert.strictEqual((await sharp(path.join(dir, 'thumb.png')).metadata()).width, 50);
    assert.deepStrictEqual((await fsp.readdir(dir)).sort(), ['img.png', 'thumb.png', 'thumb.webp']);
  });

  it('names the source when it is not an image', async () => {
    const src = path.join(dir, 'bad.png');
    await fsp.writeFile(src, 'nope');
    await assert.rejects(makeThumbnail(src, path.join(dir, 't.webp'), 64), (e: Error) => e.message.includes(src));
    assert.deepStrictEqual(await fsp.readdir(dir), ['bad.png']);
  });
});
