// CodeLens "Show parameters": the generation parameters stored in the PNG.

import * as vscode from 'vscode';
import type { Services } from '../services';
import type { ImageMetadataStore } from '../images/imageMetadata';
import { lineArgs, warnNothingOnLine } from './args';
import type { Command } from './commandManager';
import { COMMAND_IDS } from './ids';

export class ShowParametersCommand implements Command {
  readonly id = COMMAND_IDS.showParameters;

  constructor(
    private readonly services: Services,
    private readonly images: ImageMetadataStore,
  ) {}

  /** Returns the parameters text (the dialog is not awaited, so scripts do not block). */
  async execute(...raw: unknown[]): Promise<string | undefined> {
    const args = lineArgs(raw);
    if (!args) return undefined;
    if (!this.services.isTrusted()) {
      void vscode.window.showWarningMessage(vscode.l10n.t('Reading image parameters needs a trusted workspace.'));
      return undefined;
    }
    const document = await vscode.workspace.openTextDocument(args.uri);
    const found = await this.images.at(document, args.line, args.index);
    const text = found?.facts?.parameters;
    if (!found || !text) return warnNothingOnLine(vscode.l10n.t('No generation parameters in the image on line {0}.', args.line + 1));
    const copy = vscode.l10n.t('Copy');
    void vscode.window
      .showInformationMessage(vscode.l10n.t('Parameters of {0}', found.image.path), { modal: true, detail: text }, copy)
      .then((a) => (a === copy ? vscode.env.clipboard.writeText(text) : undefined));
    return text;
  }
}
