// Whether a path lies inside a folder, by the paths' text (no symbolic links resolved): for our
// own folders (the staging folder), where nothing links out.

import * as path from 'node:path';

/** True when `file` is strictly inside `folder` (not the folder itself). */
export function isInside(file: string, folder: string): boolean {
  const rel = path.relative(folder, file);
  return !!rel && !rel.startsWith('..') && !path.isAbsolute(rel);
}
