// "Translate Prompt to English": the stub named by the quick fix, else the stub on the cursor's
// line, else the selected text (replaced by its English), else a prompt typed into a box (its
// English shown, to copy). A stub's English becomes its `prompt:` (directiveEdit.ts), which is
// what the model reads and what goes into the image's parameters.

import * as vscode from 'vscode';
import type { ImageStub } from '../../core/stubs';
import type { Command } from '../commands/commandManager';
import type { Services } from '../services';
import { stubAt, stubsOf, toRange } from '../stubs/documentStubs';
import { englishPromptEdit, textToTranslate } from './directiveEdit';
import { translateText } from './translateText';

export const TRANSLATE_COMMAND = 'courseIllustrator.translatePrompt';

/** The quick fix's argument: the stub `index` among those on `line` of the document `uri`. */
export interface TranslateStubArg {
  uri: string;
  line: number;
  index: number;
}

const HAN = /\p{Script=Han}/u;

function isStubArg(x: unknown): x is TranslateStubArg {
  const a = x as TranslateStubArg;
  return typeof a === 'object' && a !== null && typeof a.uri === 'string' && Number.isInteger(a.line) && Number.isInteger(a.index);
}

export class TranslatePromptCommand implements Command {
  readonly id = TRANSLATE_COMMAND;

  constructor(private readonly services: Services) {}

  async execute(arg?: unknown): Promise<void> {
    if (isStubArg(arg)) {
      const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(arg.uri));
      const stub = stubAt(document, arg.line, arg.index);
      if (stub) return this.translateStub(document, stub);
      void vscode.window.showWarningMessage(vscode.l10n.t('That illustration request is no longer there.'));
      return;
    }
    const editor = vscode.window.activeTextEditor;
    if (editor?.document.languageId === 'markdown') {
      const line = editor.selection.active.line;
      const stub = stubsOf(editor.document).stubs.find((s) => s.range.line === line && HAN.test(s.prompt));
      if (stub && editor.selection.isEmpty) return this.translateStub(editor.document, stub);
      if (!editor.selection.isEmpty) return this.translateSelection(editor);
    }
    return this.translateTyped();
  }

  private async translateStub(document: vscode.TextDocument, stub: ImageStub): Promise<void> {
    const r = await translateText(this.services, textToTranslate(stub));
    if ('declined' in r) return;
    if ('error' in r) return void vscode.window.showErrorMessage(r.error);
    // The document may have changed while the model ran: the same stub must still be there.
    const now = stubsOf(document).stubs.find((s) => s.range.line === stub.range.line && s.kind === stub.kind && s.prompt === stub.prompt);
    if (!now) return void vscode.window.showWarningMessage(vscode.l10n.t('The illustration request changed while it was translated; run the translation again.'));
    const edit = englishPromptEdit(document.lineAt(now.range.line).text, now, r.english);
    if ('problem' in edit) return void vscode.window.showWarningMessage(edit.problem);
    const we = new vscode.WorkspaceEdit();
    we.replace(document.uri, toRange(edit.range), edit.newText);
    if (!(await vscode.workspace.applyEdit(we))) void vscode.window.showErrorMessage(vscode.l10n.t('Could not change {0}.', vscode.workspace.asRelativePath(document.uri)));
  }

  private async translateSelection(editor: vscode.TextEditor): Promise<void> {
    const selection = editor.selection;
    const version = editor.document.version;
    const r = await translateText(this.services, editor.document.getText(selection));
    if ('declined' in r) return;
    if ('error' in r) return void vscode.window.showErrorMessage(r.error);
    if (editor.document.version !== version) return void vscode.window.showWarningMessage(vscode.l10n.t('The text changed while it was translated; run the translation again.'));
    await editor.edit((b) => b.replace(selection, r.english));
  }

  private async translateTyped(): Promise<void> {
    const text = await vscode.window.showInputBox({
      title: vscode.l10n.t('Translate Prompt to English'),
      prompt: vscode.l10n.t('A prompt with Chinese in it. LoRA tags, (word:1.3) weights and English words stay as they are.'),
      placeHolder: '植物细胞结构图, (高清:1.2)',
      ignoreFocusOut: true,
    });
    if (!text?.trim()) return;
    const r = await translateText(this.services, text);
    if ('declined' in r) return;
    if ('error' in r) return void vscode.window.showErrorMessage(r.error);
    const copy = vscode.l10n.t('Copy');
    if ((await vscode.window.showInformationMessage(r.english, copy)) === copy) await vscode.env.clipboard.writeText(r.english);
  }
}
