// JPEG and WebP containers: the EXIF block goes where readers look for it and the files still
// decode; the metadata readers find it again, and hostile files (a FIFO, lying lengths, a
// sparse 10 GB file, endless segments) end quickly with what could be read.

import * as assert from 'assert';
import { execFileSync } from 'child_process';
import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { bufferSource, fileSource } from '../../../src/engine/image/byteSource';
import { buildUserCommentExif, readUserComment } from '../../../src/engine/image/exif';
import { insertJpegExif, readJpegMetadata } from '../../../src/engine/image/jpegMeta';
import { readImageInfo } from '../../../src/engine/image/readImageInfo';
import { insertWebpExif, readWebpMetadata } from '../../../src/engine/image/webpMeta';

const posixOnly = process.platform === 'win32';
const TEXT = 'a plant cell 植物细胞\nSteps: 4, Seed: 7, Size: 24x16';

function segment(marker: number, data: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(0xff00 | marker, 0);
  head.writeUInt16BE(data.length + 2, 2);
  return Buffer.concat([head, data]);
}

function markers(jpeg: Buffer): string[] {
  const out: string[] = [];
  let pos = 2;
  while (jpeg[pos] === 0xff && jpeg[pos + 1] !== 0xda) {
    const tag = jpeg.toString('latin1', pos + 4, pos + 8);
    out.push(`${jpeg[pos + 1].toString(16)}:${tag.replace(/[^A-Za-z]/g, '')}`);
    pos += 2 + jpeg.readUInt16BE(pos + 2);
  }
  return out;
}

async function timed<T>(what: string, f: () => Promise<T>): Promise<T> {
  const t = performance.now();
  try {
    return await f();
  } finally {
    console.log(`      ${what}: ${(performance.now() - t).toFixed(1)} ms`);
  }
}

describe('JPEG and WebP metadata', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'ci-containers-'));
  });
  afterEach(async () => fsp.rm(dir, { recursive: true, force: true }));

  it('puts the Exif segment after a JFIF APP0, replaces an old one, and the JPEG still decodes', async () => {
    const plain = await sharp({ create: { width: 24, height: 16, channels: 3, background: '#3a6' } }).jpeg().toBuffer();
    const jfif = segment(0xe0, Buffer.from('JFIF\0\x01\x01\0\0\x01\0\x01\0\0', 'latin1'));
    const old = segment(0xe1, Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), buildUserCommentExif('old')]));
    // Fill bytes before a marker, and a comment: both allowed, both skipped.
    const input = Buffer.concat([plain.subarray(0, 2), jfif, old, Buffer.from([0xff]), segment(0xfe, Buffer.from('comment')), plain.subarray(2)]);
    const out = insertJpegExif(input, buildUserCommentExif(TEXT));
    assert.deepEqual(markers(out).slice(0, 2), ['e0:JFIF', 'e1:Exif']);
    assert.equal(markers(out).filter((m) => m === 'e1:Exif').length, 1);
    const meta = await readJpegMetadata(bufferSource(out));
    assert.deepEqual([meta.width, meta.height], [24, 16]);
    assert.equal(readUserComment(meta.exif!), TEXT);
    assert.equal((await sharp(out).metadata()).width, 24);
  });

  it('gives a simple-format WebP a VP8X header with the size and the EXIF (and alpha) flags', async () => {
    const lossy = await sharp({ create: { width: 24, height: 16, channels: 3, background: '#3a6' } }).webp().toBuffer();
    const lossless = await sharp({ create: { width: 5, height: 300, channels: 4, background: { r: 1, g: 2, b: 3, alpha: 0.5 } } }).webp({ lossless: true }).toBuffer();
    for (const [input, w, h, alpha] of [[lossy, 24, 16, false], [lossless, 5, 300, true]] as const) {
      assert.notEqual(input.toString('latin1', 12, 16), 'VP8X');
      const out = insertWebpExif(input, buildUserCommentExif(TEXT));
      assert.equal(out.toString('latin1', 12, 16), 'VP8X');
      assert.equal(out[20] & 0x08, 0x08, 'EXIF flag');
      assert.equal((out[20] & 0x10) !== 0, alpha, 'alpha flag');
      assert.equal(out.readUInt32LE(4), out.length - 8);
      const meta = await readWebpMetadata(bufferSource(out));
      assert.deepEqual([meta.width, meta.height], [w, h]);
      assert.equal(readUserComment(meta.exif!), TEXT);
      const seen = await sharp(out).metadata();
      assert.deepEqual([seen.width, seen.height, seen.hasAlpha], [w, h, alpha]);
      assert.equal(readUserComment(seen.exif!), TEXT);
    }
  });

  it('reads a budget of bytes at most from a file, whatever is asked', async () => {
    const f = path.join(dir, 'data.bin');
    await fsp.writeFile(f, Buffer.alloc(300_000, 1));
    const handle = await fsp.open(f, 'r');
    try {
      const src = fileSource(handle, 300_000, 100_000);
      assert.equal((await src.read(0, 10)).length, 10);
      assert.equal((await src.read(10, 90_000)).length, 90_000);
      assert.equal((await src.read(200_000, 20_000)).length, 100_000 - 90_000 - 4096, 'cut at the budget');
      assert.equal((await src.read(250_000, 10)).length, 0, 'budget spent');
      assert.equal((await src.read(0, 4)).length, 0, 'budget spent');
    } finally {
      await handle.close();
    }
  });

  it('refuses a FIFO named .jpg without waiting', async function () {
    if (posixOnly) this.skip();
    const fifo = path.join(dir, 'fifo.jpg');
    execFileSync('mkfifo', [fifo]);
    await timed('info, FIFO named fifo.jpg', () => assert.rejects(readImageInfo(fifo), /not a regular file/));
  });

  it('skips a WebP image chunk that claims 4 GB in a sparse 10 GB file', async () => {
    const f = path.join(dir, 'huge.webp');
    const head = Buffer.alloc(20);
    head.write('RIFF', 0, 'latin1');
    head.writeUInt32LE(0xfffffff0, 4);
    head.write('WEBPVP8 ', 8, 'latin1');
    head.writeUInt32LE(0xffffffe0, 16);
    await fsp.writeFile(f, head);
    await fsp.truncate(f, 10 * 1024 ** 3);
    const info = await timed('info, 10 GB WebP', () => readImageInfo(f));
    assert.equal(info.parameters, undefined);
  });

  it('stops at a JPEG with endless segments, and at one whose Exif lies past the budget', async () => {
    const many = path.join(dir, 'many.jpg');
    const com = segment(0xfe, Buffer.alloc(0));
    await fsp.writeFile(many, Buffer.concat([Buffer.from([0xff, 0xd8]), ...Array.from({ length: 200_000 }, () => com)]));
    assert.equal((await timed('info, 200000 empty segments', () => readImageInfo(many))).parameters, undefined);

    const far = path.join(dir, 'far.jpg');
    const filler = segment(0xe2, Buffer.alloc(65_000));
    const exif = segment(0xe1, Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), buildUserCommentExif(TEXT)]));
    await fsp.writeFile(far, Buffer.concat([Buffer.from([0xff, 0xd8]), ...Array.from({ length: 200 }, () => filler), exif]));
    // 13 MB of segments before the Exif, more than the 8 MiB budget: found because they are skipped.
    assert.equal((await timed('info, Exif after 13 MB', () => readImageInfo(far))).parameters, TEXT);
  });
});
