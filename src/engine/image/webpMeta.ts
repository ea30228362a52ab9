// WebP metadata (RIFF container, Google's "WebP Container Specification"): the canvas size and
// the EXIF and XMP chunks, which come after the image data; the reader jumps over the image data
// by its chunk length instead of reading it. The writer adds an EXIF chunk (a TIFF block without
// "Exif\0\0", as piexif.insert writes it for WebP) and sets the EXIF flag of the VP8X header.

import type { ByteSource } from './byteSource';
import { MAX_TEXT_BYTES } from './pngChunks';
import type { ContainerMetadata } from './jpegMeta';

/** More chunks than any real file has; a hostile file stops here. */
const MAX_CHUNKS = 256;
/** An EXIF chunk over this is skipped: our parameters in UTF-16 are at most twice MAX_TEXT_BYTES. */
const MAX_EXIF_BYTES = 2 * MAX_TEXT_BYTES + 1024;

// VP8X flag bits.
const ALPHA = 0x10;
const EXIF = 0x08;
const XMP = 0x04;

export function isWebp(head: Buffer): boolean {
  return head.length >= 12 && head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP';
}

/** The size said by the first bytes of a VP8X, VP8 or VP8L chunk's data (VP8X: 10, VP8: 10, VP8L: 5). */
function sizeFrom(fourcc: string, d: Buffer): { width: number; height: number } | undefined {
  if (fourcc === 'VP8X' && d.length >= 10) return { width: 1 + d.readUIntLE(4, 3), height: 1 + d.readUIntLE(7, 3) };
  if (fourcc === 'VP8 ' && d.length >= 10 && d[3] === 0x9d && d[4] === 0x01 && d[5] === 0x2a) {
    return { width: d.readUInt16LE(6) & 0x3fff, height: d.readUInt16LE(8) & 0x3fff };
  }
  if (fourcc === 'VP8L' && d.length >= 5 && d[0] === 0x2f) {
    const bits = d.readUInt32LE(1);
    return { width: 1 + (bits & 0x3fff), height: 1 + ((bits >>> 14) & 0x3fff) };
  }
  return undefined;
}

export async function readWebpMetadata(src: ByteSource): Promise<ContainerMetadata> {
  const out: ContainerMetadata = { width: 0, height: 0 };
  const head = await src.read(0, 12);
  if (!isWebp(head)) return out;
  const end = Math.min(src.size, 8 + head.readUInt32LE(4));
  let pos = 12;
  for (let n = 0; n < MAX_CHUNKS && pos + 8 <= end; n++) {
    const h = await src.read(pos, 8);
    if (h.length < 8) break;
    const fourcc = h.toString('latin1', 0, 4);
    const length = h.readUInt32LE(4);
    const at = pos + 8;
    if (out.width === 0 && (fourcc === 'VP8X' || fourcc === 'VP8 ' || fourcc === 'VP8L')) {
      const size = sizeFrom(fourcc, await src.read(at, 10));
      if (size) Object.assign(out, size);
    } else if (fourcc === 'EXIF' && !out.exif && length <= MAX_EXIF_BYTES) {
      out.exif = await src.read(at, length);
    } else if (fourcc === 'XMP ' && out.xmp === undefined && length <= MAX_TEXT_BYTES) {
      out.xmp = (await src.read(at, length)).toString('utf8');
    }
    pos = at + length + (length & 1);
  }
  return out;
}

interface Chunk {
  fourcc: string;
  data: Buffer;
}

function chunksOf(webp: Buffer): Chunk[] {
  if (!isWebp(webp)) throw new Error('insertWebpExif: the encoder did not produce a WebP');
  const chunks: Chunk[] = [];
  let pos = 12;
  while (pos + 8 <= webp.length) {
    const length = webp.readUInt32LE(pos + 4);
    if (pos + 8 + length > webp.length) throw new Error(`insertWebpExif: chunk at byte ${pos} runs past the end`);
    chunks.push({ fourcc: webp.toString('latin1', pos, pos + 4), data: webp.subarray(pos + 8, pos + 8 + length) });
    pos += 8 + length + (length & 1);
  }
  return chunks;
}

function encodeChunk(c: Chunk): Buffer {
  const out = Buffer.alloc(8 + c.data.length + (c.data.length & 1));
  out.write(c.fourcc, 0, 'latin1');
  out.writeUInt32LE(c.data.length, 4);
  c.data.copy(out, 8);
  return out;
}

/** A VP8X header for a simple-format file (one VP8 or VP8L chunk), which has none. */
function vp8xFor(chunks: Chunk[]): Chunk {
  const image = chunks.find((c) => c.fourcc === 'VP8 ' || c.fourcc === 'VP8L');
  const size = image && sizeFrom(image.fourcc, image.data);
  if (!size) throw new Error('insertWebpExif: no VP8 or VP8L image chunk to take the size from');
  const data = Buffer.alloc(10);
  // VP8L keeps an "alpha is used" hint in bit 28 of its header.
  const alpha = image.fourcc === 'VP8L' && (image.data.readUInt32LE(1) >>> 28) & 1;
  data[0] = alpha ? ALPHA : 0;
  data.writeUIntLE(size.width - 1, 4, 3);
  data.writeUIntLE(size.height - 1, 7, 3);
  return { fourcc: 'VP8X', data };
}

/** `webp` with `exif` (a TIFF block) as its only EXIF chunk, before XMP as the spec orders them. */
export function insertWebpExif(webp: Buffer, exif: Buffer): Buffer {
  const chunks = chunksOf(webp).filter((c) => c.fourcc !== 'EXIF');
  if (chunks[0]?.fourcc !== 'VP8X') chunks.unshift(vp8xFor(chunks));
  const vp8x = Buffer.from(chunks[0].data);
  vp8x[0] |= EXIF | (chunks.some((c) => c.fourcc === 'XMP ') ? XMP : 0);
  chunks[0] = { fourcc: 'VP8X', data: vp8x };
  const xmpAt = chunks.findIndex((c) => c.fourcc === 'XMP ');
  chunks.splice(xmpAt < 0 ? chunks.length : xmpAt, 0, { fourcc: 'EXIF', data: exif });
  const body = Buffer.concat(chunks.map(encodeChunk));
  const header = Buffer.alloc(12);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(4 + body.length, 4);
  header.write('WEBP', 8, 'latin1');
  return Buffer.concat([header, body]);
}
