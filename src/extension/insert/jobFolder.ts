// Folders a job writes into: the engine needs an existing folder, and a folder made for a job
// that then failed or was cancelled is removed again, so nothing empty is left behind.

import * as vscode from 'vscode';

/** Creates `folder` (and missing parents); returns the top-most folder it created, if any. */
export async function createFolder(folder: vscode.Uri): Promise<vscode.Uri | undefined> {
  let top: vscode.Uri | undefined;
  for (let u = folder; ; u = vscode.Uri.joinPath(u, '..')) {
    if (await exists(u)) break;
    top = u;
    if (u.path === '/' || vscode.Uri.joinPath(u, '..').path === u.path) break;
  }
  if (top) await vscode.workspace.fs.createDirectory(folder);
  return top;
}

/** True when something is at `u` (file or folder). */
export async function exists(u: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(u);
    return true;
  } catch {
    return false;
  }
}

/** Deletes a folder tree this job created if it holds no file (only empty folders). */
export async function removeIfEmpty(folder: vscode.Uri): Promise<void> {
  const hasFile = async (u: vscode.Uri): Promise<boolean> => {
    for (const [name, type] of await vscode.workspace.fs.readDirectory(u)) {
      if (type !== vscode.FileType.Directory || (await hasFile(vscode.Uri.joinPath(u, name)))) return true;
    }
    return false;
  };
  try {
    if (!(await hasFile(folder))) await vscode.workspace.fs.delete(folder, { recursive: true, useTrash: false });
  } catch {
    // already gone or not readable: nothing to tidy
  }
}
