import * as assert from 'assert';
import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { courseIllustratorVersion, formatInfotext } from '../../../src/core/infotext';
import { aiLabelsFor, MEDICAL_LABEL } from '../../../src/engine/image/label';
import { listChunks, crc32 } from '../../../src/engine/image/pngChunks';
import { readPngInfo } from '../../../src/engine/image/readImageInfo';
import { outputPathFor, writeGeneratedPng } from '../../../src/engine/image/writeImage';
import { buildXmp, TEACHING_STATEMENT } from '../../../src/engine/image/xmp';

function gradient(width: number, height: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      rgb[i] = (x * 255) / (width - 1);
      rgb[i + 1] = (y * 255) / (height - 1);
      rgb[i + 2] = 200;
    }
  }
  return rgb;
}

const prompt = 'a labelled diagram of the heart, (anatomy:1.2), "textbook" style — ünïcode ✓';
const infotext = formatInfotext({
  prompt,
  negativePrompt: 'blurry, text',
  fields: [
    ['Steps', 20],
    ['Sampler', 'Euler a'],
    ['CFG scale', 7.5],
    ['Seed', 42],
    ['Size', '64x48'],
    ['Version', courseIllustratorVersion('0.1.0')],
  ],
});
const xmp = buildXmp({ prompt, version: '0.1.0', statement: TEACHING_STATEMENT });

describe('writeGeneratedPng / readPngInfo', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'ci-img-'));
  });
  afterEach(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('writes a PNG that sharp reads back pixel for pixel, with metadata our reader finds', async () => {
    const rgb = gradient(64, 48);
    const dest = path.join(dir, 'heart-42.png');
    const written = await writeGeneratedPng({ rgb, width: 64, height: 48, dest, infotext, xmp });
    assert.strictEqual(written, dest);

    const { data, info } = await sharp(dest).raw().toBuffer({ resolveWithObject: true });
    assert.deepStrictEqual([info.width, info.height, info.channels], [64, 48, 3]);
    assert.ok(Buffer.from(rgb).equals(data), 'pixels differ');

    const buf = await fsp.readFile(dest);
    const chunks = listChunks(buf);
    assert.ok(chunks.every((c) => c.crcOk), 'a chunk CRC is wrong');
    const types = chunks.map((c) => c.type);
    assert.ok(types.indexOf('iTXt') < types.indexOf('IDAT'), 'metadata must precede IDAT');
    // Prompt is not Latin-1 (✓), so the parameters chunk is iTXt.
    assert.ok(types.includes('iTXt'));

    const info2 = await readPngInfo(dest);
    assert.strictEqual(info2.width, 64);
    assert.strictEqual(info2.height, 48);
    assert.strictEqual(info2.parameters, infotext);
    assert.strictEqual(info2.prompt, prompt);
    assert.strictEqual(info2.negativePrompt, 'blurry, text');
    assert.strictEqual(info2.fields?.Seed, '42');
    assert.strictEqual(info2.fields?.['CFG scale'], '7.5');
    assert.strictEqual(info2.aiGenerated, true);
    assert.strictEqual(info2.madeByCourseIllustrator, true);

    // sharp (libvips/libpng) sees the same text.
    const meta = await sharp(dest).metadata();
    const comments = (meta as { comments?: { keyword: string; text: string }[] }).comments ?? [];
    assert.ok(comments.some((c) => c.keyword === 'parameters' && c.text === infotext), 'sharp did not read parameters');
    assert.ok(meta.xmp && meta.xmp.toString('utf8').includes('trainedAlgorithmicMedia'), 'sharp did not read the XMP');
  });

  it('uses a tEXt chunk for Latin-1 infotext', async () => {
    const text = formatInfotext({ prompt: 'café', fields: [['Steps', 1], ['Seed', 1], ['Size', '8x8']] });
    const dest = path.join(dir, 'a.png');
    await writeGeneratedPng({ rgb: gradient(8, 8), width: 8, height: 8, dest, infotext: text, xmp: '' });
    const chunks = listChunks(await fsp.readFile(dest));
    const t = chunks.find((c) => c.type === 'tEXt');
    assert.ok(t);
    assert.strictEqual(t.data.toString('latin1'), `parameters\0${text}`);
    const info = await readPngInfo(dest);
    assert.strictEqual(info.prompt, 'café');
    assert.strictEqual(info.aiGenerated, false);
    assert.strictEqual(info.madeByCourseIllustrator, false);
  });

  it('refuses to replace an existing file unless overwrite, and leaves no temp file', async () => {
    const dest = path.join(dir, 'x.png');
    await fsp.writeFile(dest, 'user data');
    await assert.rejects(
      writeGeneratedPng({ rgb: gradient(8, 8), width: 8, height: 8, dest, infotext, xmp }),
      (e: Error) => e.message.includes(dest) && e.message.includes('--overwrite'),
    );
    assert.strictEqual(await fsp.readFile(dest, 'utf8'), 'user data');
    await writeGeneratedPng({ rgb: gradient(8, 8), width: 8, height: 8, dest, infotext, xmp, overwrite: true });
    assert.strictEqual((await sharp(dest).metadata()).width, 8);
    assert.deepStrictEqual(await fsp.readdir(dir), ['x.png']);
  });

  it('names a missing folder in the error and writes nothing', async () => {
    const missing = path.join(dir, 'nope', 'deeper');
    await assert.rejects(
      writeGeneratedPng({ rgb: gradient(8, 8), width: 8, height: 8, dest: path.join(missing, 'a.png'), infotext, xmp }),
      (e: Error) => e.message.includes(missing) && /does not exist/.test(e.message),
    );
    assert.deepStrictEqual(await fsp.readdir(dir), []);
  });

  it('names an unwritable folder in the error', async function () {
    if (process.platform === 'win32' || process.getuid?.() === 0) this.skip();
    const ro = path.join(dir, 'ro');
    await fsp.mkdir(ro, { mode: 0o555 });
    await assert.rejects(
      writeGeneratedPng({ rgb: gradient(8, 8), width: 8, height: 8, dest: path.join(ro, 'a.png'), infotext, xmp }),
      (e: Error) => e.message.includes(ro) && /Cannot write/.test(e.message),
    );
    assert.deepStrictEqual(await fsp.readdir(ro), []);
  });

  it('explains a folder that is a file, and a destination that is a folder, leaving no temp file', async () => {
    const file = path.join(dir, 'file.txt');
    await fsp.writeFile(file, 'x');
    await assert.rejects(
      writeGeneratedPng({ rgb: gradient(8, 8), width: 8, height: 8, dest: path.join(file, 'a.png'), infotext, xmp }),
      (e: Error) => e.message.includes(file) && /not a folder/.test(e.message),
    );
    const sub = path.join(dir, 'sub.png');
    await fsp.mkdir(sub);
    await assert.rejects(
      writeGeneratedPng({ rgb: gradient(8, 8), width: 8, height: 8, dest: sub, infotext, xmp, overwrite: true }),
      (e: Error) => e.message.includes(sub) && /is a folder/.test(e.message),
    );
    assert.deepStrictEqual((await fsp.readdir(dir)).sort(), ['file.txt', 'sub.png']);
    assert.deepStrictEqual(await fsp.readdir(sub), []);
  });

  it('lets exactly one of two simultaneous writers take a name', async () => {
    const dest = path.join(dir, 'race.png');
    const results = await Promise.allSettled(
      [1, 2, 3].map((i) => writeGeneratedPng({ rgb: gradient(8, 8).fill(i), width: 8, height: 8, dest, infotext, xmp })),
    );
    assert.strictEqual(results.filter((r) => r.status === 'fulfilled').length, 1);
    assert.deepStrictEqual(await fsp.readdir(dir), ['race.png']);
  });

  it('rejects rgb of the wrong size before touching the disk', async () => {
    await assert.rejects(
      writeGeneratedPng({ rgb: new Uint8Array(10), width: 8, height: 8, dest: path.join(dir, 'a.png'), infotext, xmp }),
      /needs 192/,
    );
    assert.deepStrictEqual(await fsp.readdir(dir), []);
  });

  it('draws a visible label across the bottom only', async () => {
    const w = 256;
    const h = 192;
    const rgb = new Uint8Array(w * h * 3).fill(230);
    const plain = path.join(dir, 'plain.png');
    const labelled = path.join(dir, 'labelled.png');
    await writeGeneratedPng({ rgb, width: w, height: h, dest: plain, infotext, xmp });
    await writeGeneratedPng({ rgb, width: w, height: h, dest: labelled, infotext, xmp, label: MEDICAL_LABEL });
    const a = await sharp(plain).raw().toBuffer();
    const b = await sharp(labelled).raw().toBuffer();
    assert.strictEqual((await sharp(labelled).metadata()).height, h);
    const rowDiff = (y: number) => {
      let n = 0;
      for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) n += Math.abs(a[(y * w + x) * 3 + c] - b[(y * w + x) * 3 + c]);
      return n / (w * 3);
    };
    assert.strictEqual(rowDiff(0), 0, 'top row changed');
    assert.strictEqual(rowDiff(h / 2), 0, 'middle row changed');
    assert.ok(rowDiff(h - 2) > 100, 'bottom rows are not darkened');
    // White text pixels appear inside the strip.
    let bright = 0;
    for (let y = h - 20; y < h; y++) for (let x = 0; x < w; x++) if (b[(y * w + x) * 3] > 200) bright++;
    assert.ok(bright > 50, `expected label text pixels, found ${bright}`);
    assert.strictEqual((await readPngInfo(labelled)).parameters, infotext);
    // The Chinese label fits the same strip (its characters are wider) and is drawn.
    const zh = path.join(dir, 'labelled-zh.png');
    await writeGeneratedPng({ rgb, width: w, height: h, dest: zh, infotext, xmp, label: aiLabelsFor('medical', 'zh').label });
    const c = await sharp(zh).raw().toBuffer();
    let changed = 0;
    for (let i = (h - 20) * w * 3; i < c.length; i++) if (c[i] !== a[i]) changed++;
    assert.ok(changed > 1000, `the strip is drawn for the Chinese label (${changed} values changed)`);
  });

  it('outputPathFor picks the next free name in the folder', async () => {
    const first = outputPathFor(dir, 'A cat, sitting', 7);
    assert.strictEqual(first, path.join(dir, 'a-cat-sitting-7.png'));
    await fsp.writeFile(first, '');
    assert.strictEqual(outputPathFor(dir, 'A cat, sitting', 7), path.join(dir, 'a-cat-sitting-7-2.png'));
  });

  it('readPngInfo says clearly when a file is not a PNG', async () => {
    const f = path.join(dir, 'notes.png');
    await fsp.writeFile(f, 'hello, not an image');
    await assert.rejects(readPngInfo(f), (e: Error) => e.message.includes(f) && /not a PNG/.test(e.message));
    await assert.rejects(readPngInfo(path.join(dir, 'missing.png')), /does not exist/);
  });

  it('crc32 matches the table implementation and a known value', () => {
    const data = Buffer.from('IEND', 'latin1');
    assert.strictEqual(crc32(data), 0xae426082);
    assert.strictEqual(crc32(data, true), 0xae426082);
  });
});

describe('aiLabelsFor', () => {
  it('labels medical images visibly (in the document\'s language), "not for diagnosis" in XMP and the parameters; teaching images in XMP', () => {
    const medical = { statement: 'AI-generated teaching material, not for diagnosis', infotext: { 'AI label': 'AI-generated teaching image, not for diagnosis' } };
    assert.deepStrictEqual(aiLabelsFor('medical'), { label: MEDICAL_LABEL, ...medical });
    assert.deepStrictEqual(aiLabelsFor('medical', 'zh'), { label: 'AI生成教学图像——不可用于诊断\nAI-generated teaching image — not for diagnosis', ...medical });
    assert.deepStrictEqual(aiLabelsFor('education'), { statement: TEACHING_STATEMENT });
    assert.deepStrictEqual(aiLabelsFor('general'), {});
    assert.deepStrictEqual(aiLabelsFor(undefined), {});
  });
});
