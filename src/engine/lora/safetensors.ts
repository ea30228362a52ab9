// A reader for .safetensors files (https://github.com/huggingface/safetensors): 8 bytes of
// little-endian header length, a JSON header {name: {dtype, shape, data_offsets}, __metadata__},
// then the raw little-endian tensor bytes. LoRA files come from strangers, so everything the
// header says is checked against the file before a byte of it is used: the header's size, each
// tensor's offsets (inside the data, not overlapping), and that dtype × shape fills exactly its
// bytes. Only what LoRAs hold is converted: F32, F16 and BF16 (F64 too, it costs nothing).

import { promises as fs } from 'fs';
import { fromFloat16Bits } from '../onnx/float16';

/** A LoRA's header is a few hundred KB at most; a bigger one is not a LoRA (or is hostile). */
export const MAX_HEADER_BYTES = 64 * 1024 * 1024;

/** Bytes per element of every dtype the format defines (those we cannot convert are still checked). */
const DTYPE_BYTES: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
  F8_E4M3: 1, F8_E5M2: 1,
};

export interface TensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  /** Absolute byte range in the file. */
  start: number;
  end: number;
}

export class SafetensorsError extends Error {}

export class SafetensorsFile {
  private constructor(
    readonly file: string,
    /** Length of the JSON header (the 8 bytes before it not included). */
    readonly headerBytes: number,
    readonly tensors: Map<string, TensorInfo>,
    /** The header's __metadata__ (string to string), empty when absent. */
    readonly metadata: Record<string, string>,
    /** The whole file (hashes read it too). */
    readonly bytes: Buffer,
  ) {}

  /** Reads and checks the whole file (LoRAs are 2-300 MB: one read is simplest and fast). */
  static async read(file: string): Promise<SafetensorsFile> {
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'the file does not exist' : code === 'EISDIR' ? 'it is a folder' : (err as Error).message;
      throw new SafetensorsError(`Cannot read the LoRA ${file}: ${why}. Check the path.`);
    }
    return SafetensorsFile.parse(file, bytes);
  }

  static parse(file: string, bytes: Buffer): SafetensorsFile {
    const bad = (why: string) => new SafetensorsError(`${file} is not a valid .safetensors file: ${why}. Download it again, or convert it to .safetensors.`);
    const headerBytes = headerLength(bytes.subarray(0, 8), bytes.length, bad);
    const { tensors, metadata } = checkHeader(bytes.subarray(8, 8 + headerBytes), bytes.length, bad);
    return new SafetensorsFile(file, headerBytes, tensors, metadata, bytes);
  }

  get names(): string[] {
    return [...this.tensors.keys()];
  }

  /** The tensor's values as float32 (F32, F16, BF16, F64); other dtypes are refused by name. */
  floats(name: string): Float32Array {
    const t = this.tensors.get(name);
    if (!t) throw new SafetensorsError(`${this.file} has no tensor "${name}"`);
    // A copy in its own (aligned) buffer: typed views need the alignment the file does not give.
    const own = new Uint8Array(this.bytes.subarray(t.start, t.end));
    return toFloat32(own, t.dtype, () => new SafetensorsError(`${this.file}: tensor "${name}" is ${t.dtype}; LoRA weights must be F32, F16 or BF16.`));
  }
}

// ------------------------------------------------------------------ shared with checkpoints
// A single-file checkpoint (engine/checkpoint/checkpointFile.ts) is read tensor by tensor, not in
// one Buffer, but its header is checked and its tensors converted exactly as a LoRA's.

/** The JSON header's length from the file's first 8 bytes, checked against the file's size. */
export function headerLength(first8: Uint8Array, fileSize: number, bad: (why: string) => Error): number {
  if (fileSize < 8 || first8.length < 8) throw bad(`it is only ${fileSize} bytes long`);
  const n = Buffer.from(first8.buffer, first8.byteOffset, 8).readBigUInt64LE(0);
  if (n > BigInt(MAX_HEADER_BYTES)) throw bad(`its header claims ${n} bytes (at most ${MAX_HEADER_BYTES} are accepted)`);
  const headerBytes = Number(n);
  if (8 + headerBytes > fileSize) throw bad(`its header claims ${headerBytes} bytes but the file has ${fileSize} (cut short?)`);
  return headerBytes;
}

/**
 * The tensors and __metadata__ a header describes, every claim checked against the file: each
 * tensor inside the data, dtype × shape filling exactly its bytes, no two overlapping.
 */
export function checkHeader(json: Uint8Array, fileSize: number, bad: (why: string) => Error): { tensors: Map<string, TensorInfo>; metadata: Record<string, string> } {
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(json.buffer, json.byteOffset, json.length).toString('utf8'));
  } catch (err) {
    throw bad(`its header is not JSON (${(err as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw bad('its header is not a JSON object');
  const dataStart = 8 + json.length;
  const dataBytes = fileSize - dataStart;
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
        metadata = Object.fromEntries(Object.entries(raw as Record<string, unknown>).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
      }
      continue;
    }
    const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!t || typeof t !== 'object') throw bad(`tensor "${name}" has no description`);
    const dtype = String(t.dtype);
    const size = DTYPE_BYTES[dtype];
    if (size === undefined) throw bad(`tensor "${name}" has an unknown dtype "${dtype}"`);
    const shape = t.shape;
    if (!Array.isArray(shape) || shape.length > 8 || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      throw bad(`tensor "${name}" has a bad shape ${JSON.stringify(shape)}`);
    }
    const offsets = t.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)) {
      throw bad(`tensor "${name}" has bad data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as number[];
    if (begin > end || end > dataBytes) throw bad(`tensor "${name}" lies outside the file (bytes ${begin}-${end} of ${dataBytes}; cut short?)`);
    const elements = (shape as number[]).reduce((a, b) => a * b, 1);
    if (elements * size !== end - begin) {
      throw bad(`tensor "${name}" (${dtype} [${(shape as number[]).join(', ')}]) needs ${elements * size} bytes but has ${end - begin}`);
    }
    tensors.set(name, { name, dtype, shape: shape as number[], start: dataStart + begin, end: dataStart + end });
  }
  // Overlapping tensors would let one file say two things about the same bytes.
  const sorted = [...tensors.values()].sort((a, b) => a.start - b.start);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].start < sorted[i - 1].end) throw bad(`tensors "${sorted[i - 1].name}" and "${sorted[i].name}" overlap`);
  }
  return { tensors, metadata };
}

let halfTable: Float32Array | undefined;

/** Every float16 bit pattern's value, so a 400M-value conversion is one lookup each. */
function halves(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) halfTable[i] = fromFloat16Bits(i);
  }
  return halfTable;
}

/**
 * A tensor's little-endian bytes as float32 (F32, F16, BF16, F64). `bytes` must own an aligned
 * buffer (typed views over it; F32 is returned as a view, without a copy).
 */
export function toFloat32(bytes: Uint8Array, dtype: string, unsupported: () => Error): Float32Array {
  const n = bytes.length / (DTYPE_BYTES[dtype] ?? 1);
  switch (dtype) {
    case 'F32':
      // Little-endian in the file, and on every machine Node runs on.
      return new Float32Array(bytes.buffer, bytes.byteOffset, n);
    case 'F16': {
      const table = halves();
      const src = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = table[src[i]];
      return out;
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const src = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
      const out = new Float32Array(n);
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = src[i] << 16;
      return out;
    }
    case 'F64':
      return Float32Array.from(new Float64Array(bytes.buffer, bytes.byteOffset, n));
    default:
      throw unsupported();
  }
}
