// LoRAs in real VS Code: `<lora:` completes from courseIllustrator.loraFolders.

import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { freshMarkdown, workspaceDir } from './helpers';

describe('LoRAs in the editor', () => {
  it('completes <lora: with the .safetensors files of the LoRA folders', async () => {
    const dir = path.join(workspaceDir(), 'loras');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'anatomy-lineart.safetensors'), Buffer.alloc(16));
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a LoRA');
    const config = vscode.workspace.getConfiguration('courseIllustrator');
    await config.update('loraFolders', ['loras'], vscode.ConfigurationTarget.Workspace);
    try {
      const editor = await freshMarkdown('course/lora.md', '<!-- illustrate: a heart <lora: -->\n');
      const at = new vscode.Position(0, '<!-- illustrate: a heart <lora:'.length);
      const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', editor.document.uri, at, ':');
      const labels = list.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
      assert.ok(labels.includes('anatomy-lineart'), labels.join(', '));
      assert.ok(!labels.includes('notes'), 'only .safetensors files');
      const item = list.items.find((i) => i.label === 'anatomy-lineart');
      assert.ok(item?.insertText instanceof vscode.SnippetString && item.insertText.value.startsWith('anatomy-lineart:${1:1}>'));
    } finally {
      await config.update('loraFolders', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });
});
