// A single-file checkpoint (.safetensors) read tensor by tensor: only the JSON header is read
// whole; each tensor is read at its offset when it is needed, so a 4 GB checkpoint never sits in
// memory at once. The header is checked, and tensors converted, by the functions the LoRA reader
// uses (src/engine/lora/safetensors.ts), which reads a whole file at once: fine for LoRAs only.

import { promises as fs } from 'node:fs';
import { TensorInfo, checkHeader, headerLength, toFloat32 } from '../lora/safetensors';
import { ModelError } from '../hub/errors';

/** Larger files are refused: an SD 1.x checkpoint is 2-7 GB (fp16 to fp32 with EMA weights). */
export const MAX_CHECKPOINT_BYTES = 8 * 1024 ** 3;

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
      const headerBytes = headerLength(head, st.size, (why) => bad(file, why));
      const { tensors, metadata } = checkHeader(await readAt(fh, 8, headerBytes), st.size, (why) => bad(file, why));
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
