// Serves the panel and gallery webviews to plain Chromium, outside VS Code: the same HTML body, CSP,
// bundle and CSS, with a stand-in for acquireVsCodeApi that records what the page posts. Lets the
// webview tests drive the browser side quickly and in several themes.

import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { galleryBody } from '../../src/extension/gallery/galleryHtml';
import { contentSecurityPolicy, makeNonce } from '../../src/extension/panel/html';
import { panelBody } from '../../src/extension/panel/panelHtml';

const ROOT = path.resolve(__dirname, '../..');

/** A few of VS Code's theme variables, enough to see the three kinds of theme. */
export const THEMES = {
  dark: {
    bodyClass: 'vscode-dark',
    vars: {
      '--vscode-font-family': 'sans-serif', '--vscode-font-size': '13px', '--vscode-foreground': '#cccccc',
      '--vscode-editor-background': '#1f1f1f', '--vscode-sideBar-background': '#181818', '--vscode-focusBorder': '#0078d4',
      '--vscode-descriptionForeground': '#9d9d9d', '--vscode-errorForeground': '#f85149', '--vscode-editorWidget-background': '#202020',
      '--vscode-panel-border': '#2b2b2b', '--vscode-button-background': '#0078d4', '--vscode-button-foreground': '#ffffff',
      '--vscode-button-secondaryBackground': '#313131', '--vscode-button-secondaryForeground': '#cccccc', '--vscode-input-background': '#313131',
      '--vscode-input-foreground': '#cccccc', '--vscode-input-border': '#3c3c3c', '--vscode-textLink-foreground': '#4daafc',
      '--vscode-editorWarning-foreground': '#cca700', '--vscode-list-hoverBackground': '#2a2d2e', '--vscode-dropdown-background': '#313131',
      '--vscode-dropdown-border': '#3c3c3c', '--vscode-dropdown-foreground': '#cccccc', '--vscode-checkbox-background': '#313131',
      '--vscode-checkbox-border': '#3c3c3c', '--vscode-textBlockQuote-background': '#2b2b2b',
    },
  },
  light: {
    bodyClass: 'vscode-light',
    vars: {
      '--vscode-font-family': 'sans-serif', '--vscode-font-size': '13px', '--vscode-foreground': '#3b3b3b',
      '--vscode-editor-background': '#ffffff', '--vscode-sideBar-background': '#f8f8f8', '--vscode-focusBorder': '#005fb8',
      '--vscode-descriptionForeground': '#3b3b3b', '--vscode-errorForeground': '#f85149', '--vscode-editorWidget-background': '#f8f8f8',
      '--vscode-panel-border': '#e5e5e5', '--vscode-button-background': '#005fb8', '--vscode-button-foreground': '#ffffff',
      '--vscode-button-secondaryBackground': '#e5e5e5', '--vscode-button-secondaryForeground': '#3b3b3b', '--vscode-input-background': '#ffffff',
      '--vscode-input-foreground': '#3b3b3b', '--vscode-input-border': '#cecece', '--vscode-textLink-foreground': '#005fb8',
      '--vscode-editorWarning-foreground': '#bf8803', '--vscode-list-hoverBackground': '#f2f2f2', '--vscode-dropdown-background': '#ffffff',
      '--vscode-dropdown-border': '#cecece', '--vscode-dropdown-foreground': '#3b3b3b', '--vscode-checkbox-background': '#f8f8f8',
      '--vscode-checkbox-border': '#cecece', '--vscode-textBlockQuote-background': '#f8f8f8',
    },
  },
  'high-contrast': {
    bodyClass: 'vscode-high-contrast',
    vars: {
      '--vscode-font-family': 'sans-serif', '--vscode-font-size': '13px', '--vscode-foreground': '#ffffff',
      '--vscode-editor-background': '#000000', '--vscode-sideBar-background': '#000000', '--vscode-focusBorder': '#f38518',
      '--vscode-contrastBorder': '#6fc3df', '--vscode-contrastActiveBorder': '#f38518', '--vscode-descriptionForeground': '#ffffff',
      '--vscode-errorForeground': '#f48771', '--vscode-editorWidget-background': '#0c141f', '--vscode-button-background': '#000000',
      '--vscode-button-foreground': '#ffffff', '--vscode-button-border': '#6fc3df', '--vscode-input-background': '#000000',
      '--vscode-input-foreground': '#ffffff', '--vscode-input-border': '#6fc3df', '--vscode-textLink-foreground': '#21a6ff',
      '--vscode-editorWarning-foreground': '#ffd370', '--vscode-dropdown-background': '#000000', '--vscode-dropdown-border': '#6fc3df',
      '--vscode-dropdown-foreground': '#ffffff', '--vscode-checkbox-background': '#000000', '--vscode-checkbox-border': '#6fc3df',
    },
  },
} as const;

export type ThemeName = keyof typeof THEMES;

export interface WebviewServer {
  origin: string;
  url(page: 'panel' | 'gallery', theme: ThemeName): string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png', '.html': 'text/html' };

/** Serves /page/<panel|gallery>/<theme>, /theme/<theme>.css, and files from dist/webview, media and `imagesDir` (/img/). */
export async function startWebviewServer(imagesDir: string): Promise<WebviewServer> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    const page = /^\/page\/(panel|gallery)\/([a-z-]+)$/.exec(url.pathname);
    if (page) {
      const [, name, theme] = page;
      const t = THEMES[theme as ThemeName];
      const nonce = makeNonce();
      const origin = `http://${req.headers.host}`;
      const body = name === 'panel' ? panelBody() : galleryBody();
      const html = `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(origin, nonce)}">
<link rel="stylesheet" href="${origin}/theme/${theme}.css"><link rel="stylesheet" href="${origin}/media/${name}.css">
</head><body class="${t.bodyClass}">${body}
<script nonce="${nonce}" src="${origin}/stub.js"></script>
<script nonce="${nonce}" src="${origin}/dist/webview/${name}.js"></script></body></html>`;
      return send(200, TYPES['.html'], html);
    }
    if (url.pathname === '/stub.js') {
      // The stand-in for VS Code's API: messages go to window.__sent, state to window.__state.
      return send(200, TYPES['.js'], `window.__sent=[];window.__state=undefined;window.acquireVsCodeApi=()=>({postMessage:m=>window.__sent.push(JSON.parse(JSON.stringify(m))),getState:()=>window.__state,setState:s=>{window.__state=s}});`);
    }
    const theme = /^\/theme\/([a-z-]+)\.css$/.exec(url.pathname);
    if (theme && theme[1] in THEMES) {
      const vars = Object.entries(THEMES[theme[1] as ThemeName].vars).map(([k, v]) => `${k}:${v};`).join('');
      return send(200, TYPES['.css'], `html{${vars}}`);
    }
    let file: string | undefined;
    if (url.pathname.startsWith('/dist/webview/') || url.pathname.startsWith('/media/')) file = path.join(ROOT, url.pathname);
    else if (url.pathname.startsWith('/img/')) file = path.join(imagesDir, path.basename(url.pathname));
    if (file && fs.existsSync(file)) return send(200, TYPES[path.extname(file)] ?? 'application/octet-stream', fs.readFileSync(file));
    send(404, 'text/plain', 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    url: (page, theme) => `${origin}/page/${page}/${theme}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
