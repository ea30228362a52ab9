// In an English VS Code the extension speaks English from package.nls.json and its l10n.t
// literals; the Chinese files sit where package.json's "l10n" field and VS Code look for them.
// (A Chinese workbench needs the zh-hans language pack, which cannot be installed offline here:
// test/extension/unit/l10n.test.ts checks the translations themselves.)

import * as assert from 'assert';
import * as vscode from 'vscode';
import { EXTENSION_ID, api } from './helpers';

describe('localisation', () => {
  it('resolves the %keys% of package.json to English, and has the zh-cn files beside them', async () => {
    await api();
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, 'the extension is installed');
    const pkg = ext.packageJSON as { l10n: string; contributes: { commands: { command: string; title: string; category: string }[] } };
    const generate = pkg.contributes.commands.find((c) => c.command === 'courseIllustrator.generate');
    assert.strictEqual(generate?.title, 'Generate Illustration');
    assert.strictEqual(generate?.category, 'Course Illustrator');
    const read = async (...p: string[]) => JSON.parse(Buffer.from(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(ext.extensionUri, ...p))).toString('utf8')) as Record<string, string>;
    assert.strictEqual((await read('package.nls.zh-cn.json'))['command.generate.title'], '生成插图');
    const zh = await read(pkg.l10n, 'bundle.l10n.zh-cn.json');
    assert.strictEqual(zh['Illustration cancelled.'], '已取消生成插图。');
  });

  it('shows English CodeLens titles in an English VS Code', async () => {
    assert.strictEqual(vscode.env.language, 'en');
    const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: '![a labelled plant cell]()\n' });
    await vscode.window.showTextDocument(doc);
    let titles: string[] = [];
    for (let i = 0; i < 50 && !titles.length; i++) {
      const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri, 10)) ?? [];
      titles = lenses.map((l) => l.command?.title ?? '').filter(Boolean);
      if (!titles.length) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(titles.includes('$(sparkle) Generate illustration') && titles.includes('Open in panel'), titles.join(', '));
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });
});
