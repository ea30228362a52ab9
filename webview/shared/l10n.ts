// The webview's translations. A webview cannot call vscode.l10n, so the extension renders its
// loaded l10n bundle into <body data-l10n> (src/extension/panel/webviewHtml.ts), and this module
// hands it to @vscode/l10n, whose l10n.t the webview scripts (and the src/core code they bundle)
// call. Each page imports it first, before anything shows words; without the attribute (English,
// or the standalone test page) every l10n.t gives the English text.

import * as l10n from '@vscode/l10n';

function renderedBundle(): Record<string, string> | undefined {
  const raw = document.body.dataset.l10n;
  if (!raw) return undefined;
  try {
    const bundle: unknown = JSON.parse(raw);
    return bundle && typeof bundle === 'object' && !Array.isArray(bundle) ? (bundle as Record<string, string>) : undefined;
  } catch {
    return undefined;
  }
}

const bundle = renderedBundle();
if (bundle) l10n.config({ contents: bundle });
