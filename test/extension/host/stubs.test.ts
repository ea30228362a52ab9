import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { GenerationOutcome } from '../../../src/extension/generation/generateAndInsert';
import { freshMarkdown, waitFor, workspaceDir } from './helpers';

async function lenses(uri: vscode.Uri): Promise<vscode.CodeLens[]> {
  return (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100)) ?? [];
}

describe('stubs and CodeLenses', () => {
  it('replaces ![alt]() through its CodeLens as one undoable edit', async () => {
    const original = '# Cells\n\n![a labelled plant cell]()\n\nEnd.\n';
    const editor = await freshMarkdown('course/cells.md', original);
    const all = await lenses(editor.document.uri);
    const lens = all.find((l) => l.command?.title.includes('Generate illustration'));
    assert.ok(lens?.command, `a Generate lens is there (got ${all.map((l) => l.command?.title).join(', ')})`);
    assert.strictEqual(lens.range.start.line, 2);
    assert.ok(all.some((l) => l.command?.title === 'Generate 4 variations'));
    const outcome = await vscode.commands.executeCommand<GenerationOutcome>(lens.command.command, ...(lens.command.arguments ?? []));
    assert.ok(outcome);
    const name = path.basename(outcome.file);
    assert.match(name, /^a-labelled-plant-cell-\d+\.png$/);
    assert.strictEqual(editor.document.getText(), `# Cells\n\n![a labelled plant cell](images/cells/${name})\n\nEnd.\n`);
    assert.ok(fs.existsSync(path.join(workspaceDir(), 'course', 'images', 'cells', name)));
    await vscode.window.showTextDocument(editor.document);
    await vscode.commands.executeCommand('undo');
    assert.strictEqual(editor.document.getText(), original, 'one undo brings the stub back');
  });

  it('keeps an illustrate comment and puts the image on the line below; regenerating replaces that line', async () => {
    const editor = await freshMarkdown('course/heart.md', 'Intro\n<!-- illustrate: a heart cross-section | seed: 42 | steps: 2 -->\nOutro\n');
    const first = await vscode.commands.executeCommand<GenerationOutcome>('courseIllustrator.generateStub', editor.document.uri, 1);
    assert.ok(first);
    assert.strictEqual(path.basename(first.file), 'a-heart-cross-section-42.png');
    assert.match(first.result.images[0].infotext, /Steps: 2,/, 'steps: 2 from the comment');
    assert.strictEqual(
      editor.document.getText(),
      'Intro\n<!-- illustrate: a heart cross-section | seed: 42 | steps: 2 -->\n![a heart cross-section](images/heart/a-heart-cross-section-42.png)\nOutro\n',
    );
    const second = await vscode.commands.executeCommand<GenerationOutcome>('courseIllustrator.generateStub', editor.document.uri, 1);
    assert.strictEqual(path.basename(second.file), 'a-heart-cross-section-42-2.png');
    assert.strictEqual(editor.document.lineAt(2).text, '![a heart cross-section](images/heart/a-heart-cross-section-42-2.png)');
    assert.strictEqual(editor.document.lineCount, 5);
  });

  it('shows Regenerate / Variations / Show parameters above images it made, and Regenerate replaces the link', async () => {
    const editor = await freshMarkdown('course/regen.md', '![a green leaf]()\n');
    const made = await vscode.commands.executeCommand<GenerationOutcome>('courseIllustrator.generateStub', editor.document.uri, 0);
    assert.ok(made);
    const titles = await waitFor('image lenses', async () => {
      const t = (await lenses(editor.document.uri)).map((l) => l.command?.title ?? '');
      return t.some((x) => x.includes('Regenerate')) ? t : undefined;
    });
    assert.ok(titles.includes('Variations') && titles.includes('Show parameters'), titles.join(', '));
    assert.ok(titles.includes('$(paintcan) Redraw…'), `any image link can be redrawn: ${titles.join(', ')}`);
    const redrawn = await vscode.commands.executeCommand<string>('courseIllustrator.redrawImage', editor.document.uri, 0);
    assert.strictEqual(redrawn, made.file, 'Redraw opens the panel on the linked file');
    const params = await vscode.commands.executeCommand<string>('courseIllustrator.showParameters', editor.document.uri, 0);
    assert.match(params ?? '', /^a green leaf/);
    const again = await vscode.commands.executeCommand<GenerationOutcome>('courseIllustrator.regenerate', editor.document.uri, 0);
    assert.ok(again && again.file !== made.file);
    assert.ok(fs.existsSync(made.file), 'the old image stays on disk');
    assert.strictEqual(editor.document.lineAt(0).text, `![a green leaf](images/regen/${path.basename(again.file)})`);
  });

  it('reports bad directive options as diagnostics', async () => {
    const editor = await freshMarkdown('course/bad.md', '<!-- illustrate: a cat | colour: red | steps: 999 -->\n');
    const diags = await waitFor('diagnostics', () => {
      const d = vscode.languages.getDiagnostics(editor.document.uri).filter((x) => x.source === 'Course Illustrator');
      return d.length >= 2 ? d : undefined;
    });
    assert.ok(diags.some((d) => d.message.includes('Unknown option "colour"')));
    assert.ok(diags.some((d) => d.message.includes('steps must be')));
  });

  it('offers quick fixes for a misspelt scheduler and a size the model cannot take; applying them clears the problems', async () => {
    const editor = await freshMarkdown('course/fixes.md', '<!-- illustrate: a cat | scheduler: eulr-a | size: 500x300 -->\n');
    const uri = editor.document.uri;
    const problems = () => vscode.languages.getDiagnostics(uri).filter((x) => x.source === 'Course Illustrator');
    await waitFor('diagnostics', () => (problems().length === 2 ? true : undefined));
    // One at a time: after an edit the problems are found again, with their new ranges.
    for (const [topic, want, left] of [['scheduler', 'Change to "euler-a"', 1], ['size', 'Change to "504x304"', 0]] as const) {
      const d = problems().find((x) => x.message.includes(topic));
      assert.ok(d, `a diagnostic about ${topic}`);
      const actions = (await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, d.range)) ?? [];
      const action = actions.find((a) => a.title === want);
      assert.ok(action?.edit, `"${want}" among ${actions.map((a) => a.title).join(', ')}`);
      assert.ok(await vscode.workspace.applyEdit(action.edit));
      await waitFor(`${left} problems left`, () => (problems().length === left ? true : undefined));
    }
    assert.strictEqual(editor.document.getText(), '<!-- illustrate: a cat | scheduler: euler-a | size: 504x304 -->\n');
  });

  it('opens the results panel from the "Open in panel" lens, with the stub\'s prompt and options', async () => {
    const editor = await freshMarkdown('course/panel-lens.md', 'Intro\n<!-- illustrate: a lighthouse at dusk | seed: 9 | steps: 3 | size: 64x64 -->\n');
    const panelTabs = () =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('courseIllustrator.panel'));
    for (const t of panelTabs()) await vscode.window.tabGroups.close(t);
    const lens = (await lenses(editor.document.uri)).find((l) => l.command?.title === 'Open in panel');
    assert.ok(lens?.command, 'an "Open in panel" lens is above the stub');
    assert.strictEqual(lens.range.start.line, 1);
    assert.strictEqual(lens.command.command, 'courseIllustrator.openPanel');
    const [arg] = lens.command.arguments ?? [];
    assert.strictEqual(arg.document.toString(), editor.document.uri.toString());
    assert.deepStrictEqual(arg.settings, { prompt: 'a lighthouse at dusk', width: 64, height: 64, steps: 3, seed: 9 });
    await vscode.commands.executeCommand(lens.command.command, ...(lens.command.arguments ?? []));
    // The tab list follows the workbench asynchronously.
    const tab = await waitFor('the results panel tab', () => panelTabs()[0], 10_000);
    assert.strictEqual(tab.label, 'Illustrations');
    await vscode.window.tabGroups.close(tab);
  });

  it('finds every stub of a 5,000-line document, before and after an edit', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 5000; i++) lines.push(i % 50 === 0 ? `![figure ${i}]()` : `Paragraph ${i} with *emphasis*, a [link](x.md) and \`code\`.`);
    const editor = await freshMarkdown('course/big.md', lines.join('\n'));
    const t0 = Date.now();
    const first = await lenses(editor.document.uri);
    const firstMs = Date.now() - t0;
    await editor.edit((b) => b.insert(new vscode.Position(2500, 0), '![one more]()\n'));
    const t1 = Date.now();
    const second = await lenses(editor.document.uri);
    const secondMs = Date.now() - t1;
    // Three lenses per stub: Generate illustration, Generate 4 variations, Open in panel.
    assert.strictEqual(first.length, 300);
    assert.strictEqual(second.length, 303);
    // Reported, not asserted: a timing limit fails on a busy machine without a bug (see npm run bench).
    console.log(`      · CodeLenses of a 5,000-line document: ${firstMs} ms, after an edit ${secondMs} ms`);
  });
});
