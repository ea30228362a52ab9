// PNG files anyone can put in a workspace, and output folders that are symbolic links: each
// fixture is made here, and each read must end quickly with a result or a clear message.
// Timings are printed, not asserted.

import * as assert from 'assert';
import { execFileSync } from 'child_process';
import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { encodeChunk, MAX_TEXT_BYTES, PNG_SIGNATURE, readTextChunks } from '../../../src/engine/image/pngChunks';
import { METADATA_CAP, readPngMetadataPrefix } from '../../../src/engine/image/pngFile';
import { readPngInfo } from '../../../src/engine/image/readImageInfo';
import { makeThumbnail } from '../../../src/engine/image/thumbnail';
import { writeGeneratedPng } from '../../../src/engine/image/writeImage';

const posixOnly = process.platform === 'win32';

function ihdr(width: number, height: number): Buffer {
  const d = Buffer.alloc(13);
  d.writeUInt32BE(width, 0);
  d.writeUInt32BE(height, 4);
  d[8] = 8; // bit depth
  d[9] = 2; // RGB
  return encodeChunk('IHDR', d);
}

/** A PNG of the declared size with `chunks` before a one-row IDAT (not a decodable image). */
function png(width: number, height: number, chunks: Buffer[]): Buffer {
  return Buffer.concat([PNG_SIGNATURE, ihdr(width, height), ...chunks, encodeChunk('IDAT', zlib.deflateSync(Buffer.alloc(4))), encodeChunk('IEND', Buffer.alloc(0))]);
}

function zTXt(keyword: string, text: Buffer): Buffer {
  return encodeChunk('zTXt', Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0, 0]), zlib.deflateSync(text, { level: 9 })]));
}

async function timed<T>(what: string, f: () => Promise<T>): Promise<T> {
  const t = performance.now();
  const rss = process.memoryUsage().rss;
  try {
    return await f();
  } finally {
    const grew = (process.memoryUsage().rss - rss) / (1024 * 1024);
    console.log(`      ${what}: ${(performance.now() - t).toFixed(1)} ms, RSS ${grew >= 0 ? '+' : ''}${grew.toFixed(1)} MB`);
  }
}

describe('hostile PNG files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'ci-hostile-'));
  });
  afterEach(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('reads a 1 KB zTXt whose infotext is one 1 MB line with many ":" and "," (it used to stall for minutes)', async () => {
    const line = 'Steps: 1, Seed: 2, Size: 3, ' + 'ab:"x,'.repeat(40_000) + 'a'.repeat(700_000);
    const f = path.join(dir, 'long-line.png');
    const chunk = zTXt('parameters', Buffer.from(`prompt\n${line}`, 'latin1'));
    await fsp.writeFile(f, png(64, 64, [chunk]));
    console.log(`      (zTXt chunk ${chunk.length} bytes, text ${line.length} characters)`);
    const info = await timed('info, long infotext line', () => readPngInfo(f));
    assert.strictEqual(info.prompt, 'prompt');
    assert.strictEqual(info.fields?.Steps, '1');
  });

  it('skips a zTXt / iTXt bomb (20 KB inflating to 20 MiB) instead of inflating it', async () => {
    const bomb = Buffer.alloc(20 * 1024 * 1024, 0x61);
    const z = zTXt('parameters', bomb);
    const itxt = encodeChunk('iTXt', Buffer.concat([Buffer.from('XML:com.adobe.xmp\0\x01\x00\0\0', 'latin1'), zlib.deflateSync(bomb, { level: 9 })]));
    console.log(`      (zTXt ${z.length} bytes, iTXt ${itxt.length} bytes, each inflating to ${bomb.length} bytes)`);
    const f = path.join(dir, 'bomb.png');
    await fsp.writeFile(f, png(64, 64, [z, itxt, zTXt('Comment', Buffer.from('kept'))]));
    const info = await timed('info, zTXt + iTXt bombs', () => readPngInfo(f));
    assert.strictEqual(info.parameters, undefined);
    assert.strictEqual(info.aiGenerated, false);
    assert.deepStrictEqual(readTextChunks(await fsp.readFile(f)).map((t) => t.keyword), ['Comment']);
    // Just under the cap is still read.
    const ok = path.join(dir, 'ok.png');
    await fsp.writeFile(ok, png(8, 8, [zTXt('parameters', Buffer.alloc(MAX_TEXT_BYTES, 0x61))]));
    assert.strictEqual((await readPngInfo(ok)).parameters?.length, MAX_TEXT_BYTES);
  });

  it('refuses x.png linked to /dev/zero, and a FIFO, without reading', async function () {
    if (posixOnly) this.skip();
    const link = path.join(dir, 'x.png');
    await fsp.symlink('/dev/zero', link);
    await timed('info, x.png -> /dev/zero', () => assert.rejects(readPngInfo(link), (e: Error) => e.message.includes(link) && /not a regular file/.test(e.message)));
    await assert.rejects(makeThumbnail(link, path.join(dir, 't.webp'), 64), /not a regular file/);
    await assert.rejects(readPngMetadataPrefix(link), /not a regular file/);
    const fifo = path.join(dir, 'fifo.png');
    try {
      execFileSync('mkfifo', [fifo]);
    } catch {
      return; // no mkfifo here
    }
    await timed('info, FIFO named fifo.png', () => assert.rejects(readPngInfo(fifo), /not a regular file/));
  });

  it('reads only the first bytes of a 10 GB sparse file', async function () {
    if (posixOnly) this.skip();
    const GB10 = 10 * 1024 ** 3;
    const sparse = async (name: string, head: Buffer) => {
      const f = path.join(dir, name);
      await fsp.writeFile(f, head);
      await fsp.truncate(f, GB10);
      return f;
    };
    // All zeros: not a PNG.
    const zeros = await sparse('zeros.png', Buffer.alloc(0));
    await timed('info, 10 GB of zeros', () => assert.rejects(readPngInfo(zeros), /not a PNG file/));
    // A PNG whose text chunk claims 2 GB: the chunk is not read, the size is still known.
    const huge = Buffer.alloc(8);
    huge.writeUInt32BE(0x7ffffff0, 0);
    huge.write('tEXt', 4, 'latin1');
    const claim = await sparse('claims-2gb.png', Buffer.concat([PNG_SIGNATURE, ihdr(640, 480), huge]));
    const info = await timed('info, 10 GB file with a 2 GB tEXt', () => readPngInfo(claim));
    assert.deepStrictEqual([info.width, info.height, info.parameters], [640, 480, undefined]);
    const prefix = await readPngMetadataPrefix(claim);
    assert.ok(prefix.truncated && prefix.data.length <= METADATA_CAP, `read ${prefix.data.length} bytes`);
    // Text chunks, then IDAT, then gigabytes: reading stops at IDAT.
    const tail = await sparse('tail.png', png(640, 480, [zTXt('parameters', Buffer.from('a cat\nSteps: 1, Seed: 2, Size: 640x480'))]));
    const t = await timed('info, PNG followed by 10 GB', () => readPngInfo(tail));
    assert.strictEqual(t.prompt, 'a cat');
    assert.ok((await readPngMetadataPrefix(tail)).data.length <= 64 * 1024);
    await timed('thumbnail, 10 GB file', () => assert.rejects(makeThumbnail(tail, path.join(dir, 't.webp'), 64), /images over 128 MB are not decoded/));
  });

  it('reports a PNG declaring 100000x100000 and refuses to decode it', async () => {
    const f = path.join(dir, 'huge.png');
    await fsp.writeFile(f, png(100_000, 100_000, []));
    const info = await timed('info, 100000x100000', () => readPngInfo(f));
    assert.deepStrictEqual([info.width, info.height], [100_000, 100_000]);
    await timed('thumbnail, 100000x100000', () =>
      assert.rejects(makeThumbnail(f, path.join(dir, 't.webp'), 64), (e: Error) => /declares 100000x100000 pixels; images over 8192 pixels a side/.test(e.message)),
    );
    await fsp.writeFile(f, png(9000, 100, []));
    await assert.rejects(makeThumbnail(f, path.join(dir, 't.webp'), 64), /declares 9000x100/);
    assert.deepStrictEqual((await fsp.readdir(dir)).sort(), ['huge.png']);
  });
});

describe('writing through symbolic links', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'ci-linkout-'));
  });
  afterEach(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('refuses an output folder that is a symbolic link (absolute or relative) and writes nothing there', async function () {
    if (posixOnly) this.skip();
    const outside = path.join(dir, 'outside');
    const ws = path.join(dir, 'ws');
    await fsp.mkdir(outside);
    await fsp.mkdir(ws);
    await fsp.symlink(outside, path.join(ws, 'abs'));
    await fsp.symlink('../outside', path.join(ws, 'rel'));
    const rgb = new Uint8Array(8 * 8 * 3);
    for (const link of ['abs', 'rel']) {
      const dest = path.join(ws, link, 'a.png');
      await assert.rejects(writeGeneratedPng({ rgb, width: 8, height: 8, dest, infotext: 'p', xmp: '' }), (e: Error) => {
        assert.match(e.message, new RegExp(`The output folder ${path.join(ws, link).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is a symbolic link to ${outside.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
        assert.match(e.message, /courseIllustrator\.imageFolder/);
        return true;
      });
    }
    assert.deepStrictEqual(await fsp.readdir(outside), []);
    // A real folder is fine.
    await writeGeneratedPng({ rgb, width: 8, height: 8, dest: path.join(ws, 'a.png'), infotext: 'p', xmp: '' });
  });
});
