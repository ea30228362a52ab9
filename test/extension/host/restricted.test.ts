import * as assert from 'assert';
import * as vscode from 'vscode';
import { api, listFiles, workspaceDir, wsUri } from './helpers';

describe('Restricted Mode', () => {
  it('runs untrusted', () => {
    assert.strictEqual(vscode.workspace.isTrusted, false, 'the runner opens this suite with workspace trust on');
  });

  it('generates nothing, writes nothing, starts no engine, and the lenses say why', async () => {
    const before = listFiles(workspaceDir());
    const doc = await vscode.workspace.openTextDocument(wsUri('course/stubs.md'));
    const editor = await vscode.window.showTextDocument(doc);
    const { services } = await api();
    editor.selection = new vscode.Selection(1, 0, 1, 0);
    assert.strictEqual(await vscode.commands.executeCommand('courseIllustrator.generate', { prompt: 'a cat', seed: 1 }), undefined);
    assert.strictEqual(await vscode.commands.executeCommand('courseIllustrator.generateStub', doc.uri, 2), undefined);
    assert.strictEqual(await vscode.commands.executeCommand('courseIllustrator.insertLast'), undefined);
    const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri, 100)) ?? [];
    assert.ok(lenses.length >= 2, 'a lens per stub');
    for (const l of lenses) assert.match(l.command?.title ?? '', /Restricted Mode/);
    assert.strictEqual(doc.isDirty, false, 'the document was not edited');
    assert.deepStrictEqual(listFiles(workspaceDir()), before, 'no file was written');
    assert.strictEqual(services.engine.pid, undefined, 'no engine was started');
    // The engine client itself refuses, whoever calls it (panel, gallery thumbnails...).
    await assert.rejects(services.engine.thumbnail({ source: 'a.png', dest: 'b.png', size: 64 }), (e: Error & { kind?: string }) => e.kind === 'restricted' && /Restricted Mode/.test(e.message));
    assert.strictEqual(services.engine.pid, undefined);
  });
});
