// A float tensor's values as the model holds them: inline in the graph or in an external data
// file beside it.

import { promises as fs } from 'fs';
import * as path from 'path';
import { onnx } from 'onnx-proto';

/** Open external data files, shared by the reads of one rewrite; the caller closes them. */
export type FileHandles = Map<string, fs.FileHandle>;

export async function readFloats(t: onnx.ITensorProto, folder: string, handles: FileHandles): Promise<Float32Array> {
  if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) {
    const raw = t.rawData ?? new Uint8Array();
    if (raw.length) return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    return Float32Array.from(t.floatData ?? []);
  }
  const kv = Object.fromEntries((t.externalData ?? []).map((e) => [e.key, e.value]));
  const location = path.join(folder, String(kv.location));
  if (path.relative(folder, location).startsWith('..')) throw new Error(`${t.name}: external data outside the model folder (${kv.location})`);
  let h = handles.get(location);
  if (!h) {
    h = await fs.open(location, 'r');
    handles.set(location, h);
  }
  const length = Number(kv.length);
  const buf = Buffer.alloc(length);
  const { bytesRead } = await h.read(buf, 0, length, Number(kv.offset ?? 0));
  if (bytesRead !== length) throw new Error(`${location} is cut short: ${t.name} needs ${length} bytes at ${kv.offset}`);
  return new Float32Array(buf.buffer, buf.byteOffset, length / 4);
}

export async function closeAll(handles: FileHandles): Promise<void> {
  for (const h of handles.values()) await h.close();
  handles.clear();
}

/** The external data files these tensors read, relative to the graph's folder, sorted. */
export function externalFiles(tensors: readonly onnx.ITensorProto[]): string[] {
  const names = new Set<string>();
  for (const t of tensors) {
    const loc = t.externalData?.find((e) => e.key === 'location')?.value;
    if (loc) names.add(loc);
  }
  return [...names].sort();
}

/** "name:size:mtime" of each file in `folder`: what a cache key takes of the weights it was made from. */
export async function fileStamps(folder: string, files: readonly string[]): Promise<string[]> {
  const stamps: string[] = [];
  for (const f of files) {
    const st = await fs.stat(path.join(folder, f));
    stamps.push(`${f}:${st.size}:${st.mtimeMs}`);
  }
  return stamps;
}
