// The Linux desktop trash (freedesktop.org Trash specification 1.0), for when VS Code has none:
// a remote extension host (Remote-SSH, code-server) cannot use the desktop's trash, and VS Code's
// `useTrash` then fails. The file is moved (renamed, never copied and deleted) into
// $XDG_DATA_HOME/Trash/files with a .trashinfo beside it, so a file manager's "Restore" or
// `gio trash --restore` brings it back. Node's fs only, no vscode, so unit tests run it.

import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The home trash folder: $XDG_DATA_HOME/Trash, or ~/.local/share/Trash. */
export function homeTrashDir(env: NodeJS.ProcessEnv = process.env): string {
  const data = env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(env.HOME || os.homedir(), '.local', 'share');
  return path.join(data, 'Trash');
}

/** Local time as the specification wants it: YYYY-MM-DDThh:mm:ss. */
function deletionDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** "The value of Path= must be escaped as in URLs": each segment encoded, the slashes kept. */
function escapedPath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

/**
 * Moves `file` (an absolute path) into the trash; returns where it went. Throws, naming the
 * reason, when it cannot be moved there: nothing is then deleted.
 */
export async function moveToFreedesktopTrash(file: string, trashDir = homeTrashDir(), now = new Date()): Promise<string> {
  const files = path.join(trashDir, 'files');
  const info = path.join(trashDir, 'info');
  await fs.mkdir(files, { recursive: true, mode: 0o700 });
  await fs.mkdir(info, { recursive: true, mode: 0o700 });
  const ext = path.extname(file);
  const stem = path.basename(file, ext);
  const body = `[Trash Info]\nPath=${escapedPath(file)}\nDeletionDate=${deletionDate(now)}\n`;
  for (let n = 1; n < 1000; n++) {
    const name = n === 1 ? `${stem}${ext}` : `${stem}.${n}${ext}`;
    const infoFile = path.join(info, `${name}.trashinfo`);
    // The .trashinfo is created first and exclusively: it reserves the name (the specification's rule).
    try {
      await fs.writeFile(infoFile, body, { flag: 'wx', mode: 0o600 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw e;
    }
    const dest = path.join(files, name);
    if (await fs.lstat(dest).then(() => true, () => false)) {
      await fs.rm(infoFile, { force: true });
      continue;
    }
    try {
      await fs.rename(file, dest);
      return dest;
    } catch (e) {
      await fs.rm(infoFile, { force: true });
      if ((e as NodeJS.ErrnoException).code === 'EXDEV') {
        throw new Error(`"${file}" is on another drive than the trash folder ${trashDir}; it was not moved`, { cause: e });
      }
      throw e;
    }
  }
  throw new Error(`the trash folder ${trashDir} already holds 999 files named like "${stem}${ext}"`);
}
