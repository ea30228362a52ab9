// Markup of the gallery view; cards are added by the webview script from messages. Its words are
// translated (l10n.t) and escaped, since a translation may hold quotes.

import * as l10n from '@vscode/l10n';
import { escapeHtml } from '../panel/html';

export function galleryBody(): string {
  return `
<div id="ci-gallery">
  <div class="toolbar">
    <vscode-textfield id="search" type="search" placeholder="${escapeHtml(l10n.t('Search prompts'))}" aria-label="${escapeHtml(l10n.t('Search images by prompt or file name'))}"></vscode-textfield>
    <div class="filter-row">
      <vscode-single-select id="filter" aria-label="${escapeHtml(l10n.t('Which images to show'))}">
        <vscode-option value="all">${escapeHtml(l10n.t('All images'))}</vscode-option>
        <vscode-option value="unlinked">${escapeHtml(l10n.t('Not linked from any document'))}</vscode-option>
      </vscode-single-select>
      <vscode-button id="clean-up" secondary hidden title="${escapeHtml(l10n.t('Move every image that no Markdown document links to the trash (asks first)'))}">${escapeHtml(l10n.t('Move Unlinked Images to Trash…'))}</vscode-button>
    </div>
    <div id="status" class="status" role="status" aria-live="polite">${escapeHtml(l10n.t('Scanning…'))}</div>
    <div id="notice" class="notice" role="status" hidden></div>
  </div>
  <div id="empty-box" class="empty" hidden>
    <p id="empty"></p>
    <div id="start" class="start" hidden>
      <vscode-button data-start="generate">${escapeHtml(l10n.t('Generate Illustration…'))}</vscode-button>
      <vscode-button secondary data-start="openPanel">${escapeHtml(l10n.t('Open Illustration Panel'))}</vscode-button>
      <vscode-button secondary data-start="illustrateAll" title="${escapeHtml(l10n.t('Make every missing picture of the open lesson'))}">${escapeHtml(l10n.t('Illustrate All Stubs'))}</vscode-button>
      <vscode-button secondary data-start="walkthrough">${escapeHtml(l10n.t('Getting Started'))}</vscode-button>
    </div>
  </div>
  <div id="grid" class="grid" role="list" aria-label="${escapeHtml(l10n.t('Generated images, newest first. Arrow keys move, Enter opens, Delete moves to the trash.'))}"></div>
  <div id="sentinel" class="sentinel" aria-hidden="true"></div>
  <section id="preview" class="preview" role="dialog" aria-modal="true" aria-labelledby="preview-prompt" hidden>
    <img id="preview-img" alt="">
    <p id="preview-prompt" class="preview-prompt"></p>
    <p id="preview-name" class="preview-name"></p>
    <div class="preview-actions" role="toolbar" aria-label="${escapeHtml(l10n.t('Image actions'))}">
      <vscode-button id="preview-insert" data-action="insert" title="${escapeHtml(l10n.t('Insert into the active Markdown editor at the cursor'))}">${escapeHtml(l10n.t('Insert'))}</vscode-button>
      <vscode-button secondary data-action="copyMarkdown">${escapeHtml(l10n.t('Copy Markdown'))}</vscode-button>
      <vscode-button secondary data-action="open">${escapeHtml(l10n.t('Open'))}</vscode-button>
      <vscode-button secondary data-action="reveal">${escapeHtml(l10n.t('Reveal in Explorer'))}</vscode-button>
      <vscode-button secondary data-action="openInPanel" title="${escapeHtml(l10n.t('Open in the Illustrations panel with these settings'))}">${escapeHtml(l10n.t('Edit settings'))}</vscode-button>
      <vscode-button secondary data-action="redraw" title="${escapeHtml(l10n.t('Redraw this image, or paint over the part to change, in the Illustrations panel'))}">${escapeHtml(l10n.t('Redraw…'))}</vscode-button>
      <vscode-button secondary data-action="regenerate" title="${escapeHtml(l10n.t('Generate again with a new seed'))}">${escapeHtml(l10n.t('Regenerate'))}</vscode-button>
      <vscode-button secondary data-action="delete" title="${escapeHtml(l10n.t('Move the file to the trash (asks first)'))}">${escapeHtml(l10n.t('Delete…'))}</vscode-button>
      <vscode-button secondary id="preview-close" title="${escapeHtml(l10n.t('Back to the gallery (Escape)'))}">${escapeHtml(l10n.t('Close'))}</vscode-button>
    </div>
  </section>
</div>`;
}
