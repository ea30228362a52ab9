// Reads a zip archive (a VSIX) into memory: its entries, and the bytes of one entry. Only what a
// VSIX uses (stored or deflated entries, no zip64, no encryption); anything else is refused, so a
// check built on it cannot pass by misreading the archive.

import { crc32, inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  crc: number;
  localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

export class ZipFile {
  readonly entries: ZipEntry[];

  constructor(private readonly buf: Buffer) {
    this.entries = readCentralDirectory(buf);
  }

  /** The entry's bytes, checked against the CRC-32 the archive lists. */
  read(entry: ZipEntry): Buffer {
    const b = this.buf;
    const at = entry.localHeaderOffset;
    if (b.readUInt32LE(at) !== LOCAL) throw new Error(`${entry.name}: no local header at ${at}`);
    const start = at + 30 + b.readUInt16LE(at + 26) + b.readUInt16LE(at + 28);
    const raw = b.subarray(start, start + entry.compressedSize);
    let data: Buffer;
    if (entry.method === 0) data = raw;
    else if (entry.method === 8) data = inflateRawSync(raw);
    else throw new Error(`${entry.name}: compression method ${entry.method} is not one a VSIX uses`);
    if (data.length !== entry.size) throw new Error(`${entry.name}: ${data.length} bytes, the archive lists ${entry.size}`);
    if (crc32(data) !== entry.crc) throw new Error(`${entry.name}: CRC-32 does not match`);
    return data;
  }

  find(name: string): ZipEntry | undefined {
    return this.entries.find((e) => e.name === name);
  }
}

function readCentralDirectory(b: Buffer): ZipEntry[] {
  // The end record sits in the last 22 bytes plus a comment of at most 64 KiB.
  let eocd = -1;
  for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 0xffff); i--) {
    if (b.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip archive (no end of central directory record)');
  const count = b.readUInt16LE(eocd + 10);
  const offset = b.readUInt32LE(eocd + 16);
  if (count === 0xffff || offset === 0xffffffff) throw new Error('zip64 archives are not read here');
  const entries: ZipEntry[] = [];
  let p = offset;
  for (let i = 0; i < count; i++) {
    if (b.readUInt32LE(p) !== CENTRAL) throw new Error(`central directory entry ${i} is damaged`);
    const flags = b.readUInt16LE(p + 8);
    if (flags & 1) throw new Error('encrypted zip entries are not read here');
    const nameLen = b.readUInt16LE(p + 28);
    const extraLen = b.readUInt16LE(p + 30);
    const commentLen = b.readUInt16LE(p + 32);
    entries.push({
      name: b.toString('utf8', p + 46, p + 46 + nameLen),
      method: b.readUInt16LE(p + 10),
      crc: b.readUInt32LE(p + 16),
      compressedSize: b.readUInt32LE(p + 20),
      size: b.readUInt32LE(p + 24),
      localHeaderOffset: b.readUInt32LE(p + 42),
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}
