// JPEG metadata: the size (SOF), the EXIF block and the XMP packet (APP1 segments), read by
// walking the segments before the image data (SOS) and reading only those three kinds; and the
// EXIF block put into an encoded JPEG as its APP1 "Exif" segment, where A1111 (piexif) puts it.

import type { ByteSource } from './byteSource';
import { EXIF_HEADER } from './exif';

export const XMP_NAMESPACE = Buffer.from('http://ns.adobe.com/xap/1.0/\0', 'latin1');

/** A segment's data is at most 65533 bytes (its length field counts itself). */
const MAX_SEGMENT_DATA = 0xffff - 2;
/** More segments than any real file has before its image data; a hostile file stops here. */
const MAX_SEGMENTS = 1024;

export interface ContainerMetadata {
  /** 0 when the file does not say. */
  width: number;
  height: number;
  /** The EXIF TIFF block, possibly with its "Exif\0\0" header. */
  exif?: Buffer;
  xmp?: string;
}

export function isJpeg(head: Buffer): boolean {
  return head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff;
}

// SOF0-SOF15 except DHT (C4), JPG (C8) and DAC (CC).
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

// TEM and RST0-7 stand alone, without a length.
function standsAlone(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7);
}

export async function readJpegMetadata(src: ByteSource): Promise<ContainerMetadata> {
  const out: ContainerMetadata = { width: 0, height: 0 };
  let pos = 2;
  for (let n = 0; n < MAX_SEGMENTS; n++) {
    const head = await src.read(pos, 4);
    if (head.length < 2 || head[0] !== 0xff) break;
    const marker = head[1];
    // Fill bytes (0xFF repeated) may precede a marker.
    if (marker === 0xff) {
      pos += 1;
      continue;
    }
    if (marker === 0xda || marker === 0xd9) break;
    if (standsAlone(marker)) {
      pos += 2;
      continue;
    }
    if (head.length < 4) break;
    const length = head.readUInt16BE(2);
    if (length < 2) break;
    if (marker === 0xe1 && (!out.exif || out.xmp === undefined)) {
      const data = await src.read(pos + 4, length - 2);
      if (!out.exif && data.subarray(0, EXIF_HEADER.length).equals(EXIF_HEADER)) out.exif = data;
      else if (out.xmp === undefined && data.subarray(0, XMP_NAMESPACE.length).equals(XMP_NAMESPACE)) out.xmp = data.toString('utf8', XMP_NAMESPACE.length);
    } else if (isStartOfFrame(marker) && out.width === 0) {
      const sof = await src.read(pos + 4, 5);
      if (sof.length === 5) {
        out.height = sof.readUInt16BE(1);
        out.width = sof.readUInt16BE(3);
      }
    }
    pos += 2 + length;
  }
  return out;
}

/**
 * `jpeg` with `exif` (a TIFF block) as its only APP1 "Exif" segment: after SOI, or after a JFIF
 * APP0 that must come first. Any Exif segment the encoder wrote is dropped.
 */
export function insertJpegExif(jpeg: Buffer, exif: Buffer): Buffer {
  if (!isJpeg(jpeg)) throw new Error('insertJpegExif: the encoder did not produce a JPEG');
  const dataLength = EXIF_HEADER.length + exif.length;
  if (dataLength > MAX_SEGMENT_DATA) {
    throw new Error(`the EXIF block is ${dataLength} bytes; a JPEG segment holds at most ${MAX_SEGMENT_DATA}`);
  }
  const segment = Buffer.alloc(4 + dataLength);
  segment.writeUInt16BE(0xffe1, 0);
  segment.writeUInt16BE(2 + dataLength, 2);
  EXIF_HEADER.copy(segment, 4);
  exif.copy(segment, 4 + EXIF_HEADER.length);

  const kept: Buffer[] = [jpeg.subarray(0, 2)];
  let pos = 2;
  let placed = false;
  while (pos + 4 <= jpeg.length && jpeg[pos] === 0xff) {
    const marker = jpeg[pos + 1];
    if (marker === 0xda || marker === 0xd9 || standsAlone(marker) || marker === 0xff) break;
    const end = pos + 2 + jpeg.readUInt16BE(pos + 2);
    if (end > jpeg.length) break;
    if (!placed && marker !== 0xe0) {
      kept.push(segment);
      placed = true;
    }
    const isExif = marker === 0xe1 && jpeg.subarray(pos + 4, pos + 4 + EXIF_HEADER.length).equals(EXIF_HEADER);
    if (!isExif) kept.push(jpeg.subarray(pos, end));
    pos = end;
  }
  if (!placed) kept.push(segment);
  kept.push(jpeg.subarray(pos));
  return Buffer.concat(kept);
}
