import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { GenerationOutcome } from '../../../src/extension/generation/generateAndInsert';
import { api, note, freshMarkdown, isPng, waitFor, workspaceDir } from './helpers';

describe('Generate Illustration command', () => {
  it('inserts a relative link at the cursor of the editor it started from, and writes the PNG', async () => {
    const editor = await freshMarkdown('course/lesson 1.md', '# Lesson\n\nText before.\n\nText after.\n');
    editor.selection = new vscode.Selection(3, 0, 3, 0);
    const started = Date.now();
    const pending = vscode.commands.executeCommand<GenerationOutcome | undefined>('courseIllustrator.generate', { prompt: 'a red apple on a desk', seed: 7 });
    // Move focus elsewhere while it runs: the image must still go into "lesson 1.md".
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument({ language: 'markdown', content: 'other' }));
    const outcome = await pending;
    note(`generate command end to end: ${Date.now() - started} ms`);
    assert.ok(outcome, 'the command returned an outcome');
    const expectedFile = path.join(workspaceDir(), 'course', 'images', 'lesson 1', 'a-red-apple-on-a-desk-7.png');
    assert.strictEqual(outcome.file, expectedFile);
    assert.ok(isPng(expectedFile), 'a PNG was written');
    assert.strictEqual(outcome.insert.markdown, '![a red apple on a desk](images/lesson%201/a-red-apple-on-a-desk-7.png)');
    const text = editor.document.getText();
    assert.strictEqual(text, '# Lesson\n\nText before.\n![a red apple on a desk](images/lesson%201/a-red-apple-on-a-desk-7.png)\nText after.\n');
  });

  it('never overwrites: the same prompt and seed get an incremented name; Insert Last inserts it again', async () => {
    const editor = await freshMarkdown('course/lesson 2.md', 'x\n');
    editor.selection = new vscode.Selection(1, 0, 1, 0);
    const a = await vscode.commands.executeCommand<GenerationOutcome>('courseIllustrator.generate', { prompt: 'a blue cube', seed: 3 });
    const b = await vscode.commands.executeCommand<GenerationOutcome>('courseIllustrator.generate', { prompt: 'a blue cube', seed: 3 });
    assert.strictEqual(path.basename(a.file), 'a-blue-cube-3.png');
    assert.strictEqual(path.basename(b.file), 'a-blue-cube-3-2.png');
    assert.ok(fs.existsSync(a.file) && fs.existsSync(b.file));
    const again = await vscode.commands.executeCommand<{ markdown: string }>('courseIllustrator.insertLast');
    assert.strictEqual(again.markdown, '![a blue cube](images/lesson%202/a-blue-cube-3-2.png)');
    assert.strictEqual((await api()).services.lastImage()?.path, b.file);
  });

  it('records the parameters and the AI marker in the PNG (a medical-looking prompt only makes it ask)', async () => {
    const { services } = await api();
    await freshMarkdown('course/anatomy.md', '');
    const outcome = await vscode.commands.executeCommand<GenerationOutcome>('courseIllustrator.generate', { prompt: 'anatomy of the human heart', seed: 11 });
    const info = await services.engine.info(outcome.file);
    assert.strictEqual(info.kind, 'png');
    if (info.kind === 'png') {
      assert.ok(info.madeByCourseIllustrator);
      assert.strictEqual(info.prompt, 'anatomy of the human heart');
      assert.ok(info.aiGenerated);
    }
  });

  it('applies a template to the prompt but keeps the subject as alt text and file name', async () => {
    const { services } = await api();
    await freshMarkdown('course/templated.md', '');
    const outcome = await vscode.commands.executeCommand<GenerationOutcome>('courseIllustrator.generate', { prompt: 'a leaf', seed: 12, template: 'medical-anatomy' });
    assert.ok(outcome);
    // A medical template declares the image medical: its alt text says it is AI-generated.
    assert.strictEqual(outcome.insert.markdown, '![a leaf (AI-generated)](images/templated/a-leaf-12.png)');
    const info = await services.engine.info(outcome.file);
    assert.ok(info.kind === 'png' && info.prompt?.startsWith('a leaf, medical anatomical illustration'), JSON.stringify(info));
    assert.strictEqual(info.kind === 'png' && info.fields?.['Template'], 'medical-anatomy');
  });

  it('follows edits made while the job runs: lines typed above move the insertion point', async () => {
    const { services } = await api();
    const editor = await freshMarkdown('course/moving.md', 'A\nB\n');
    editor.selection = new vscode.Selection(1, 1, 1, 1);
    let progressed = false;
    const sub = services.engine.onJob((e) => e.kind === 'progress' && (progressed = true));
    try {
      const pending = vscode.commands.executeCommand<GenerationOutcome>('courseIllustrator.generate', { prompt: 'a moving train', seed: 4, steps: 150, size: '512x512' });
      await waitFor('progress', () => progressed, 30_000);
      await editor.edit((b) => b.insert(new vscode.Position(0, 0), 'new line 1\nnew line 2\n'));
      const outcome = await pending;
      assert.ok(outcome);
      assert.strictEqual(editor.document.getText(), 'new line 1\nnew line 2\nA\nB\n![a moving train](images/moving/a-moving-train-4.png)\n');
    } finally {
      sub.dispose();
    }
  });

  it('queues two jobs with the same prompt and seed without a name clash', async () => {
    const editor = await freshMarkdown('course/twice.md', '\n');
    editor.selection = new vscode.Selection(0, 0, 0, 0);
    const [a, b] = await Promise.all([
      vscode.commands.executeCommand<GenerationOutcome>('courseIllustrator.generate', { prompt: 'a twin star', seed: 5, position: { line: 0, character: 0 } }),
      vscode.commands.executeCommand<GenerationOutcome>('courseIllustrator.generate', { prompt: 'a twin star', seed: 5, position: { line: 1, character: 0 } }),
    ]);
    assert.ok(a && b, 'both jobs succeed');
    assert.deepStrictEqual([path.basename(a.file), path.basename(b.file)].sort(), ['a-twin-star-5-2.png', 'a-twin-star-5.png']);
    // Each lands where it was asked for, whichever finished first.
    assert.strictEqual(editor.document.getText(), `${a.insert.markdown}\n${b.insert.markdown}`);
  });

  it('applies inserts into one document that overlap in time, none refused', async () => {
    const { services } = await api();
    const editor = await freshMarkdown('course/burst.md', 'Top\n\nEnd\n');
    const uri = editor.document.uri;
    const names = ['one', 'two', 'three', 'four', 'five', 'six'];
    const image = (name: string) => path.join(workspaceDir(), 'course', 'images', 'burst', `${name}.png`);
    // Started a few milliseconds apart, like jobs finishing together: each edit is read while
    // an earlier one is still being applied.
    const results = await Promise.all(
      names.map(async (n, i) => {
        await new Promise((r) => setTimeout(r, i * 3));
        return services.insertImage({ uri, position: new vscode.Position(1, 0) }, image(n), n);
      }),
    );
    assert.strictEqual(results.length, names.length);
    const lines = editor.document.getText().split('\n');
    assert.deepStrictEqual(lines.filter((l) => l.startsWith('![')).sort(), names.map((n) => `![${n}](images/burst/${n}.png)`).sort());
    assert.deepStrictEqual([lines[0], lines.length], ['Top', names.length + 3]);
  });

  it('gives every inserted image its own line, also when inserting twice at the same spot', async () => {
    const editor = await freshMarkdown('course/spot.md', 'Intro\n\nOutro\n');
    const at = (line: number, character: number) => ({ line, character });
    const run = (prompt: string, seed: number, position: { line: number; character: number }) =>
      vscode.commands.executeCommand<GenerationOutcome>('courseIllustrator.generate', { prompt, seed, position });
    assert.ok(await run('a first dot', 1, at(1, 0)), 'first insert');
    assert.ok(await run('a second dot', 2, at(1, 0)), 'second insert at the same spot');
    assert.ok(await run('a third dot', 3, at(0, 5)), 'third insert at the end of a line of text');
    assert.strictEqual(
      editor.document.getText(),
      'Intro\n![a third dot](images/spot/a-third-dot-3.png)\n![a second dot](images/spot/a-second-dot-2.png)\n![a first dot](images/spot/a-first-dot-1.png)\nOutro\n',
    );
  });
});
