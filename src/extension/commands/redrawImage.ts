// "Redraw from This Image…": opens the panel with an image as its source, to redraw it as a whole
// (img2img) or paint over the part to change (inpainting). From an image link's CodeLens
// (document, line, index), the explorer or an image editor's title (the file's Uri), or the
// palette (an open dialog). An image Course Illustrator made brings its prompt and settings along.

import * as vscode from 'vscode';
import { settingsFromEntry } from '../../core/galleryIndex';
import { isSourceImagePath } from '../../core/imageKind';
import type { PanelSettings } from '../../core/webviewMessages';
import { openResultsPanel } from '../panel';
import { defaultSettings } from '../panel/panelState';
import type { Services } from '../services';
import { imageAt, imageUri } from '../stubs/documentStubs';
import type { ImageMetadataStore } from '../images/imageMetadata';
import { lineArgs, warnNothingOnLine } from './args';
import type { Command } from './commandManager';
import { COMMAND_IDS } from './ids';

export class RedrawImageCommand implements Command {
  readonly id = COMMAND_IDS.redrawImage;

  constructor(
    private readonly services: Services,
    private readonly images: ImageMetadataStore,
  ) {}

  /** Returns the image file the panel was opened on, or undefined. */
  async execute(...raw: unknown[]): Promise<string | undefined> {
    if (!this.services.isTrusted()) {
      void vscode.window.showWarningMessage(vscode.l10n.t('Redrawing an image needs a trusted workspace: trust it first.'));
      return undefined;
    }
    const found = await this.imageFile(raw);
    if (!found) return undefined;
    if (found.file.scheme !== 'file') {
      void vscode.window.showWarningMessage(vscode.l10n.t('Only local image files can be redrawn, not {0}.', found.file.toString(true)));
      return undefined;
    }
    const settings = await this.settingsOf(found.file);
    openResultsPanel({ source: found.file.fsPath, document: found.document, ...(settings ? { settings } : {}) });
    return found.file.fsPath;
  }

  private async imageFile(raw: unknown[]): Promise<{ file: vscode.Uri; document?: vscode.Uri } | undefined> {
    const [first] = raw;
    // The explorer or an image editor: the image itself.
    if (first instanceof vscode.Uri && isSourceImagePath(first.path)) return { file: first };
    if (first !== undefined) {
      const args = lineArgs(raw);
      if (args) {
        const document = await vscode.workspace.openTextDocument(args.uri);
        const image = imageAt(document, args.line, args.index);
        if (!image) return warnNothingOnLine(vscode.l10n.t('No image link on line {0}.', args.line + 1));
        return { file: imageUri(document, image), document: document.uri };
      }
    }
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false,
      openLabel: vscode.l10n.t('Redraw This Image'),
      title: vscode.l10n.t('Choose an image to redraw'),
      defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
      filters: { [vscode.l10n.t('Images')]: ['png', 'jpg', 'jpeg', 'webp'] },
    });
    return picked?.[0] && { file: picked[0] };
  }

  /** The form values an image of ours was made with (the prompt to start from), else none. */
  private async settingsOf(file: vscode.Uri): Promise<Partial<PanelSettings> | undefined> {
    if (!/\.png$/i.test(file.path)) return undefined;
    const info = await this.images.get(file.fsPath).catch(() => undefined);
    if (!info?.parameters) return undefined;
    const settings = settingsFromEntry(
      { prompt: info.prompt ?? '', negativePrompt: info.negativePrompt ?? '', fields: info.fields ?? {}, width: info.width, height: info.height },
      defaultSettings(this.services.config()),
    );
    // A redraw is a new picture of the same subject: a new seed unless the user locks one.
    return { ...settings, seed: undefined, seedLocked: false };
  }
}
