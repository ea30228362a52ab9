// The gallery's clean-up of images that no Markdown document links: which files would go
// (planCleanUp), and, right before each one goes, every check again (runCleanUp): still unlinked
// (a document may have changed since the confirmation), unchanged on disk, and a regular file
// reached without a symbolic link from its workspace folder. Only files the gallery lists (made by
// Course Illustrator or another A1111-style tool) are ever candidates, never a teacher's other
// pictures. Node's fs only, no vscode: unit tests run it against real files and links.

import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { GalleryEntry } from '../../core/galleryIndex';
import { containedRegularFile, isPathInside, type ContainedFile } from '../insert/fsRealPath';
import { limiter } from './limit';

export interface CleanUpFile {
  path: string;
  /** Workspace-relative path, for messages. */
  label: string;
  size: number;
  mtimeMs: number;
}

export interface CleanUpPlan {
  files: CleanUpFile[];
  bytes: number;
}

export interface CleanUpChecks {
  /** Asked right before each file goes, after the documents were read again. */
  isUnlinked(file: string): boolean;
  /** The file when it is a regular file inside the workspace, reached directly (containedDirectly). */
  contained(file: string): Promise<ContainedFile | undefined>;
  /** Moves it to the trash; throws when it cannot (then nothing happened to it). */
  trash(file: string): Promise<void>;
  cancelled?(): boolean;
  /** After each file, moved or not. */
  progress?(done: number): void;
}

export interface CleanUpResult {
  moved: CleanUpFile[];
  /** A document links it now. */
  nowLinked: CleanUpFile[];
  /** Gone, changed since it was listed, or not (any more) a regular file inside the workspace. */
  skipped: CleanUpFile[];
  failed: { file: CleanUpFile; message: string }[];
  /** Left alone because the user cancelled. */
  notDone: CleanUpFile[];
}

/** The gallery's images that no document links, oldest first (the order they are moved in). */
export function planCleanUp(entries: readonly GalleryEntry[], isUnlinked: (file: string) => boolean): CleanUpPlan {
  const files = entries
    .filter((e) => isUnlinked(e.path))
    .map((e) => ({ path: e.path, label: e.label, size: e.size, mtimeMs: e.mtimeMs }))
    .sort((a, b) => a.mtimeMs - b.mtimeMs || a.label.localeCompare(b.label));
  return { files, bytes: files.reduce((n, f) => n + f.size, 0) };
}

/**
 * The file when it is a regular file inside one of `roots` and no symbolic link lies on the way
 * from that folder to it: its path relative to the folder is its real path relative to the
 * folder's real path. A link to a file elsewhere in the workspace would otherwise let a path
 * that no document links stand for a file that one does.
 */
export async function containedDirectly(file: string, roots: readonly string[]): Promise<ContainedFile | undefined> {
  const contained = await containedRegularFile(file, roots);
  if (!contained) return undefined;
  for (const root of roots) {
    if (!isPathInside(root, file)) continue;
    const realRoot = await fsp.realpath(root).catch(() => undefined);
    if (realRoot !== undefined && path.relative(root, file) === path.relative(realRoot, contained.real)) return contained;
  }
  return undefined;
}

/** Moves the planned files to the trash, checking each one again right before; never deletes for good. */
export async function runCleanUp(plan: CleanUpPlan, checks: CleanUpChecks, parallel = 4): Promise<CleanUpResult> {
  const result: CleanUpResult = { moved: [], nowLinked: [], skipped: [], failed: [], notDone: [] };
  const limit = limiter(parallel);
  let done = 0;
  await Promise.all(
    plan.files.map((file) =>
      limit(async () => {
        try {
          if (checks.cancelled?.()) return result.notDone.push(file);
          if (!checks.isUnlinked(file.path)) return result.nowLinked.push(file);
          const now = await checks.contained(file.path);
          // Rewritten since it was listed (regenerated in place, say): not what the user agreed to.
          if (!now || now.stat.size !== file.size || Math.floor(now.stat.mtimeMs) !== Math.floor(file.mtimeMs)) return result.skipped.push(file);
          // Asked once more: reading the file's state took time, and documents keep changing.
          if (!checks.isUnlinked(file.path)) return result.nowLinked.push(file);
          await checks.trash(file.path);
          result.moved.push(file);
        } catch (e) {
          result.failed.push({ file, message: (e as Error).message });
        } finally {
          checks.progress?.(++done);
        }
      }),
    ),
  );
  return result;
}
