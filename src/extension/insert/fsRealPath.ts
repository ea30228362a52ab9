// Real paths (symbolic links resolved) for the containment checks: where an image is written
// (core/destination.ts asks through WorkspaceView.realPath) and which files the gallery lists and
// deletes. Node's fs only, no vscode, so unit tests run it against real symlinks.

import { promises as fsp, type Stats } from 'fs';
import * as path from 'path';

function errCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

/**
 * fs.realpath of `p`; undefined when nothing exists at `p`. Throws (with a message naming the
 * path) for a symbolic link whose target is missing, a loop of links, or a path that cannot be read,
 * so a caller never mistakes a link it cannot follow for a folder it may create.
 */
export async function realPathOrUndefined(p: string): Promise<string | undefined> {
  try {
    return await fsp.realpath(p);
  } catch (e) {
    const code = errCode(e);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      const st = await fsp.lstat(p).catch(() => undefined);
      if (st?.isSymbolicLink()) {
        const target = await fsp.readlink(p).catch(() => '?');
        throw new Error(`"${p}" is a symbolic link to "${target}", which does not exist`, { cause: e });
      }
      return undefined;
    }
    if (code === 'ELOOP') throw new Error(`"${p}" is a loop of symbolic links`, { cause: e });
    throw new Error(`cannot resolve "${p}" (${code ?? (e instanceof Error ? e.message : String(e))})`, { cause: e });
  }
}

/** True when `child` is strictly inside `root` (both absolute OS paths; case-insensitive on Windows). */
export function isPathInside(root: string, child: string, p: typeof path = path): boolean {
  const rel = p.relative(root, child);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${p.sep}`) && !p.isAbsolute(rel);
}

export interface ContainedFile {
  /** The file's real path. */
  real: string;
  /** stat of the real file (a regular file). */
  stat: Stats;
}

/**
 * The file, when its real path is a regular file inside the real path of one of `roots`;
 * undefined otherwise (outside through a symbolic link, a device or FIFO, a folder, missing).
 */
export async function containedRegularFile(file: string, roots: readonly string[]): Promise<ContainedFile | undefined> {
  let real: string;
  try {
    real = await fsp.realpath(file);
  } catch {
    return undefined;
  }
  const realRoots = await Promise.all(roots.map((r) => fsp.realpath(r).catch(() => undefined)));
  if (!realRoots.some((r) => r !== undefined && isPathInside(r, real))) return undefined;
  const stat = await fsp.stat(real).catch(() => undefined);
  return stat?.isFile() ? { real, stat } : undefined;
}
