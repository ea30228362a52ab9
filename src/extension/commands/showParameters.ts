// CodeLens "Show parameters": the generation parameters stored in the PNG.

import * as vscode from 'vscode';
import type { Services } from '../services';
import { imageAt, imageUri } from '../stubs/documentStubs';
import type { ImageInfoCache } from '../stubs/imageInfo';
import { lineArgs } from './args';
import type { Command } from './commandManager';

export class ShowParametersCommand implements Command {
  readonly id = 'courseIllustrator.showParameters';

  constructor(
    private readonly services: Services,
    private readonly images: ImageInfoCache,
  ) {}

  /** Returns the parameters text (the dialog is not awaited, so scripts do not block). */
  async execute(...raw: unknown[]): Promise<string | undefined> {
    const args = lineArgs(raw);
    if (!args) return undefined;
    if (!this.services.isTrusted()) {
      void vscode.window.showWarningMessage('Reading image parameters needs a trusted workspace.');
      return undefined;
    }
    const document = await vscode.workspace.openTextDocument(args.uri);
    const image = imageAt(document, args.line, args.index);
    const info = image && (await this.images.get(imageUri(document, image)));
    const text = info?.parameters;
    if (!image || !text) {
      void vscode.window.showWarningMessage(`No generation parameters in the image on line ${args.line + 1}.`);
      return undefined;
    }
    void vscode.window.showInformationMessage(`Parameters of ${image.path}`, { modal: true, detail: text }, 'Copy').then((a) => a && vscode.env.clipboard.writeText(text));
    return text;
  }
}
