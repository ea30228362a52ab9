import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { GenerationOutcome } from '../../../src/extension/generation/generateAndInsert';
import { api, freshMarkdown, listFiles, workspaceDir } from './helpers';

describe('variations, settings and refusals', () => {
  it('generates 4 variations, lets the chooser pick one, and only the chosen file lands in the course', async () => {
    const { services } = await api();
    const seen: number[] = [];
    const chooser = services.setImageChooser(async (images) => {
      seen.push(...images.map((i) => i.seed));
      return images[2];
    });
    try {
      const editor = await freshMarkdown('course/vars.md', '![a yellow bird]()\n');
      const outcome = await vscode.commands.executeCommand<GenerationOutcome>('courseIllustrator.generateVariations', editor.document.uri, 0);
      assert.ok(outcome);
      assert.strictEqual(seen.length, 4);
      assert.deepStrictEqual(seen, [seen[0], seen[0] + 1, seen[0] + 2, seen[0] + 3], 'image i uses seed + i');
      assert.strictEqual(path.basename(outcome.file), `a-yellow-bird-${seen[2]}.png`);
      assert.deepStrictEqual(listFiles(path.join(workspaceDir(), 'course', 'images', 'vars')), [`a-yellow-bird-${seen[2]}.png`]);
      assert.strictEqual(editor.document.getText(), `![a yellow bird](images/vars/a-yellow-bird-${seen[2]}.png)\n`);
    } finally {
      chooser.dispose();
    }
  });

  it('starts a new engine with the new threads setting, without a reload', async () => {
    const { services } = await api();
    const before = await services.engine.status();
    const config = vscode.workspace.getConfiguration('courseIllustrator');
    // A machine-scoped setting: only user settings may hold it.
    await config.update('threads', 2, vscode.ConfigurationTarget.Global);
    try {
      const deadline = Date.now() + 10_000;
      while (services.engine.pid === before.pid && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const after = await services.engine.status();
      assert.notStrictEqual(after.pid, before.pid);
      assert.strictEqual(after.threads, 2);
      assert.strictEqual(services.config().threads, 2);
    } finally {
      await config.update('threads', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it('refuses to write outside the workspace folder and writes nothing', async () => {
    const config = vscode.workspace.getConfiguration('courseIllustrator');
    await config.update('imageFolder', '../../../outside-${documentBaseName}/', vscode.ConfigurationTarget.Workspace);
    try {
      const editor = await freshMarkdown('course/outside.md', 'x\n');
      const outcome = await vscode.commands.executeCommand('courseIllustrator.generate', { prompt: 'a boat', seed: 1 });
      assert.strictEqual(outcome, undefined);
      assert.strictEqual(editor.document.getText(), 'x\n');
      assert.ok(!fs.existsSync(path.resolve(workspaceDir(), '..', 'outside-outside')));
    } finally {
      await config.update('imageFolder', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('asks to save an untitled document instead of generating', async () => {
    const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: '# Draft\n' });
    await vscode.window.showTextDocument(doc);
    const outcome = await vscode.commands.executeCommand('courseIllustrator.generate', { prompt: 'a kite', seed: 1 });
    assert.strictEqual(outcome, undefined);
    assert.strictEqual(doc.getText(), '# Draft\n');
  });

  it("follows VS Code's markdown.copyFiles.destination when its glob matches the document", async () => {
    const md = vscode.workspace.getConfiguration('markdown');
    await md.update('copyFiles.destination', { '/course/copy*.md': '/media/${documentBaseName}/' }, vscode.ConfigurationTarget.Workspace);
    try {
      const editor = await freshMarkdown('course/copy-dest.md', '');
      const outcome = await vscode.commands.executeCommand<GenerationOutcome>('courseIllustrator.generate', { prompt: 'a paper plane', seed: 8 });
      assert.ok(outcome);
      assert.strictEqual(outcome.file, path.join(workspaceDir(), 'media', 'copy-dest', 'a-paper-plane-8.png'));
      assert.strictEqual(editor.document.getText(), '![a paper plane](../media/copy-dest/a-paper-plane-8.png)');
    } finally {
      await md.update('copyFiles.destination', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });
});
