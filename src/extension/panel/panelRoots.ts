// The folders the panel's webview may load images from: the workspace folders plus the folders
// of shown images that lie outside them (results, variations to choose from).

import * as path from 'node:path';
import * as vscode from 'vscode';
import type { StoredResult } from './panelState';
import { isInside } from '../util/paths';
import { resourceRoots } from './webviewHtml';

/**
 * `stagingRoot`: where results wait (one root for all of them, so a new job does not change the
 * roots and reload the webview). `otherFolders`: variations to choose from, the source image's folder.
 */
export function panelRoots(extensionUri: vscode.Uri, results: readonly StoredResult[], stagingRoot: string, otherFolders: Iterable<string>): vscode.Uri[] {
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri);
  const outside = new Set<string>([stagingRoot]);
  const add = (folder: string) => {
    const uri = vscode.Uri.file(folder);
    if (!isInside(uri.fsPath, stagingRoot) && !vscode.workspace.getWorkspaceFolder(uri)) outside.add(uri.fsPath);
  };
  for (const r of results) {
    add(path.dirname(r.path));
    if (r.source) add(path.dirname(r.source));
  }
  for (const f of otherFolders) add(f);
  return resourceRoots(extensionUri, [...folders, ...[...outside].map((p) => vscode.Uri.file(p))]);
}

/** Widens localResourceRoots only when an image lies outside them (changing options reloads the webview). */
export function updateRoots(panel: vscode.WebviewPanel | undefined, roots: () => vscode.Uri[]): void {
  if (!panel) return;
  const now = (panel.webview.options.localResourceRoots ?? []).map((u) => u.toString()).sort().join('|');
  const wanted = roots();
  if (wanted.map((u) => u.toString()).sort().join('|') === now) return;
  // If the webview reloads for this, its 'ready' brings everything back (init + a pending choice).
  panel.webview.options = { enableScripts: true, localResourceRoots: wanted };
}
