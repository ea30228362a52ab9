// Moving a file to the trash, never deleting it for good: VS Code's trash (the desktop's) first;
// on Linux, where VS Code has none (a remote extension host: Remote-SSH, code-server), the
// freedesktop trash in this machine's home folder.

import * as vscode from 'vscode';
import { moveToFreedesktopTrash } from './freedesktopTrash';

/** Throws, naming both reasons, when neither trash took the file; the file is then untouched. */
export async function moveToTrash(uri: vscode.Uri): Promise<void> {
  try {
    await vscode.workspace.fs.delete(uri, { useTrash: true, recursive: false });
  } catch (e) {
    if (process.platform !== 'linux' || uri.scheme !== 'file') throw e;
    try {
      await moveToFreedesktopTrash(uri.fsPath);
    } catch (e2) {
      throw new Error(`${(e as Error).message}; ${(e2 as Error).message}`, { cause: e2 });
    }
  }
}
