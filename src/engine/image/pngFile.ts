// Reading PNG files that may be hostile: a "*.png" can be a symbolic link to /dev/zero, a FIFO, or
// a sparse file of many gigabytes. Only regular files are read (checked on the open descriptor,
// so a link is judged by what it points to), and only the bytes before the image data, at most
// METADATA_CAP: text chunks come before IDAT in every writer we know (A1111/PIL, ComfyUI,
// exiftool, ours). No sharp here: the extension host uses this too.

import { constants, promises as fsp } from 'fs';
import * as path from 'path';
import { OutputError } from './outputError';
import { metadataExtent } from './pngChunks';

/** Most bytes read for metadata (8 MiB). */
export const METADATA_CAP = 8 * 1024 * 1024;
const FIRST_READ = 64 * 1024;

// O_NONBLOCK: opening a FIFO must not wait for a writer (regular files ignore it). Not on Windows.
const OPEN_FLAGS = constants.O_RDONLY | (process.platform === 'win32' ? 0 : (constants.O_NONBLOCK ?? 0));

function errCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

export interface PngPrefix {
  /** The first bytes of the file: up to the first IDAT/IEND header, or the cap, or the end. */
  data: Buffer;
  /** The file's size. */
  size: number;
  /** True when the cap was reached before the image data. */
  truncated: boolean;
}

/** Opens `file` for reading and checks it is a regular file; OutputError (naming it) otherwise. */
export async function openRegularFile(file: string): Promise<{ handle: fsp.FileHandle; size: number; abs: string }> {
  const abs = path.resolve(file);
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(abs, OPEN_FLAGS);
  } catch (e) {
    const code = errCode(e);
    if (code === 'ENOENT') throw new OutputError(`Image ${abs} does not exist.`, abs, code);
    if (code === 'EISDIR') throw new OutputError(`${abs} is a folder, not a PNG file.`, abs, code);
    throw new OutputError(`Cannot read ${abs}: ${e instanceof Error ? e.message : String(e)}`, abs, code);
  }
  try {
    const st = await handle.stat();
    if (st.isDirectory()) throw new OutputError(`${abs} is a folder, not a PNG file.`, abs, 'EISDIR');
    if (!st.isFile()) throw new OutputError(`${abs} is not a regular file (a device, pipe or socket); only image files are read.`, abs, 'ENOTREG');
    return { handle, size: st.size, abs };
  } catch (e) {
    await handle.close().catch(() => undefined);
    throw e;
  }
}

/**
 * The metadata part of a PNG (see PngPrefix): reads 64 KiB, then only as much more as the chunk
 * lengths say, never past `cap`. Not-a-PNG data comes back as read (the parser says why).
 */
export async function readPngMetadataPrefix(file: string, cap = METADATA_CAP): Promise<PngPrefix> {
  const { handle, size, abs } = await openRegularFile(file);
  try {
    return await readPngPrefixFrom(handle, size, abs, cap);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** readPngMetadataPrefix on a file already open (see openRegularFile); the caller closes it. */
export async function readPngPrefixFrom(handle: fsp.FileHandle, size: number, abs: string, cap = METADATA_CAP): Promise<PngPrefix> {
  try {
    let data = Buffer.alloc(0);
    let eof = false;
    for (;;) {
      const extent = metadataExtent(data);
      if (extent.done || eof || data.length >= size) return { data, size, truncated: false };
      // A chunk that does not fit under the cap is not read at all.
      if (data.length >= cap || extent.want > cap) return { data, size, truncated: true };
      const target = Math.min(cap, Math.max(extent.want, data.length === 0 ? FIRST_READ : data.length * 2));
      const more = Buffer.alloc(target - data.length);
      let got = 0;
      while (got < more.length) {
        const { bytesRead } = await handle.read(more, got, more.length - got, data.length + got);
        if (bytesRead === 0) {
          eof = true;
          break;
        }
        got += bytesRead;
      }
      data = Buffer.concat([data, more.subarray(0, got)]);
    }
  } catch (e) {
    if (e instanceof OutputError) throw e;
    throw new OutputError(`Cannot read ${abs}: ${e instanceof Error ? e.message : String(e)}`, abs, errCode(e));
  }
}
