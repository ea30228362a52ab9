// The folders the panel's webview may load images from: the workspace folders plus the folders
// of shown images that lie outside them (results, variations to choose from).

import * as path from 'node:path';
import * as vscode from 'vscode';
import type { StoredResult } from './panelState';
import { resourceRoots } from './webviewHtml';

export function panelRoots(extensionUri: vscode.Uri, results: readonly StoredResult[], chooserFolders: Iterable<string>): vscode.Uri[] {
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri);
  const outside = new Set<string>();
  for (const r of results) {
    const uri = vscode.Uri.file(path.dirname(r.path));
    if (!vscode.workspace.getWorkspaceFolder(uri)) outside.add(uri.fsPath);
  }
  for (const f of chooserFolders) outside.add(f);
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
