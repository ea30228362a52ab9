// NumPy .npy files (format version 1.0, little-endian float32, C order) so latents can be compared
// with Python tools: np.load("latents.npy").

import { promises as fsp } from 'fs';
import { writeFileAtomic } from './atomicWrite';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

function shapeText(shape: number[]): string {
  // Python tuple syntax: (4,) for one dimension.
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

export function encodeNpy(data: Float32Array, shape: number[]): Buffer {
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`npy shape must be non-negative integers, got [${shape}]`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new Error(`npy shape [${shape}] holds ${count} values but data has ${data.length}`);
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText(shape)}, }`;
  // Magic (6) + version (2) + header length (2) + header + '\n' is padded to a multiple of 64.
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  if (header.length > 0xffff) throw new Error('npy header too long for format 1.0');
  const head = Buffer.alloc(10 + header.length);
  MAGIC.copy(head, 0);
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  head.write(header, 10, 'latin1');
  const body = Buffer.alloc(data.length * 4);
  for (let i = 0; i < data.length; i++) body.writeFloatLE(data[i], i * 4);
  return Buffer.concat([head, body]);
}

/** Writes a float32 .npy atomically; refuses to replace an existing file unless overwrite. */
export async function writeNpy(file: string, data: Float32Array, shape: number[], overwrite = false): Promise<string> {
  return writeFileAtomic(file, encodeNpy(data, shape), { overwrite, what: 'Latents file' });
}

export interface NpyArray {
  data: Float32Array;
  shape: number[];
}

/** Reads float32 .npy files (v1-v3, '<f4', C order); enough for our own files and numpy's. */
export function decodeNpy(buf: Buffer, what = 'npy data'): NpyArray {
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) throw new Error(`${what} is not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString(major >= 3 ? 'utf8' : 'latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  if (descr !== '<f4') throw new Error(`${what}: only little-endian float32 ('<f4') is supported, got '${descr}'`);
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${what}: Fortran order is not supported`);
  const shapeMatch = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!shapeMatch) throw new Error(`${what}: no shape in header`);
  const shape = shapeMatch[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLen;
  if (buf.length < offset + count * 4) throw new Error(`${what}: file is truncated`);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = buf.readFloatLE(offset + i * 4);
  return { data, shape };
}

export async function readNpy(file: string): Promise<NpyArray> {
  return decodeNpy(await fsp.readFile(file), file);
}
