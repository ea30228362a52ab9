// Writes a graph's weights as ONNX external data: one file (`weights.pb`) that tensors are
// appended to, 64-byte aligned as onnx's save_model writes them (ORT maps them by offset), and
// hashed as they go so the manifest needs no second read of gigabytes.

import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { toFloat16Bits } from '../onnx/float16';

export const EXTERNAL_FILE = 'weights.pb';

export class ExternalWriter {
  private offset = 0;
  private readonly hash = createHash('sha256');

  private constructor(
    readonly file: string,
    private readonly fh: fs.FileHandle,
  ) {}

  static async create(file: string): Promise<ExternalWriter> {
    return new ExternalWriter(file, await fs.open(file, 'wx'));
  }

  /** Appends `bytes` and points `tensor` at them (its inline data cleared). */
  async put(tensor: onnx.ITensorProto, bytes: Uint8Array): Promise<void> {
    const pad = (64 - (this.offset % 64)) % 64;
    if (pad) await this.write(new Uint8Array(pad));
    const at = this.offset;
    await this.write(bytes);
    tensor.rawData = new Uint8Array(0);
    tensor.floatData = [];
    tensor.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    tensor.externalData = [
      { key: 'location', value: path.basename(this.file) },
      { key: 'offset', value: String(at) },
      { key: 'length', value: String(bytes.byteLength) },
    ];
  }

  get bytes(): number {
    return this.offset;
  }

  /** Flushes to disk (a crash after the rename must not leave a short file) and closes. */
  async close(): Promise<{ size: number; sha256: string }> {
    await this.fh.sync();
    await this.fh.close();
    return { size: this.offset, sha256: this.hash.digest('hex') };
  }

  /** Closes without syncing, for a failed import whose staging folder is deleted next. */
  async abandon(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }

  private async write(bytes: Uint8Array): Promise<void> {
    let done = 0;
    while (done < bytes.byteLength) {
      const { bytesWritten } = await this.fh.write(bytes, done, bytes.byteLength - done, this.offset + done);
      done += bytesWritten;
    }
    this.hash.update(bytes);
    this.offset += bytes.byteLength;
  }
}

/** A Linear weight [out, in] as [in, out] (a 1x1 conv's trailing 1s ignored). */
export function transpose(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = values[base + c];
  }
  return out;
}

/** The little-endian bytes of `values` in the graph's element type (FLOAT or FLOAT16). */
export function encodeAs(values: Float32Array, dataType: number): Uint8Array {
  if (dataType === onnx.TensorProto.DataType.FLOAT16) {
    const out = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = toFloat16Bits(values[i]);
    return new Uint8Array(out.buffer);
  }
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}
