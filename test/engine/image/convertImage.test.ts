// engine/convert on real files: a medical PNG written by writeGeneratedPng, converted by sharp to
// JPEG and WebP, then read back three ways: by the decoder below (written from the Exif spec and
// piexif's reading code, sharing nothing with src/), by sharp's own metadata, and by engine/info.

import * as assert from 'assert';
import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { courseIllustratorVersion, formatInfotext } from '../../../src/core/infotext';
import { convertImage, JPEG_MAX_PARAMETERS } from '../../../src/engine/image/convertImage';
import { aiLabelsFor } from '../../../src/engine/image/label';
import { readImageInfo } from '../../../src/engine/image/readImageInfo';
import { writeGeneratedPng } from '../../../src/engine/image/writeImage';
import { buildXmp, MEDICAL_STATEMENT } from '../../../src/engine/image/xmp';

const W = 96;
const H = 128;

function gradient(): Uint8Array {
  const rgb = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) {
    rgb[i * 3] = (i % W) * 2;
    rgb[i * 3 + 1] = Math.floor(i / W) * 2;
    rgb[i * 3 + 2] = 180;
  }
  return rgb;
}

const prompt = 'cross-section of the human heart 心脏解剖图, (labelled:1.2), textbook ✓ 𝄞';
const labels = aiLabelsFor('medical', 'en');
const infotext = formatInfotext({
  prompt,
  negativePrompt: 'blurry, 文字',
  fields: [['Steps', 20], ['Sampler', 'Euler a'], ['CFG scale', 7.5], ['Seed', 42], ['Size', `${W}x${H}`], ...Object.entries(labels.infotext ?? {}), ['Version', courseIllustratorVersion('0.1.0')]],
});

// ---- An independent reader: the JPEG APP1 "Exif" segment, the TIFF IFDs, UserComment as
// piexif.helper.UserComment.load decodes it (the prefix names the code; UNICODE is UTF-16BE). ----

function jpegExifSegment(jpeg: Buffer): Buffer | undefined {
  let pos = 2;
  while (pos + 4 <= jpeg.length && jpeg[pos] === 0xff && jpeg[pos + 1] !== 0xda) {
    const len = jpeg.readUInt16BE(pos + 2);
    const data = jpeg.subarray(pos + 4, pos + 2 + len);
    if (jpeg[pos + 1] === 0xe1 && data.toString('latin1', 0, 6) === 'Exif\0\0') return data.subarray(6);
    pos += 2 + len;
  }
  return undefined;
}

function rawUserComment(tiff: Buffer): { order: string; type: number; value: Buffer } {
  const order = tiff.toString('latin1', 0, 2);
  const be = order === 'MM';
  const u16 = (o: number) => (be ? tiff.readUInt16BE(o) : tiff.readUInt16LE(o));
  const u32 = (o: number) => (be ? tiff.readUInt32BE(o) : tiff.readUInt32LE(o));
  assert.equal(u16(2), 42, 'TIFF magic');
  const entries = (ifd: number) => Array.from({ length: u16(ifd) }, (_, i) => {
    const e = ifd + 2 + i * 12;
    return { tag: u16(e), type: u16(e + 2), count: u32(e + 4), field: e + 8 };
  });
  const pointer = entries(u32(4)).find((e) => e.tag === 0x8769);
  assert.ok(pointer, 'IFD0 has no Exif IFD pointer');
  const comment = entries(u32(pointer.field)).find((e) => e.tag === 0x9286);
  assert.ok(comment, 'the Exif IFD has no UserComment');
  const at = comment.count > 4 ? u32(comment.field) : comment.field;
  return { order, type: comment.type, value: tiff.subarray(at, at + comment.count) };
}

/** What A1111's read_info_from_image gets: piexif UserComment.load, UNICODE -> utf_16_be. */
function a1111UserComment(tiff: Buffer): string {
  const { value } = rawUserComment(tiff);
  assert.equal(value.toString('latin1', 0, 8), 'UNICODE\0');
  return Buffer.from(value.subarray(8)).swap16().toString('utf16le');
}

describe('convertImage (engine/convert)', () => {
  let dir: string;
  let png: string;
  before(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'ci-convert-'));
    png = await writeGeneratedPng({
      rgb: gradient(), width: W, height: H, dest: path.join(dir, 'heart-42.png'), infotext,
      xmp: buildXmp({ prompt, version: '0.1.0', statement: labels.statement }), label: labels.label,
    });
  });
  after(async () => fsp.rm(dir, { recursive: true, force: true }));

  it('writes a JPEG whose EXIF UserComment is the infotext as A1111 writes it, and the XMP label', async () => {
    const dest = path.join(dir, 'heart.jpg');
    const r = await convertImage({ source: png, dest, format: 'jpeg' });
    const buf = await fsp.readFile(dest);
    assert.deepEqual(r, { path: dest, bytes: buf.length, format: 'jpeg', width: W, height: H });

    const tiff = jpegExifSegment(buf);
    assert.ok(tiff, 'no APP1 Exif segment');
    const raw = rawUserComment(tiff);
    assert.equal(raw.order, 'MM', 'piexif.dump writes a big-endian block');
    assert.equal(raw.type, 7, 'UserComment is UNDEFINED');
    assert.equal(a1111UserComment(tiff), infotext);

    // sharp (libvips/libexif) finds the same block and our XMP packet.
    const meta = await sharp(dest).metadata();
    assert.equal(meta.format, 'jpeg');
    assert.equal(meta.channels, 3);
    assert.ok(meta.exif);
    assert.equal(a1111UserComment(meta.exif.subarray(6)), infotext);
    const xmp = meta.xmp?.toString('utf8') ?? '';
    assert.match(xmp, /trainedAlgorithmicMedia/);
    assert.match(xmp, /not for diagnosis/);
  });

  it('writes a WebP with the same EXIF block (no "Exif" header, as piexif.insert does) and XMP', async () => {
    const dest = path.join(dir, 'heart.webp');
    const r = await convertImage({ source: png, dest, format: 'webp' });
    const buf = await fsp.readFile(dest);
    assert.equal(r.bytes, buf.length);
    assert.equal(buf.readUInt32LE(4), buf.length - 8, 'RIFF size');
    const meta = await sharp(dest).metadata();
    assert.equal(meta.format, 'webp');
    assert.ok(meta.exif);
    const tiff = meta.exif.toString('latin1', 0, 6) === 'Exif\0\0' ? meta.exif.subarray(6) : meta.exif;
    assert.equal(a1111UserComment(tiff), infotext);
    const xmp = meta.xmp?.toString('utf8') ?? '';
    assert.match(xmp, /trainedAlgorithmicMedia/);
    assert.match(xmp, /not for diagnosis/);
    assert.ok(xmp.includes(MEDICAL_STATEMENT));
  });

  it('engine/info reads the same parameters and label from the JPEG and the WebP as from the PNG', async () => {
    const fromPng = await readImageInfo(png);
    assert.equal(fromPng.parameters, infotext);
    for (const file of [path.join(dir, 'heart.jpg'), path.join(dir, 'heart.webp')]) {
      const info = await readImageInfo(file);
      assert.deepEqual({ ...info, path: fromPng.path }, fromPng, file);
      assert.equal(info.prompt, prompt);
      assert.equal(info.aiGenerated, true);
      assert.equal(info.madeByCourseIllustrator, true);
    }
  });

  it('keeps the visible medical label: the pixels are the same, exactly for lossless WebP', async () => {
    const original = await sharp(png).raw().toBuffer();
    const strip = (buf: Uint8Array) => buf.subarray((H - 16) * W * 3);
    assert.ok(!Buffer.from(strip(gradient())).equals(strip(original)), 'the PNG has no label strip to keep');
    const dest = path.join(dir, 'lossless.webp');
    await convertImage({ source: png, dest, format: 'webp', lossless: true });
    assert.ok((await sharp(dest).removeAlpha().raw().toBuffer()).equals(original), 'lossless WebP pixels differ');
    // JPEG at quality 90: close everywhere, the label strip at the bottom included.
    const jpeg = await sharp(path.join(dir, 'heart.jpg')).raw().toBuffer();
    let diff = 0;
    strip(jpeg).forEach((v, i) => (diff += Math.abs(v - strip(original)[i])));
    assert.ok(diff / strip(jpeg).length < 6, `label strip differs by ${diff / strip(jpeg).length} per channel`);
  });

  it('converts a JPEG of ours back to PNG with the parameters chunk and XMP', async () => {
    const dest = path.join(dir, 'back.png');
    await convertImage({ source: path.join(dir, 'heart.jpg'), dest, format: 'png' });
    const info = await readImageInfo(dest);
    assert.equal(info.parameters, infotext);
    assert.equal(info.aiGenerated, true);
  });

  it('lays transparent pixels on white for JPEG', async () => {
    const rgba = path.join(dir, 'clear.png');
    await sharp({ create: { width: 8, height: 8, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toFile(rgba);
    await convertImage({ source: rgba, dest: path.join(dir, 'clear.jpg'), format: 'jpeg' });
    const { data, info } = await sharp(path.join(dir, 'clear.jpg')).raw().toBuffer({ resolveWithObject: true });
    assert.equal(info.channels, 3);
    assert.ok(data.every((v) => v >= 250), 'not white');
  });

  it('never replaces a file unless asked, and leaves no temp file', async () => {
    const dest = path.join(dir, 'taken.jpg');
    await fsp.writeFile(dest, 'user data');
    await assert.rejects(convertImage({ source: png, dest, format: 'jpeg' }), (e: Error & { kind?: string }) => e.kind === 'outputError' && e.message.includes(dest) && /already exists/.test(e.message));
    assert.equal(await fsp.readFile(dest, 'utf8'), 'user data');
    await convertImage({ source: png, dest, format: 'jpeg', overwrite: true });
    assert.equal((await sharp(dest).metadata()).format, 'jpeg');
    assert.deepEqual((await fsp.readdir(dir)).filter((f) => f.endsWith('.tmp')), []);
  });

  it('refuses a destination outside confineTo, through a linked folder too', async () => {
    const root = path.join(dir, 'course');
    const outside = path.join(dir, 'elsewhere');
    await fsp.mkdir(root);
    await fsp.mkdir(outside);
    await assert.rejects(convertImage({ source: png, dest: path.join(outside, 'a.jpg'), format: 'jpeg', confineTo: root }), (e: Error & { kind?: string }) => e.kind === 'outputError' && /outside/.test(e.message));
    await fsp.symlink(outside, path.join(root, 'link'));
    await assert.rejects(convertImage({ source: png, dest: path.join(root, 'link', 'sub', '..', 'b.jpg'), format: 'jpeg', confineTo: root }), /outside|symbolic link/);
    assert.deepEqual(await fsp.readdir(outside), []);
    const inside = await convertImage({ source: png, dest: path.join(root, 'ok.webp'), format: 'webp', confineTo: root });
    assert.equal(inside.path, path.join(root, 'ok.webp'));
  });

  it('says what is wrong with the source, and writes nothing', async () => {
    const text = path.join(dir, 'notes.png');
    await fsp.writeFile(text, 'not an image');
    await assert.rejects(convertImage({ source: text, dest: path.join(dir, 'n.jpg'), format: 'jpeg' }), (e: Error & { kind?: string }) => e.kind === 'badInput' && /not a PNG, JPEG or WebP/.test(e.message));
    await assert.rejects(convertImage({ source: path.join(dir, 'missing.png'), dest: path.join(dir, 'm.jpg'), format: 'jpeg' }), /does not exist/);
    assert.ok(!(await fsp.readdir(dir)).some((f) => f === 'n.jpg' || f === 'm.jpg'));
  });

  it('refuses parameters too long for a JPEG segment, naming PNG or WebP', async () => {
    const long = await writeGeneratedPng({ rgb: gradient(), width: W, height: H, dest: path.join(dir, 'long.png'), infotext: 'x'.repeat(JPEG_MAX_PARAMETERS + 1), xmp: '' });
    await assert.rejects(convertImage({ source: long, dest: path.join(dir, 'long.jpg'), format: 'jpeg' }), /PNG or WebP/);
    const fits = await writeGeneratedPng({ rgb: gradient(), width: W, height: H, dest: path.join(dir, 'fits.png'), infotext: 'y'.repeat(JPEG_MAX_PARAMETERS), xmp: '' });
    await convertImage({ source: fits, dest: path.join(dir, 'fits.jpg'), format: 'jpeg' });
    assert.equal((await readImageInfo(path.join(dir, 'fits.jpg'))).parameters?.length, JPEG_MAX_PARAMETERS);
  });
});
