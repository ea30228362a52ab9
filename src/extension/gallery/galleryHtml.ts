// Markup of the gallery view; cards are added by the webview script from messages.

export function galleryBody(): string {
  return `
<div id="ci-gallery">
  <div class="toolbar">
    <vscode-textfield id="search" type="search" placeholder="Search prompts" aria-label="Search images by prompt or file name"></vscode-textfield>
    <div id="status" class="status" role="status" aria-live="polite">Scanning…</div>
    <div id="notice" class="notice" role="status" hidden></div>
  </div>
  <p id="empty" class="empty" hidden></p>
  <div id="grid" class="grid" role="list" aria-label="Generated images, newest first. Arrow keys move, Enter opens, Delete moves to the trash."></div>
  <div id="sentinel" class="sentinel" aria-hidden="true"></div>
  <section id="preview" class="preview" role="dialog" aria-modal="true" aria-labelledby="preview-prompt" hidden>
    <img id="preview-img" alt="">
    <p id="preview-prompt" class="preview-prompt"></p>
    <p id="preview-name" class="preview-name"></p>
    <div class="preview-actions" role="toolbar" aria-label="Image actions">
      <vscode-button id="preview-insert" data-action="insert" title="Insert into the active Markdown editor at the cursor">Insert</vscode-button>
      <vscode-button secondary data-action="copyMarkdown">Copy Markdown</vscode-button>
      <vscode-button secondary data-action="open">Open</vscode-button>
      <vscode-button secondary data-action="reveal">Reveal in Explorer</vscode-button>
      <vscode-button secondary data-action="openInPanel" title="Open in the Illustrations panel with these settings">Edit settings</vscode-button>
      <vscode-button secondary data-action="redraw" title="Redraw this image, or paint over the part to change, in the Illustrations panel">Redraw…</vscode-button>
      <vscode-button secondary data-action="regenerate" title="Generate again with a new seed">Regenerate</vscode-button>
      <vscode-button secondary data-action="delete" title="Move the file to the trash (asks first)">Delete…</vscode-button>
      <vscode-button secondary id="preview-close" title="Back to the gallery (Escape)">Close</vscode-button>
    </div>
  </section>
</div>`;
}
