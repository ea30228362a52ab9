// Which of a repo's listed files a pull fetches, and the checks the list must pass first: a hub
// is not trusted, so a hostile name or an overlapping pair refuses the whole list.

import type { PullTarget } from './catalogue';
import { ModelError } from './errors';
import { checkRelPath, matchesAny } from './paths';
import { DEFAULT_HUB_LIMITS, RepoFile } from './source';
import { MANIFEST_NAME } from './store';

/** A file to fetch, with what identifies its content across runs (a resume must not mix two versions). */
export interface Wanted extends RepoFile {
  identity: string;
}

export function identityOf(f: RepoFile): string {
  return `${f.size}:${f.sha256 ?? f.gitOid ?? '-'}`;
}

/**
 * Refuses a file list that would write one file twice: the same path listed twice, two paths
 * that are one file on a case-insensitive disk (Windows, macOS), or a file that is also a folder.
 */
function checkCollisions(files: RepoFile[], where: string): void {
  const seen = new Map<string, string>();
  for (const f of files) {
    const key = f.path.toLowerCase();
    const other = seen.get(key);
    if (other !== undefined) {
      throw new ModelError('http', `The file list of ${where} names one file twice ("${other}" and "${f.path}"); refusing it, as one would overwrite the other.`);
    }
    seen.set(key, f.path);
  }
  for (const f of files) {
    const parts = f.path.toLowerCase().split('/');
    for (let i = 1; i < parts.length; i++) {
      const folder = seen.get(parts.slice(0, i).join('/'));
      if (folder !== undefined) throw new ModelError('http', `The file list of ${where} has "${folder}" both as a file and as the folder of "${f.path}"; refusing it.`);
    }
  }
}

/**
 * Selects the repo files a target wants (at most `maxFiles`); errors name what is missing and
 * where to fix it. Every listed path must be plain and printable, the unwanted ones included:
 * a list with a hostile name in it is not trusted for the others either.
 */
export function selectFiles(all: RepoFile[], target: PullTarget, where: string, maxFiles = DEFAULT_HUB_LIMITS.maxFiles): Wanted[] {
  for (const f of all) checkRelPath(f.path, where);
  const byPath = new Map(all.map((f) => [f.path, f]));
  const missing = target.require.filter((p) => !byPath.has(p));
  if (missing.length) {
    throw new ModelError(
      'notFound',
      `${where} lacks ${missing.join(', ')}. The repo layout is not what ${target.catalogueId ? `the catalogue entry "${target.catalogueId}"` : 'was asked for'} expects` +
        `${target.catalogueId ? ' (fix src/engine/hub/catalogue.json, or pull the repo by name with --include)' : ''}.`,
    );
  }
  const chosen = all.filter(
    (f) => f.path !== MANIFEST_NAME && (target.require.includes(f.path) || (matchesAny(f.path, target.include) && !matchesAny(f.path, target.exclude))),
  );
  if (chosen.length === 0) {
    throw new ModelError('notFound', `No file of ${where} matches ${target.include.join(', ')}${target.exclude.length ? ` (excluding ${target.exclude.join(', ')})` : ''}.`);
  }
  if (chosen.length > maxFiles) {
    throw new ModelError(
      'http',
      `${where} has ${chosen.length} files to download, more than the ${maxFiles} a model may have; refusing it. ` +
        (target.catalogueId ? 'The repo is not what the catalogue expects.' : 'Pick the files you need with --include.'),
    );
  }
  checkCollisions(chosen, where);
  return chosen.map((f) => ({ ...f, identity: identityOf(f) }));
}
