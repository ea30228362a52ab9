// Chinese alt text gives meaningful file names: pinyin by default, the characters when asked;
// either way the link in the document points at the file.

import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { GenerationOutcome } from '../../../src/extension/generation/generateAndInsert';
import { freshMarkdown, workspaceDir } from './helpers';

describe('file names from Chinese text', () => {
  it('names the image in pinyin, and the link finds it', async () => {
    const editor = await freshMarkdown('course/细胞.md', '![植物细胞结构图]()\n');
    const made = await vscode.commands.executeCommand<GenerationOutcome>('courseIllustrator.generateStub', editor.document.uri, 0);
    assert.ok(made);
    assert.match(path.basename(made.file), /^zhi-wu-xi-bao-jie-gou-tu-\d+\.png$/);
    const link = /\]\(([^)]+)\)/.exec(editor.document.lineAt(0).text)?.[1] ?? '';
    assert.ok(fs.existsSync(path.join(workspaceDir(), 'course', decodeURI(link))), `${link} points at the file`);
  });

  it('keeps the characters with courseIllustrator.fileNames: original, the link percent-encoded', async () => {
    const config = vscode.workspace.getConfiguration('courseIllustrator');
    await config.update('fileNames', 'original', vscode.ConfigurationTarget.Workspace);
    try {
      const editor = await freshMarkdown('course/叶子.md', '![绿色的叶子]()\n');
      const made = await vscode.commands.executeCommand<GenerationOutcome>('courseIllustrator.generateStub', editor.document.uri, 0);
      assert.ok(made);
      assert.match(path.basename(made.file), /^绿色的叶子-\d+\.png$/);
      const link = /\]\(([^)]+)\)/.exec(editor.document.lineAt(0).text)?.[1] ?? '';
      assert.ok(fs.existsSync(path.join(workspaceDir(), 'course', decodeURI(link))), `${link} points at the file`);
    } finally {
      await config.update('fileNames', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });
});
