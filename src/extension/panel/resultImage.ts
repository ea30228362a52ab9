// A stored result as the webview sees it: a webview URI and an id, never the file path.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ResultImage } from '../../core/webviewMessages';
import type { StoredResult } from './panelState';

/** Without a webview (panel closed) the URI is empty. */
export function toResultImage(r: StoredResult, webview: vscode.Webview | undefined): ResultImage {
  const uri = vscode.Uri.file(r.path);
  const stamp = fs.existsSync(r.path) ? fs.statSync(r.path).mtimeMs.toString(36) : '0';
  return {
    id: r.id,
    // The query defeats the webview's cache when a file is replaced under the same name.
    uri: webview ? webview.asWebviewUri(uri).with({ query: `v=${stamp}` }).toString() : '',
    fileName: path.basename(r.path),
    width: r.image.width,
    height: r.image.height,
    seed: r.image.seed,
    settings: r.settings,
    infotext: r.image.infotext,
    ...(r.source && webview && fs.existsSync(r.source) ? { sourceUri: webview.asWebviewUri(vscode.Uri.file(r.source)).toString(), inpainted: !!r.mask } : {}),
  };
}
