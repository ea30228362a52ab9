import * as assert from 'assert';
import * as vscode from 'vscode';
import { api, note, wsUri } from './helpers';

describe('activation', () => {
  it('activates on a Markdown file without loading onnxruntime or sharp', async () => {
    const doc = await vscode.workspace.openTextDocument(wsUri('course/intro.md'));
    await vscode.window.showTextDocument(doc);
    const t0 = Date.now();
    const { activationMs, services } = await api();
    note(`activate() took ${activationMs.toFixed(1)} ms (${Date.now() - t0} ms until the API was returned)`);
    const loaded = Object.keys(require.cache).filter((k) => /onnxruntime|[\\/]sharp[\\/]/.test(k));
    assert.deepStrictEqual(loaded, [], 'the extension host must not load native ML modules');
    assert.strictEqual(services.engine.pid, undefined, 'the engine starts on first use, not at activation');
    const commands = await vscode.commands.getCommands(true);
    for (const id of ['courseIllustrator.generate', 'courseIllustrator.insertLast', 'courseIllustrator.cancel', 'courseIllustrator.generateStub']) {
      assert.ok(commands.includes(id), `${id} is registered`);
    }
  });
});
