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

  it('completes a directive\'s keys and their values (template ids, levels...)', async () => {
    const editor = await freshMarkdown('course/keys.md', '<!-- illustrate: a plant cell | le\n');
    const keys = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', editor.document.uri, new vscode.Position(0, '<!-- illustrate: a plant cell | le'.length), '|');
    const keyLabels = keys.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
    assert.ok(keyLabels.includes('level') && keyLabels.includes('template'), keyLabels.join(', '));
    const values = await freshMarkdown('course/values.md', '<!-- illustrate: a plant cell | level: \n');
    const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', values.document.uri, new vscode.Position(0, '<!-- illustrate: a plant cell | level: '.length), ' ');
    const levels = list.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
    for (const l of ['primary', 'middle', 'high', 'university', 'medical-school']) assert.ok(levels.includes(l), `${l} in ${levels.join(', ')}`);
  });
});
