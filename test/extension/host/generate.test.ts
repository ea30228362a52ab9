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

  it('stamps medical prompts (domain medical) and records the parameters in the PNG', async () => {
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
    assert.strictEqual(outcome.insert.markdown, '![a leaf](images/templated/a-leaf-12.png)');
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
      assert.strictEqual(editor.document.getText(), 'new line 1\nnew line 2\nA\nB![a moving train](images/moving/a-moving-train-4.png)\n');
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
  });
});
