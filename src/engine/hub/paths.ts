// File selection and path safety: which repo files a model needs (globs) and a guard so a hostile
// or broken file list cannot write outside the model folder.

import * as path from 'node:path';
import { compileGlob } from '../../core/glob';
import { ModelError, hasUnprintable, printable } from './errors';

/** Repo file selection with the workspace's glob matcher (no regular expressions, bounded time). */
export function matchesAny(file: string, globs: readonly string[]): boolean {
  return globs.some((g) => compileGlob(g)(file));
}

/**
 * Throws unless `rel` is a plain relative path: no "..", no absolute path, no backslash, no
 * control character or bidi override (a file name must print as what it is), no ":" (a drive,
 * or an NTFS alternate stream), nothing over 1000 characters.
 */
export function checkRelPath(rel: string, what: string): void {
  const bad =
    rel.length === 0 ||
    rel.length > 1000 ||
    hasUnprintable(rel) ||
    rel.includes('\\') ||
    rel.includes(':') ||
    rel.startsWith('/') ||
    rel.split('/').some((seg) => seg === '' || seg === '.' || seg === '..');
  if (bad) throw new ModelError('http', `Refusing the file "${printable(rel.slice(0, 200))}" from ${what}: not a plain relative path.`);
}

/** Joins a checked relative repo path under `root`. */
export function under(root: string, rel: string): string {
  const p = path.join(root, ...rel.split('/'));
  if (!p.startsWith(root + path.sep)) throw new ModelError('http', `Refusing the file "${rel}": it would land outside ${root}.`);
  return p;
}

/** Catalogue ids and store folder names: letters, digits, ".", "_", "-", "@" and "+"; no leading dot. */
export function checkModelId(id: string): void {
  if (!/^[A-Za-z0-9][\w.@+-]{0,199}$/.test(id) || id.includes('..')) {
    throw new ModelError('badInput', `"${id}" is not a model id: use letters, digits, "-", "_", "." (run "models list" to see the ids).`);
  }
}
