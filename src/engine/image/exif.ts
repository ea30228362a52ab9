// The one EXIF field we write and read: UserComment in the Exif IFD, where A1111 keeps its
// generation parameters in JPEG and WebP. A1111 writes it with piexif:
//   piexif.dump({"Exif": {UserComment: piexif.helper.UserComment.dump(info, encoding="unicode")}})
// which is a big-endian TIFF block ("MM") whose IFD0 holds only the Exif IFD pointer, and a
// UserComment of type UNDEFINED: the 8 bytes "UNICODE\0" then the text in UTF-16BE. We write the
// same bytes, so A1111's PNG Info tab (piexif.load + UserComment.load, which always decodes
// UTF-16BE) reads our files. libvips (sharp's withExif) cannot: it writes "ASCII\0\0\0" and turns
// every non-ASCII character (Chinese prompts) into "?".

/** The TIFF block's tags (Exif 2.32, CIPA DC-008). */
const EXIF_IFD_POINTER = 0x8769;
const USER_COMMENT = 0x9286;
const TYPE_LONG = 4;
const TYPE_UNDEFINED = 7;

const UNICODE_PREFIX = Buffer.from('UNICODE\0', 'latin1');
const ASCII_PREFIX = Buffer.from('ASCII\0\0\0', 'latin1');
const JIS_PREFIX = Buffer.from('JIS\0\0\0\0\0', 'latin1');

/** The APP1 / WebP "Exif\0\0" marker some writers put before the TIFF block. */
export const EXIF_HEADER = Buffer.from('Exif\0\0', 'latin1');

/** "UNICODE\0" + UTF-16BE, as piexif.helper.UserComment.dump(text, encoding="unicode"). */
export function encodeUserComment(text: string): Buffer {
  return Buffer.concat([UNICODE_PREFIX, Buffer.from(text, 'utf16le').swap16()]);
}

/**
 * A TIFF block (no "Exif\0\0" header) with IFD0 -> Exif IFD -> UserComment, laid out as
 * piexif.dump lays it out, plus the next-IFD offset after the Exif IFD that the spec asks for.
 */
export function buildUserCommentExif(text: string): Buffer {
  const value = encodeUserComment(text);
  const ifd0 = 8;
  const exifIfd = ifd0 + 2 + 12 + 4;
  const valueAt = exifIfd + 2 + 12 + 4;
  const out = Buffer.alloc(valueAt + value.length);
  out.write('MM', 0, 'latin1');
  out.writeUInt16BE(42, 2);
  out.writeUInt32BE(ifd0, 4);
  out.writeUInt16BE(1, ifd0);
  writeEntry(out, ifd0 + 2, EXIF_IFD_POINTER, TYPE_LONG, 1, exifIfd);
  out.writeUInt32BE(0, ifd0 + 14);
  out.writeUInt16BE(1, exifIfd);
  writeEntry(out, exifIfd + 2, USER_COMMENT, TYPE_UNDEFINED, value.length, valueAt);
  out.writeUInt32BE(0, exifIfd + 14);
  value.copy(out, valueAt);
  return out;
}

function writeEntry(out: Buffer, at: number, tag: number, type: number, count: number, valueOrOffset: number): void {
  out.writeUInt16BE(tag, at);
  out.writeUInt16BE(type, at + 2);
  out.writeUInt32BE(count, at + 4);
  out.writeUInt32BE(valueOrOffset, at + 8);
}

/**
 * UserComment from an EXIF block (a TIFF block, with or without the "Exif\0\0" header), or
 * undefined when there is none or the block is malformed. Every offset is checked against the
 * block: the data comes from any file.
 */
export function readUserComment(block: Buffer): string | undefined {
  const tiff = block.subarray(0, 6).equals(EXIF_HEADER) ? block.subarray(6) : block;
  if (tiff.length < 8) return undefined;
  const order = tiff.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return undefined;
  const le = order === 'II';
  const u16 = (at: number) => (le ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number) => (le ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  if (u16(2) !== 42) return undefined;
  const find = (ifd: number, tag: number): { type: number; count: number; at: number } | undefined => {
    if (ifd + 2 > tiff.length) return undefined;
    const n = u16(ifd);
    for (let i = 0; i < n; i++) {
      const e = ifd + 2 + 12 * i;
      if (e + 12 > tiff.length) return undefined;
      if (u16(e) === tag) return { type: u16(e + 2), count: u32(e + 4), at: e + 8 };
    }
    return undefined;
  };
  const pointer = find(u32(4), EXIF_IFD_POINTER);
  if (!pointer || pointer.type !== TYPE_LONG) return undefined;
  const comment = find(u32(pointer.at), USER_COMMENT);
  if (!comment) return undefined;
  const start = comment.count <= 4 ? comment.at : u32(comment.at);
  if (start + comment.count > tiff.length) return undefined;
  return decodeUserComment(tiff.subarray(start, start + comment.count), le);
}

/**
 * The text of a UserComment value, by its 8-byte character code. UNICODE is UTF-16: A1111
 * (piexif) writes big-endian in a big-endian block, exiftool writes the block's byte order;
 * where the two disagree the zero high bytes of Latin text tell which it is.
 */
export function decodeUserComment(value: Buffer, littleEndianBlock = false): string {
  const prefix = value.subarray(0, 8);
  const body = value.subarray(8);
  let text: string;
  if (prefix.equals(UNICODE_PREFIX)) text = utf16(body, littleEndianBlock);
  else if (prefix.equals(ASCII_PREFIX)) text = body.toString('utf8');
  else if (prefix.equals(JIS_PREFIX)) text = new TextDecoder('shift_jis').decode(body);
  // Undefined or unknown code: UTF-8, as A1111 falls back to.
  else text = (prefix.every((b) => b === 0) ? body : value).toString('utf8');
  return text.replace(/\0+$/, '');
}

function utf16(body: Buffer, littleEndianBlock: boolean): string {
  const even = body.length & ~1;
  let bom: 'le' | 'be' | undefined;
  if (even >= 2 && body[0] === 0xfe && body[1] === 0xff) bom = 'be';
  if (even >= 2 && body[0] === 0xff && body[1] === 0xfe) bom = 'le';
  let data = bom ? body.subarray(2, even) : body.subarray(0, even);
  let le = bom ? bom === 'le' : littleEndianBlock;
  if (!bom) {
    // Latin text has a zero high byte: first of each pair in UTF-16BE, second in UTF-16LE.
    let zeroFirst = 0;
    let zeroSecond = 0;
    for (let i = 0; i + 1 < data.length; i += 2) {
      if (data[i] === 0) zeroFirst++;
      if (data[i + 1] === 0) zeroSecond++;
    }
    if (zeroFirst !== zeroSecond) le = zeroSecond > zeroFirst;
  }
  if (!le) data = Buffer.from(data).swap16();
  return data.toString('utf16le');
}
