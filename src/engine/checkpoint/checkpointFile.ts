// A single-file checkpoint (.safetensors) read tensor by tensor: only the JSON header is read
// whole; each tensor is read at its offset when it is needed, so a 4 GB checkpoint never sits in
// memory at once. The header is checked as src/engine/lora/safetensors.ts checks a LoRA's (that
// reader takes the whole file in one Buffer, fine for 200 MB LoRAs, not for checkpoints): every
// tensor inside the data, dtype x shape filling exactly its bytes, no two tensors overlapping.

import { promises as fs } from 'node:fs';
import { MAX_HEADER_BYTES, TensorInfo } from '../lora/safetensors';
import { fromFloat16Bits } from '../onnx/float16';
import { ModelError } from '../models/errors';

/** Larger files are refused: an SD 1.x checkpoint is 2-7 GB (fp16 to fp32 with EMA weights). */
export const MAX_CHECKPOINT_BYTES = 8 * 1024 ** 3;

const DTYPE_BYTES: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1, F8_E4M3: 1, F8_E5M2: 1,
};

function bad(file: string, why: string): ModelError {
  return new ModelError('badInput', `${file} is not a valid .safetensors checkpoint: ${why}. Download it again, or convert it to .safetensors.`);
}

export class CheckpointFile {
  private constructor(
    readonly file: string,
    readonly size: number,
    readonly tensors: Map<string, TensorInfo>,
    readonly metadata: Record<string, string>,
    private readonly fh: fs.FileHandle,
  ) {}

  static async open(file: string, maxBytes = MAX_CHECKPOINT_BYTES): Promise<CheckpointFile> {
    let fh: fs.FileHandle;
    try {
      fh = await fs.open(file, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'the file does not exist' : code === 'EISDIR' ? 'it is a folder' : (err as Error).message;
      throw new ModelError('badInput', `Cannot read the checkpoint ${file}: ${why}. Check the path.`);
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new ModelError('badInput', `${file} is not a file. Choose a .safetensors checkpoint.`);
      if (st.size > maxBytes) {
        throw new ModelError('badInput', `${file} is ${(st.size / 1024 ** 3).toFixed(1)} GB; an SD 1.x checkpoint is at most ${maxBytes / 1024 ** 3} GB. Is it an SDXL or a merged multi-model file?`);
      }
      const head = await readAt(fh, 0, Math.min(8, st.size));
      refuseOtherFormats(file, head);
      if (st.size < 8) throw bad(file, `it is only ${st.size} bytes long`);
      const n = head.readBigUInt64LE(0);
      if (n > BigInt(MAX_HEADER_BYTES)) throw bad(file, `its header claims ${n} bytes (at most ${MAX_HEADER_BYTES} are accepted)`);
      const headerBytes = Number(n);
      if (8 + headerBytes > st.size) throw bad(file, `its header claims ${headerBytes} bytes but the file has ${st.size} (cut short?)`);
      let header: unknown;
      try {
        header = JSON.parse((await readAt(fh, 8, headerBytes)).toString('utf8'));
      } catch (err) {
        throw bad(file, `its header is not JSON (${(err as Error).message})`);
      }
      const { tensors, metadata } = checkHeader(file, header, 8 + headerBytes, st.size);
      return new CheckpointFile(file, st.size, tensors, metadata, fh);
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  get names(): string[] {
    return [...this.tensors.keys()];
  }

  /** The tensor's values as float32 (F32, F16, BF16, F64), read from the file now. */
  async floats(name: string): Promise<Float32Array> {
    const t = this.tensors.get(name);
    if (!t) throw new ModelError('badInput', `${this.file} has no tensor "${name}".`);
    const bytes = await readAt(this.fh, t.start, t.end - t.start, true);
    return toFloat32(bytes, t.dtype, () => new ModelError('badInput', `${this.file}: tensor "${name}" is ${t.dtype}; checkpoint weights must be F32, F16 or BF16.`));
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** A pickled .ckpt or a zip is not read (unpickling runs code): say what to do instead. */
function refuseOtherFormats(file: string, head: Buffer): void {
  const zip = head.length >= 2 && head[0] === 0x50 && head[1] === 0x4b;
  const pickle = head.length >= 1 && head[0] === 0x80;
  if (zip || pickle) {
    throw new ModelError(
      'badInput',
      `${file} is a PyTorch .ckpt/.pt file (a pickle), which Course Illustrator does not open: loading a pickle can run code. ` +
        'Download the .safetensors version of the checkpoint instead (most model pages offer one).',
    );
  }
}

function checkHeader(file: string, header: unknown, dataStart: number, fileSize: number): { tensors: Map<string, TensorInfo>; metadata: Record<string, string> } {
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw bad(file, 'its header is not a JSON object');
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
    if (!t || typeof t !== 'object') throw bad(file, `tensor "${name}" has no description`);
    const dtype = String(t.dtype);
    const size = DTYPE_BYTES[dtype];
    if (size === undefined) throw bad(file, `tensor "${name}" has an unknown dtype "${dtype}"`);
    const shape = t.shape;
    if (!Array.isArray(shape) || shape.length > 8 || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      throw bad(file, `tensor "${name}" has a bad shape ${JSON.stringify(shape)}`);
    }
    const offsets = t.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)) {
      throw bad(file, `tensor "${name}" has bad data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as number[];
    if (begin > end || end > dataBytes) throw bad(file, `tensor "${name}" lies outside the file (bytes ${begin}-${end} of ${dataBytes}; cut short?)`);
    const elements = (shape as number[]).reduce((a, b) => a * b, 1);
    if (elements * size !== end - begin) throw bad(file, `tensor "${name}" (${dtype} [${(shape as number[]).join(', ')}]) needs ${elements * size} bytes but has ${end - begin}`);
    tensors.set(name, { name, dtype, shape: shape as number[], start: dataStart + begin, end: dataStart + end });
  }
  const sorted = [...tensors.values()].sort((a, b) => a.start - b.start);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].start < sorted[i - 1].end) throw bad(file, `tensors "${sorted[i - 1].name}" and "${sorted[i].name}" overlap`);
  }
  return { tensors, metadata };
}

/** Reads exactly `length` bytes at `position`; `own`: in a fresh ArrayBuffer (aligned, for typed views). */
async function readAt(fh: fs.FileHandle, position: number, length: number, own = false): Promise<Buffer> {
  const buf = own ? Buffer.from(new ArrayBuffer(length)) : Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) throw new ModelError('badInput', `The checkpoint ended early (${position + done} bytes); it was cut short. Download it again.`);
    done += bytesRead;
  }
  return buf;
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

function toFloat32(bytes: Buffer, dtype: string, unsupported: () => Error): Float32Array {
  const n = bytes.length / (DTYPE_BYTES[dtype] ?? 1);
  switch (dtype) {
    case 'F32':
      // Little-endian in the file, and on every machine Node runs on; `bytes` owns its aligned buffer.
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
    case 'F64': {
      const src = new Float64Array(bytes.buffer, bytes.byteOffset, n);
      return Float32Array.from(src);
    }
    default:
      throw unsupported();
  }
}
