// Completion inside `<!-- illustrate: ... -->`: the keys after `|`, and the values of template,
// scheduler, size, level, subject, type, modality, view, domain and fast (core/directiveCompletion.ts).

import * as vscode from 'vscode';
import { directiveCompletion } from '../../core/directiveCompletion';
import { userTemplates } from '../generation/userTemplateStore';

export class DirectiveCompletionProvider implements vscode.CompletionItemProvider {
  provideCompletionItems(document: vscode.TextDocument, position: vscode.Position): vscode.CompletionItem[] | undefined {
    const before = document.lineAt(position.line).text.slice(0, position.character);
    const found = directiveCompletion(before, userTemplates());
    if (!found) return undefined;
    const range = new vscode.Range(position.line, found.from, position.line, position.character);
    return found.suggestions.map((s, i) => {
      const item = new vscode.CompletionItem(s.label, vscode.CompletionItemKind.Value);
      item.insertText = s.insert;
      item.detail = s.detail;
      item.range = range;
      // Keep the list's own order (keys as documented, levels from primary up).
      item.sortText = String(i).padStart(4, '0');
      // A key is followed by its value: ask for the values at once.
      if (s.insert.endsWith(': ')) item.command = { command: 'editor.action.triggerSuggest', title: '' };
      return item;
    });
  }
}
