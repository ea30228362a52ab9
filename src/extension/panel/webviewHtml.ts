// The HTML shell shared by the results panel and the gallery: a strict CSP (no inline script,
// scripts only by nonce, images only from our roots, data: and blob:), theme CSS and one bundle.
// The extension's loaded l10n bundle rides along in <body data-l10n>: the webview scripts cannot
// call vscode.l10n, so they translate their own words from it (webview/shared/l10n.ts).

import * as vscode from 'vscode';
import { contentSecurityPolicy, escapeHtml, makeNonce } from './html';

export { contentSecurityPolicy, escapeHtml, makeNonce } from './html';

/** The folders a webview may load from: our bundles and CSS, plus the folders of images it shows. */
export function resourceRoots(extensionUri: vscode.Uri, imageFolders: readonly vscode.Uri[]): vscode.Uri[] {
  return [
    vscode.Uri.joinPath(extensionUri, 'dist', 'webview'),
    vscode.Uri.joinPath(extensionUri, 'media'),
    ...imageFolders,
  ];
}

export function webviewHtml(
  webview: vscode.Webview,
  extensionUri: vscode.Uri,
  page: { name: 'panel' | 'gallery'; title: string; body: string },
): string {
  const nonce = makeNonce();
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', `${page.name}.js`));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', `${page.name}.css`));
  return `<!DOCTYPE html>
<html lang="${escapeHtml(vscode.env.language || 'en')}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(webview.cspSource, nonce)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style.toString()}" nonce="${nonce}">
<title>${escapeHtml(page.title)}</title>
</head>
<body data-l10n="${escapeHtml(JSON.stringify(vscode.l10n.bundle ?? {}))}">
${page.body}
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
}
