// "Illustrate All Stubs in Folder": a folder of two lessons with three stubs is illustrated in
// one run; every link goes where its lens would put it and every file is there.

import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { RunSummary } from '../../../src/extension/course/courseRun';
import { api, listFiles, workspaceDir } from './helpers';

function write(rel: string, text: string): vscode.Uri {
  const file = path.join(workspaceDir(), rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return vscode.Uri.file(file);
}

describe('Illustrate All Stubs', () => {
  it('illustrates a folder of two lessons, three stubs, in lesson order; an illustrated directive is left alone', async () => {
    const folder = path.join(workspaceDir(), 'all-course');
    fs.rmSync(folder, { recursive: true, force: true });
    const one = write('all-course/lesson-1.md', '# One\n\n![a red apple]()\n\n<!-- illustrate: a pear | seed: 5 -->\n\nEnd.\n');
    const two = write('all-course/lesson-2.md', '# Two\n\n<!-- illustrate: a plum | seed: 6 -->\n![a plum](old.png)\n\n![a green leaf](TODO)\n');
    const summary = await vscode.commands.executeCommand<RunSummary>('courseIllustrator.illustrateAllInFolder', vscode.Uri.file(folder), { ask: false });
    assert.deepStrictEqual(summary, { done: 3, skipped: 0, gone: 0, failed: 0, left: 0, cancelled: false });

    const text1 = (await vscode.workspace.openTextDocument(one)).getText();
    const apple = /!\[a red apple\]\(images\/lesson-1\/(a-red-apple-\d+\.png)\)/.exec(text1);
    assert.ok(apple, text1);
    assert.strictEqual(text1, `# One\n\n![a red apple](images/lesson-1/${apple[1]})\n\n<!-- illustrate: a pear | seed: 5 -->\n![a pear](images/lesson-1/a-pear-5.png)\n\nEnd.\n`);
    const text2 = (await vscode.workspace.openTextDocument(two)).getText();
    const leaf = /!\[a green leaf\]\(images\/lesson-2\/(a-green-leaf-\d+\.png)\)/.exec(text2);
    assert.ok(leaf, text2);
    assert.strictEqual(text2, `# Two\n\n<!-- illustrate: a plum | seed: 6 -->\n![a plum](old.png)\n\n![a green leaf](images/lesson-2/${leaf[1]})\n`, 'the plum had an image: left as it was');
    assert.deepStrictEqual(listFiles(path.join(folder, 'images')), [`lesson-1/${apple[1]}`, 'lesson-1/a-pear-5.png', `lesson-2/${leaf[1]}`].sort());

    // Nothing left: the next run has nothing to do and nothing is saved for a resume.
    const again = await vscode.commands.executeCommand<RunSummary | undefined>('courseIllustrator.illustrateAllInFolder', vscode.Uri.file(folder), { ask: false });
    assert.strictEqual(again, undefined);
  });

  it('gives every stub of the run the course style of .course-illustrator/course.json; a wrong file stops the run before it starts', async () => {
    const styleFile = path.join(workspaceDir(), '.course-illustrator', 'course.json');
    fs.mkdirSync(path.dirname(styleFile), { recursive: true });
    try {
      const lesson = write('styled/lesson.md', '![a frog]()\n\n<!-- illustrate: a toad | seed: 9 | size: 64x64 -->\n');
      fs.writeFileSync(styleFile, JSON.stringify({ style: 'flat textbook illustration', size: '96x64', seedBase: 1000, colour: 'red' }));
      const refused = await vscode.commands.executeCommand<RunSummary | undefined>('courseIllustrator.illustrateAll', lesson, { ask: false });
      assert.strictEqual(refused, undefined, 'an unknown key stops the run');
      assert.strictEqual((await vscode.workspace.openTextDocument(lesson)).getText().split('\n')[0], '![a frog]()');

      fs.writeFileSync(styleFile, JSON.stringify({ style: 'flat textbook illustration', size: '96x64', seedBase: 1000 }));
      const summary = await vscode.commands.executeCommand<RunSummary>('courseIllustrator.illustrateAll', lesson, { ask: false });
      assert.strictEqual(summary?.done, 2);
      const text = (await vscode.workspace.openTextDocument(lesson)).getText();
      assert.strictEqual(text, '![a frog](images/lesson/a-frog-1000.png)\n\n<!-- illustrate: a toad | seed: 9 | size: 64x64 -->\n![a toad](images/lesson/a-toad-9.png)\n', 'seedBase + place; the style is not in names or alt text');
      const frog = fs.readFileSync(path.join(workspaceDir(), 'styled', 'images', 'lesson', 'a-frog-1000.png')).toString('latin1');
      assert.match(frog, /a frog, flat textbook illustration\n/);
      assert.match(frog, /Seed: 1000, Size: 96x64/);
      const toad = fs.readFileSync(path.join(workspaceDir(), 'styled', 'images', 'lesson', 'a-toad-9.png')).toString('latin1');
      assert.match(toad, /a toad, flat textbook illustration\n/);
      assert.match(toad, /Seed: 9, Size: 64x64/, "the stub's own seed and size win");
    } finally {
      fs.rmSync(styleFile, { force: true });
    }
  });

  it('"Skip Current Stub" cancels the running image and goes on with the next', async () => {
    const { services } = await api();
    const lesson = write('skip/lesson.md', '<!-- illustrate: a slow volcano | size: 1024x1024 | steps: 150 -->\n\n![a quick pebble]()\n');
    const started = new Promise<void>((resolve) => {
      const sub = services.engine.onJob((e) => {
        if (e.kind === 'progress' && e.progress.stage === 'denoise') {
          sub.dispose();
          resolve();
        }
      });
    });
    const run = vscode.commands.executeCommand<RunSummary>('courseIllustrator.illustrateAll', lesson, { ask: false });
    await started;
    await vscode.commands.executeCommand('courseIllustrator.skipCurrentStub');
    const summary = await run;
    assert.deepStrictEqual(summary, { done: 1, skipped: 1, gone: 0, failed: 0, left: 0, cancelled: false });
    const text = (await vscode.workspace.openTextDocument(lesson)).getText();
    assert.match(text, /^<!-- illustrate: a slow volcano \| size: 1024x1024 \| steps: 150 -->\n\n!\[a quick pebble\]\(images\/lesson\/a-quick-pebble-\d+\.png\)\n$/);
    assert.deepStrictEqual(listFiles(path.join(workspaceDir(), 'skip', 'images', 'lesson')).filter((f) => f.startsWith('a-slow')), [], 'the skipped image was never written');
  });

  it('"Review First" keeps the images out of the lesson until accepted; Insert puts them in as one edit, one Undo takes them out', async () => {
    const lesson = write('review/lesson.md', '# Review\n\n![a red apple]()\n\n<!-- illustrate: a pear | seed: 5 -->\n\n![a red apple]()\n');
    const before = (await vscode.workspace.openTextDocument(lesson)).getText();
    const summary = await vscode.commands.executeCommand<RunSummary>('courseIllustrator.illustrateAll', lesson, { ask: false, review: true });
    assert.strictEqual(summary?.done, 3);
    assert.strictEqual((await vscode.workspace.openTextDocument(lesson)).getText(), before, 'nothing in the lesson yet');
    assert.ok(!fs.existsSync(path.join(workspaceDir(), 'review', 'images')), 'no image in the course yet');

    await vscode.commands.executeCommand('courseIllustrator.review.insertAll');
    const document = await vscode.workspace.openTextDocument(lesson);
    const text = document.getText();
    const apples = [...text.matchAll(/!\[a red apple\]\(images\/lesson\/(a-red-apple-\d+\.png)\)/g)];
    assert.strictEqual(apples.length, 2, text);
    assert.notStrictEqual(apples[0][1], apples[1][1], 'two stubs with the same prompt get their own images');
    assert.match(text, /<!-- illustrate: a pear \| seed: 5 -->\n!\[a pear\]\(images\/lesson\/a-pear-5\.png\)\n/);
    assert.deepStrictEqual(listFiles(path.join(workspaceDir(), 'review', 'images')).length, 3);

    // One edit: one Undo brings every stub back.
    await vscode.window.showTextDocument(document);
    await vscode.commands.executeCommand('undo');
    assert.strictEqual(document.getText(), before);
  });
});
