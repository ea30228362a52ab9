// PNG text chunks (tEXt, zTXt, iTXt) read and written on an encoded PNG buffer, so metadata does
// not depend on what the encoder supports. Layout per the PNG spec (ISO/IEC 15948, W3C PNG 3rd ed.).

import * as zlib from 'zlib';

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export class NotPngError extends Error {
  constructor(what: string, detail: string) {
    super(`${what} is not a PNG file (${detail})`);
    this.name = 'NotPngError';
  }
}

let crcTable: Uint32Array | undefined;

function tableCrc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// zlib.crc32 arrived in Node 20.15 / 22.2; older runtimes (and some Electron builds) lack it.
const nativeCrc32 = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32;

/** CRC-32 as PNG uses it (ISO 3309 / ITU-T V.42), over chunk type + data. */
export function crc32(data: Uint8Array, useTable = false): number {
  return !useTable && typeof nativeCrc32 === 'function' ? nativeCrc32(data) >>> 0 : tableCrc32(data);
}

export interface PngChunk {
  type: string;
  /** Offset of the chunk's length field in the file. */
  offset: number;
  data: Buffer;
  crc: number;
  crcOk: boolean;
}

export function isPng(buf: Uint8Array): boolean {
  return buf.length >= 8 && Buffer.from(buf.buffer, buf.byteOffset, 8).equals(PNG_SIGNATURE);
}

/** All chunks in file order; throws NotPngError on a bad signature or a truncated chunk. */
export function listChunks(png: Buffer, what = 'the data'): PngChunk[] {
  if (!isPng(png)) throw new NotPngError(what, 'no PNG signature');
  const chunks: PngChunk[] = [];
  let pos = 8;
  while (pos < png.length) {
    if (pos + 12 > png.length) throw new NotPngError(what, `truncated chunk header at byte ${pos}`);
    const length = png.readUInt32BE(pos);
    const type = png.toString('latin1', pos + 4, pos + 8);
    const end = pos + 12 + length;
    if (length > 0x7fffffff || end > png.length) throw new NotPngError(what, `chunk ${type} at byte ${pos} runs past the end`);
    const data = png.subarray(pos + 8, pos + 8 + length);
    const crc = png.readUInt32BE(pos + 8 + length);
    chunks.push({ type, offset: pos, data, crc, crcOk: crc32(png.subarray(pos + 4, pos + 8 + length)) === crc });
    pos = end;
    if (type === 'IEND') break;
  }
  if (chunks.length === 0 || chunks[0].type !== 'IHDR') throw new NotPngError(what, 'first chunk is not IHDR');
  return chunks;
}

/**
 * The chunks before the image data: IHDR, text, colour chunks... up to (not including) the first
 * IDAT or IEND. Works on a prefix of the file: a chunk that runs past the end of `png` ends the
 * list instead of failing, so metadata can be read from the first bytes of a huge file.
 * Throws NotPngError on a bad signature or a missing or truncated IHDR.
 */
export function listMetadataChunks(png: Buffer, what = 'the data'): PngChunk[] {
  if (!isPng(png)) throw new NotPngError(what, 'no PNG signature');
  const chunks: PngChunk[] = [];
  let pos = 8;
  while (pos + 12 <= png.length) {
    const length = png.readUInt32BE(pos);
    const type = png.toString('latin1', pos + 4, pos + 8);
    if (type === 'IDAT' || type === 'IEND' || length > 0x7fffffff) break;
    const end = pos + 12 + length;
    if (end > png.length) break;
    const data = png.subarray(pos + 8, pos + 8 + length);
    const crc = png.readUInt32BE(pos + 8 + length);
    chunks.push({ type, offset: pos, data, crc, crcOk: crc32(png.subarray(pos + 4, pos + 8 + length)) === crc });
    pos = end;
  }
  if (chunks.length === 0 || chunks[0].type !== 'IHDR') throw new NotPngError(what, 'first chunk is not a complete IHDR');
  if (chunks[0].data.length < 8) throw new NotPngError(what, 'IHDR too short');
  return chunks;
}

/**
 * How far a reader of `prefix` (the first bytes of a file) must read to hold every chunk before
 * the image data: `done` once the first IDAT or IEND header is in `prefix` (or it is not a PNG,
 * or a length is corrupt), else `want`, the byte count that completes the next chunk.
 */
export function metadataExtent(prefix: Buffer): { done: true } | { done: false; want: number } {
  if (prefix.length < 8) return { done: false, want: 8 };
  if (!isPng(prefix)) return { done: true };
  let pos = 8;
  for (;;) {
    if (pos + 8 > prefix.length) return { done: false, want: pos + 8 };
    const length = prefix.readUInt32BE(pos);
    const type = prefix.toString('latin1', pos + 4, pos + 8);
    if (type === 'IDAT' || type === 'IEND' || length > 0x7fffffff) return { done: true };
    const end = pos + 12 + length;
    if (end > prefix.length) return { done: false, want: end };
    pos = end;
  }
}

/** Width and height from IHDR. */
export function readPngSize(png: Buffer, what = 'the data'): { width: number; height: number } {
  const ihdr = listChunks(png, what)[0];
  if (ihdr.data.length < 8) throw new NotPngError(what, 'IHDR too short');
  return { width: ihdr.data.readUInt32BE(0), height: ihdr.data.readUInt32BE(4) };
}

export function encodeChunk(type: string, data: Uint8Array): Buffer {
  if (!/^[A-Za-z]{4}$/.test(type)) throw new Error(`PNG chunk type must be 4 ASCII letters, got "${type}"`);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  Buffer.from(data.buffer, data.byteOffset, data.length).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

export interface PngText {
  keyword: string;
  text: string;
  type: 'tEXt' | 'zTXt' | 'iTXt';
  /** iTXt only. */
  languageTag?: string;
  translatedKeyword?: string;
  compressed?: boolean;
}

export interface TextChunkOptions {
  keyword: string;
  text: string;
  /** Always iTXt (XMP must be iTXt); default: tEXt when the text is Latin-1, else iTXt. */
  itxt?: boolean;
  /** zlib-compress the text (zTXt or compressed iTXt). */
  compress?: boolean;
  languageTag?: string;
  translatedKeyword?: string;
}

export function isLatin1(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
}

function checkKeyword(keyword: string): void {
  // PNG: 1-79 Latin-1 printable characters, no leading/trailing/double spaces.
  if (keyword.length < 1 || keyword.length > 79 || !/^[\x20-\x7e\xa1-\xff]+$/.test(keyword) || /^ | $| {2}/.test(keyword)) {
    throw new Error(`invalid PNG text keyword "${keyword}": use 1-79 printable Latin-1 characters without extra spaces`);
  }
}

/** One encoded text chunk (length, type, data, CRC). */
export function makeTextChunk(o: TextChunkOptions): Buffer {
  checkKeyword(o.keyword);
  const key = Buffer.from(o.keyword, 'latin1');
  const useItxt = o.itxt === true || !isLatin1(o.text) || o.text.includes('\0');
  if (!useItxt) {
    const text = Buffer.from(o.text, 'latin1');
    if (o.compress) {
      return encodeChunk('zTXt', Buffer.concat([key, Buffer.from([0, 0]), zlib.deflateSync(text)]));
    }
    return encodeChunk('tEXt', Buffer.concat([key, Buffer.from([0]), text]));
  }
  const utf8 = Buffer.from(o.text, 'utf8');
  const body = o.compress ? zlib.deflateSync(utf8) : utf8;
  return encodeChunk(
    'iTXt',
    Buffer.concat([
      key,
      Buffer.from([0, o.compress ? 1 : 0, 0]),
      Buffer.from(o.languageTag ?? '', 'latin1'),
      Buffer.from([0]),
      Buffer.from(o.translatedKeyword ?? '', 'utf8'),
      Buffer.from([0]),
      body,
    ]),
  );
}

/**
 * A copy of `png` with the text chunks inserted right before the first IDAT (readers that stop
 * at the image data, and XMP readers, find them there). Existing chunks with the same keywords
 * are removed so a file never carries two different `parameters`.
 */
export function addTextChunks(png: Buffer, texts: TextChunkOptions[], what = 'the data'): Buffer {
  const chunks = listChunks(png, what);
  const replaced = new Set(texts.map((t) => t.keyword));
  const idat = chunks.findIndex((c) => c.type === 'IDAT');
  const insertAt = idat >= 0 ? idat : chunks.findIndex((c) => c.type === 'IEND');
  if (insertAt < 0) throw new NotPngError(what, 'no IDAT or IEND chunk');
  const parts: Buffer[] = [PNG_SIGNATURE];
  chunks.forEach((c, i) => {
    if (i === insertAt) for (const t of texts) parts.push(makeTextChunk(t));
    const old = TEXT_TYPES.has(c.type) ? decodeTextChunk(c) : undefined;
    if (old && replaced.has(old.keyword)) return;
    parts.push(png.subarray(c.offset, c.offset + 12 + c.data.length));
  });
  return Buffer.concat(parts);
}

export const TEXT_TYPES: ReadonlySet<string> = new Set(['tEXt', 'zTXt', 'iTXt']);

/**
 * Largest text a chunk may hold once decompressed (1 MiB). Real infotext is a few KB and XMP a
 * few tens of KB; a zTXt "bomb" of 20 KB that inflates to gigabytes is skipped, not inflated.
 */
export const MAX_TEXT_BYTES = 1024 * 1024;

/** zlib inflate that stops at MAX_TEXT_BYTES (throws RangeError ERR_BUFFER_TOO_LARGE beyond). */
function inflateText(data: Buffer): Buffer {
  return zlib.inflateSync(data, { maxOutputLength: MAX_TEXT_BYTES });
}

function nul(data: Buffer, from: number): number {
  const i = data.indexOf(0, from);
  return i < 0 ? data.length : i;
}

/**
 * Decodes one text chunk; undefined when it is malformed (readers skip those, as libpng warns) or
 * holds more than MAX_TEXT_BYTES of text.
 */
export function decodeTextChunk(c: Pick<PngChunk, 'type' | 'data'>): PngText | undefined {
  const d = c.data;
  if (d.length > MAX_TEXT_BYTES + 200) return undefined;
  const k = nul(d, 0);
  if (k === 0 || k >= d.length || k > 79) return undefined;
  const keyword = d.toString('latin1', 0, k);
  try {
    if (c.type === 'tEXt') return { type: 'tEXt', keyword, text: d.toString('latin1', k + 1) };
    if (c.type === 'zTXt') {
      if (d[k + 1] !== 0) return undefined;
      return { type: 'zTXt', keyword, text: inflateText(d.subarray(k + 2)).toString('latin1'), compressed: true };
    }
    if (c.type === 'iTXt') {
      const flag = d[k + 1];
      const method = d[k + 2];
      const l = nul(d, k + 3);
      const t = nul(d, l + 1);
      if (k + 3 > d.length || l >= d.length || t >= d.length) return undefined;
      const languageTag = d.toString('latin1', k + 3, l);
      const translatedKeyword = d.toString('utf8', l + 1, t);
      const body = d.subarray(t + 1);
      if (flag === 1 && method !== 0) return undefined;
      const text = (flag === 1 ? inflateText(body) : body).toString('utf8');
      return { type: 'iTXt', keyword, text, languageTag, translatedKeyword, compressed: flag === 1 };
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/**
 * Every tEXt / zTXt / iTXt chunk in file order, decompressed (those over MAX_TEXT_BYTES left out).
 * `metadataOnly`: only the chunks before the image data, from a buffer that may be a prefix.
 */
export function readTextChunks(png: Buffer, what = 'the data', metadataOnly = false): PngText[] {
  const out: PngText[] = [];
  for (const c of metadataOnly ? listMetadataChunks(png, what) : listChunks(png, what)) {
    if (!TEXT_TYPES.has(c.type)) continue;
    const t = decodeTextChunk(c);
    if (t) out.push(t);
  }
  return out;
}
