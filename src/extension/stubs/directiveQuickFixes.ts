// Quick fixes (the light bulb, Ctrl+.) on the problems of an illustrate comment: the nearest key,
// scheduler, template or part for a typo, a size the model takes, a number within its range
// (core/directiveFixes.ts). Each replaces only the option it is about.

import * as vscode from 'vscode';
import { directiveOptionFixes } from '../../core/directiveFixes';
import { TEMPLATE_IDS } from '../../core/templates';
import { userTemplates } from '../generation/userTemplateStore';

export class DirectiveQuickFixes implements vscode.CodeActionProvider {
  static readonly metadata: vscode.CodeActionProviderMetadata = { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] };

  provideCodeActions(document: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const actions: vscode.CodeAction[] = [];
    const templateIds = [...TEMPLATE_IDS, ...userTemplates().map((t) => t.id)];
    for (const diagnostic of context.diagnostics) {
      if (diagnostic.source !== 'Course Illustrator' || !diagnostic.range.isSingleLine) continue;
      const option = document.getText(diagnostic.range);
      // The diagnostic covers the text between two `|`, spaces included: those stay.
      const lead = option.length - option.trimStart().length;
      const trail = option.length - option.trimEnd().length;
      const { start, end } = diagnostic.range;
      const target = new vscode.Range(start.translate(0, lead), end.translate(0, -trail));
      directiveOptionFixes(option, templateIds).forEach((fix, i) => {
        const action = new vscode.CodeAction(fix.title, vscode.CodeActionKind.QuickFix);
        action.diagnostics = [diagnostic];
        action.isPreferred = i === 0;
        action.edit = new vscode.WorkspaceEdit();
        action.edit.replace(document.uri, target, fix.text);
        actions.push(action);
      });
    }
    return actions;
  }
}
