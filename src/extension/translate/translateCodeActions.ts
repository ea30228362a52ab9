// "Translate to English (local model)" on the warning a Chinese prompt gets (stubDiagnostics.ts).
// The action only names the stub: translating takes the engine (and maybe a download first), so
// the command does the work and then edits the document.

import * as vscode from 'vscode';
import { stubsOf } from '../stubs/documentStubs';
import { stubForLanguageWarning } from './languageWarning';
import { TRANSLATE_COMMAND, type TranslateStubArg } from './translatePromptCommand';

export class TranslateCodeActions implements vscode.CodeActionProvider {
  static readonly metadata: vscode.CodeActionProviderMetadata = { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] };

  provideCodeActions(document: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const actions: vscode.CodeAction[] = [];
    for (const diagnostic of context.diagnostics) {
      if (diagnostic.source !== 'Course Illustrator' || diagnostic.range.start.line !== diagnostic.range.end.line) continue;
      const { start, end } = diagnostic.range;
      const index = stubForLanguageWarning(stubsOf(document).stubs, { range: { line: start.line, start: start.character, end: end.character }, message: diagnostic.message });
      if (index < 0) continue;
      const title = vscode.l10n.t('Translate to English (local model)');
      const action = new vscode.CodeAction(title, vscode.CodeActionKind.QuickFix);
      action.diagnostics = [diagnostic];
      action.isPreferred = true;
      const arg: TranslateStubArg = { uri: document.uri.toString(), line: start.line, index };
      action.command = { command: TRANSLATE_COMMAND, title, arguments: [arg] };
      actions.push(action);
    }
    return actions;
  }
}
