// "Insert Last Illustration Again": the last image, linked relative to the active document.

import * as vscode from 'vscode';
import type { InsertResult, Services } from '../services';
import type { Command } from './commandManager';
import { restrictedMessage, reportError } from '../generation/generateAndInsert';
import { COMMAND_IDS } from './ids';

export class InsertLastCommand implements Command {
  readonly id = COMMAND_IDS.insertLast;

  constructor(private readonly services: Services) {}

  async execute(): Promise<InsertResult | undefined> {
    if (!this.services.isTrusted()) {
      void vscode.window.showWarningMessage(restrictedMessage());
      return undefined;
    }
    const last = this.services.lastImage();
    if (!last) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No illustration yet: run "Course Illustrator: Generate Illustration" first.'));
      return undefined;
    }
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.document.languageId !== 'markdown') {
      void vscode.window.showWarningMessage(vscode.l10n.t('Open a Markdown file to insert the illustration into.'));
      return undefined;
    }
    try {
      await vscode.workspace.fs.stat(vscode.Uri.file(last.path));
    } catch {
      void vscode.window.showWarningMessage(vscode.l10n.t('The last illustration ({0}) no longer exists.', last.path));
      return undefined;
    }
    try {
      return await this.services.insertImage({ uri: editor.document.uri, position: editor.selection.active }, last.path, last.alt);
    } catch (e) {
      reportError(this.services, e);
      return undefined;
    }
  }
}
