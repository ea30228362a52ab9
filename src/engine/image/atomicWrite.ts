// Atomic file writes, for every file the engine writes (images, thumbnails, latents, the model
// store's manifests and download state): the data goes to a temp file in the destination folder,
// then takes the final name in one step, so a reader never sees half a file and an error leaves
// nothing behind.

import { randomBytes } from 'crypto';
import { promises as fsp } from 'fs';
import * as path from 'path';
import { OutputError } from './outputError';

export interface AtomicWriteOptions {
  /** Replace an existing file; default false (fail with a message naming the file). */
  overwrite?: boolean;
  /** Words used in messages, e.g. "image"; default "file". */
  what?: string;
  /** How to tell the user to replace; default "pass --overwrite or choose another name". */
  overwriteHint?: string;
  /** fsync the data before it takes the final name, so it survives a crash (small files that record state). */
  sync?: boolean;
}

function errCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

function existsError(dest: string, o: AtomicWriteOptions): OutputError {
  return new OutputError(
    `${o.what ?? 'File'} ${dest} already exists; ${o.overwriteHint ?? 'pass --overwrite or choose another name'}.`,
    dest,
    'EEXIST',
  );
}

/** Explains a failure to create a file in `dir`. */
export function folderError(dir: string, e: unknown): OutputError {
  const code = errCode(e);
  if (code === 'ENOENT') return new OutputError(`Output folder ${dir} does not exist; create it or choose another folder.`, dir, code);
  if (code === 'ENOTDIR') return new OutputError(`Output folder ${dir} is not a folder; choose another folder.`, dir, code);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new OutputError(`Cannot write to folder ${dir} (${code}: permission denied or read-only); choose another folder.`, dir, code);
  }
  if (code === 'ENOSPC' || code === 'EDQUOT') return new OutputError(`No space left to write in ${dir} (${code}).`, dir, code);
  const msg = e instanceof Error ? e.message : String(e);
  return new OutputError(`Cannot write in folder ${dir}: ${msg}`, dir, code);
}

async function removeQuietly(p: string): Promise<void> {
  await fsp.rm(p, { force: true }).catch(() => undefined);
}

/** Writes a file's contents through its handle (data too large to hold at once). */
export type FileWriter = (fh: fsp.FileHandle) => Promise<void>;

/**
 * Writes `data` to `dest` atomically; refuses to replace an existing file unless overwrite.
 * Failures are OutputErrors whose `code` keeps the system's (ENOSPC...).
 */
export async function writeFileAtomic(dest: string, data: Uint8Array | string | FileWriter, o: AtomicWriteOptions = {}): Promise<string> {
  const abs = path.resolve(dest);
  const dir = path.dirname(abs);
  const base = path.basename(abs);
  if (!o.overwrite && (await fsp.lstat(abs).then(() => true, () => false))) throw existsError(abs, o);
  const tmp = path.join(dir, `.${base}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fh = await fsp.open(tmp, 'wx');
    try {
      if (typeof data === 'function') await data(fh);
      else await fh.writeFile(data);
      if (o.sync) await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (e) {
    await removeQuietly(tmp);
    throw folderError(dir, e);
  }
  try {
    if (o.overwrite) {
      await fsp.rename(tmp, abs);
    } else {
      await placeWithoutReplacing(tmp, abs, o);
    }
  } catch (e) {
    await removeQuietly(tmp);
    if (e instanceof OutputError) throw e;
    const code = errCode(e);
    if (code === 'EISDIR' || code === 'ENOTEMPTY') {
      throw new OutputError(`${abs} is a folder; choose a file name.`, abs, code);
    }
    throw folderError(dir, e);
  }
  return abs;
}

// A hard link fails with EEXIST if another writer took the name since our check, which rename
// cannot do. Some file systems (FAT, some network shares) have no hard links: fall back to a
// check + rename there.
async function placeWithoutReplacing(tmp: string, dest: string, o: AtomicWriteOptions): Promise<void> {
  try {
    await fsp.link(tmp, dest);
    await removeQuietly(tmp);
    return;
  } catch (e) {
    const code = errCode(e);
    if (code === 'EEXIST') throw existsError(dest, o);
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS' && code !== 'EXDEV') throw e;
  }
  if (await fsp.lstat(dest).then(() => true, () => false)) throw existsError(dest, o);
  await fsp.rename(tmp, dest);
}
