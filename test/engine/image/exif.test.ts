// The EXIF UserComment writer and reader: A1111's own bytes (as piexif.dump lays them out) are
// read, ours are laid out the same way, other writers' byte orders are understood, and broken
// blocks give undefined, never an exception.

import * as assert from 'assert';
import { buildUserCommentExif, decodeUserComment, encodeUserComment, readUserComment } from '../../../src/engine/image/exif';

const TEXT = 'heart 心脏, (anatomy:1.2) 𝄞\nNegative prompt: blurry\nSteps: 20, Seed: 42';

/**
 * piexif.dump({"Exif": {UserComment: value}}) byte for byte, from piexif/_dump.py: "MM" header,
 * IFD0 with the Exif pointer and a zero next-IFD offset, the Exif IFD without one, the value.
 */
function piexifDump(value: Buffer): Buffer {
  const b = Buffer.alloc(40 + value.length);
  b.write('MM\0*', 0, 'latin1');
  b.writeUInt32BE(8, 4);
  b.writeUInt16BE(1, 8);
  b.writeUInt16BE(0x8769, 10);
  b.writeUInt16BE(4, 12);
  b.writeUInt32BE(1, 14);
  b.writeUInt32BE(26, 18);
  b.writeUInt32BE(0, 22);
  b.writeUInt16BE(1, 26);
  b.writeUInt16BE(0x9286, 28);
  b.writeUInt16BE(7, 30);
  b.writeUInt32BE(value.length, 32);
  b.writeUInt32BE(40, 36);
  value.copy(b, 40);
  return b;
}

/** piexif.helper.UserComment.dump(text, encoding="unicode"). */
function piexifUnicode(text: string): Buffer {
  return Buffer.concat([Buffer.from('UNICODE\0', 'latin1'), Buffer.from(text, 'utf16le').swap16()]);
}

/** A little-endian block as exiftool writes one. */
function littleEndianBlock(value: Buffer): Buffer {
  const b = Buffer.alloc(44 + value.length);
  b.write('II*\0', 0, 'latin1');
  b.writeUInt32LE(8, 4);
  b.writeUInt16LE(1, 8);
  b.writeUInt16LE(0x8769, 10);
  b.writeUInt16LE(4, 12);
  b.writeUInt32LE(1, 14);
  b.writeUInt32LE(26, 18);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(0x9286, 28);
  b.writeUInt16LE(7, 30);
  b.writeUInt32LE(value.length, 32);
  b.writeUInt32LE(44, 36);
  value.copy(b, 44);
  return b;
}

describe('EXIF UserComment', () => {
  it('encodes as piexif UserComment.dump(encoding="unicode"): UNICODE\\0 then UTF-16BE', () => {
    assert.ok(encodeUserComment(TEXT).equals(piexifUnicode(TEXT)));
  });

  it('lays the block out as piexif.dump does, plus the next-IFD offset the spec asks after the Exif IFD', () => {
    const ours = buildUserCommentExif(TEXT);
    const theirs = piexifDump(piexifUnicode(TEXT));
    // Same header and IFD0; the Exif IFD's entry points 4 bytes further, past its next-IFD offset.
    assert.ok(ours.subarray(0, 36).equals(theirs.subarray(0, 36)));
    assert.equal(ours.readUInt32BE(36), 44);
    assert.ok(ours.subarray(40, 44).equals(Buffer.alloc(4)));
    assert.ok(ours.subarray(44).equals(theirs.subarray(40)));
  });

  it('reads A1111\'s block, with or without the "Exif\\0\\0" header', () => {
    const block = piexifDump(piexifUnicode(TEXT));
    assert.equal(readUserComment(block), TEXT);
    assert.equal(readUserComment(Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), block])), TEXT);
    assert.equal(readUserComment(buildUserCommentExif(TEXT)), TEXT);
  });

  it('reads other writers: little-endian UTF-16, a BOM, ASCII, undefined code (UTF-8)', () => {
    const le = Buffer.concat([Buffer.from('UNICODE\0', 'latin1'), Buffer.from(TEXT, 'utf16le')]);
    assert.equal(readUserComment(littleEndianBlock(le)), TEXT);
    // A little-endian block holding big-endian Latin text (some tools): the zero bytes tell.
    assert.equal(readUserComment(littleEndianBlock(piexifUnicode('Steps: 20, Seed: 1'))), 'Steps: 20, Seed: 1');
    const bom = Buffer.concat([Buffer.from('UNICODE\0', 'latin1'), Buffer.from([0xfe, 0xff]), Buffer.from('心脏', 'utf16le').swap16()]);
    assert.equal(decodeUserComment(bom, true), '心脏');
    assert.equal(decodeUserComment(Buffer.from('ASCII\0\0\0Steps: 20\0', 'latin1')), 'Steps: 20');
    assert.equal(decodeUserComment(Buffer.concat([Buffer.alloc(8), Buffer.from('心脏 Steps: 1', 'utf8')])), '心脏 Steps: 1');
    assert.equal(readUserComment(littleEndianBlock(le).subarray(0, 60)), undefined, 'value past the end');
  });

  it('gives undefined for broken blocks, never throws', () => {
    const good = buildUserCommentExif(TEXT);
    assert.equal(readUserComment(Buffer.alloc(0)), undefined);
    assert.equal(readUserComment(Buffer.from('XX*\0\0\0\0\x08', 'latin1')), undefined);
    assert.equal(readUserComment(good.subarray(0, 30)), undefined);
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.from(good);
      for (let k = 0; k < 3; k++) b[Math.floor(random() * 48)] = Math.floor(random() * 256);
      const cut = b.subarray(0, Math.floor(random() * b.length) + 1);
      assert.doesNotThrow(() => readUserComment(cut));
    }
  });
});
