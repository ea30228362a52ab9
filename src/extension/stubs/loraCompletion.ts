// Completion of `<lora:` in Markdown (stubs, directives, any prompt text): the LoRAs found in
// courseIllustrator.loraFolders, inserted as `<lora:NAME:1>` with the multiplier selected.

import * as vscode from 'vscode';
import { listLoras } from '../generation/loraList';
import type { Services } from '../services';

export class LoraCompletionProvider implements vscode.CompletionItemProvider {
  constructor(private readonly services: Services) {}

  async provideCompletionItems(document: vscode.TextDocument, position: vscode.Position): Promise<vscode.CompletionItem[] | undefined> {
    const before = document.lineAt(position.line).text.slice(0, position.character);
    const m = /<(lora|lyco):([^<>:]*)$/i.exec(before);
    if (!m) return undefined;
    const loras = await listLoras(this.services.config(), document.uri);
    const start = position.translate(0, -m[2].length);
    // Replace up to a closing '>' already typed, so the tag is not doubled.
    const after = document.lineAt(position.line).text.slice(position.character);
    const close = /^[^<>]*>/.exec(after);
    const range = new vscode.Range(start, close ? position.translate(0, close[0].length) : position);
    return loras.map((l) => {
      const item = new vscode.CompletionItem(l.name, vscode.CompletionItemKind.File);
      item.detail = 'LoRA';
      item.documentation = l.file;
      item.range = range;
      item.insertText = new vscode.SnippetString(`${l.name.replace(/[$}\\]/g, '\\$&')}:\${1:1}>`);
      return item;
    });
  }
}
