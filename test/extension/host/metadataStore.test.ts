// The one image-metadata store: an image the extension just made is known from its generate
// result, so its Regenerate lens and Show Parameters come without the engine reading the PNG back.

import * as assert from 'assert';
import * as vscode from 'vscode';
import type { GenerationOutcome } from '../../../src/extension/generation/generateAndInsert';
import { api, freshMarkdown, waitFor } from './helpers';

describe('image metadata store', () => {
  it('knows an image it just made from the generate result: lenses and parameters without reading the PNG back', async () => {
    const { services } = await api();
    const engine = services.engine as { info: (p: string) => Promise<unknown> };
    const original = engine.info;
    const read: string[] = [];
    engine.info = (p: string) => {
      read.push(p);
      return original.call(services.engine, p);
    };
    try {
      const editor = await freshMarkdown('course/store.md', '![a yellow flower]()\n');
      const made = await vscode.commands.executeCommand<GenerationOutcome>('courseIllustrator.generateStub', editor.document.uri, 0);
      assert.ok(made);
      const titles = await waitFor('the Regenerate lens', async () => {
        const t = ((await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', editor.document.uri, 100)) ?? []).map((l) => l.command?.title ?? '');
        return t.some((x) => x.includes('Regenerate')) ? t : undefined;
      });
      assert.ok(titles.includes('Show parameters'));
      const params = await vscode.commands.executeCommand<string>('courseIllustrator.showParameters', editor.document.uri, 0);
      assert.strictEqual(params, made.result.images[0].infotext, 'the parameters are the ones the engine wrote');
      assert.deepStrictEqual(read.filter((p) => p === made.file), [], 'the engine never read the new PNG back');
    } finally {
      engine.info = original;
    }
  });
});
