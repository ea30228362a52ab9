// UI test in real VS Code (code-server + Chromium): "Illustrate All Stubs" on a lesson with three
// stubs. The count question comes first, then one progress notification for the run; the window
// is reloaded mid-queue, the new window offers to resume, and the run ends with all three links
// in and no image made twice.
//
//   npx mocha --no-config -r tsx/cjs --timeout 300000 test/e2e/ui/course.ui.ts   (part of npm run test:ui)

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureFixture } from '../../fixtures/tinyPipeline';
import { OUTPUT_DIR, launchWorkbench, openFile, reloadWindow, runCommand, screenshot, waitForEditorText, waitForNotification, type Workbench } from '../harness';
import { prepare } from '../runHost';
import { makeWorkspace } from '../workspace';

const RUN = `course-ui-${process.pid}`;

const LESSON = ['# Cells', '', '![a plant cell]()', '', '<!-- illustrate: an animal cell | seed: 7 -->', '', 'More text.', '', '![a red blood cell](TODO)', ''].join('\n');

function pngsUnder(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.png')).sort() : [];
}

describe('Illustrate All Stubs in VS Code, through a window reload (UI)', function () {
  this.timeout(300_000);
  let wb: Workbench;
  let ws: string;

  before(async () => {
    prepare();
    const modelDir = await ensureFixture('tiny-a');
    // Slow enough on the tiny model that the reload lands while the queue runs.
    ws = makeWorkspace(path.join(OUTPUT_DIR, 'workspaces', RUN), { modelDir, settings: { 'courseIllustrator.size': '1536x1536', 'courseIllustrator.steps': 150 } });
    fs.writeFileSync(path.join(ws, 'course', 'cells.md'), LESSON);
    wb = await launchWorkbench({ name: RUN, folder: ws });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && wb) await screenshot(wb.page, `course-failed-${this.currentTest.title.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`);
  });

  after(async () => {
    await wb?.close();
  });

  it('asks with the count, shows the run in one notification, resumes after a reload and inserts every link once', async () => {
    const { page } = wb;
    await openFile(page, 'course/cells.md');
    await runCommand(page, 'Course Illustrator: Illustrate All Stubs');
    const dialog = page.locator('.monaco-dialog-box', { hasText: 'Illustrate 3 stubs in cells.md?' });
    await dialog.waitFor({ timeout: 30_000 });
    assert.match((await dialog.textContent()) ?? '', /a first guess/, 'no image made here yet: the estimate says it is a guess');
    await screenshot(page, 'course-1-question');
    await dialog.getByRole('button', { name: 'Illustrate', exact: true }).click();

    await waitForNotification(page, /1 of 3: a plant cell/, 60_000);
    await waitForNotification(page, /step \d+\/150/, 60_000);
    await screenshot(page, 'course-2-progress');
    // The first link is in (and saved); reload while the second image is being made.
    await waitForEditorText(page, /!\[a plant cell\]\(images\/cells\/a-plant-cell-\d+\.png\)/, 120_000);
    await waitForNotification(page, /2 of 3: an animal cell/, 30_000);
    await reloadWindow(page);

    const offer = await waitForNotification(page, /Resume illustrating the course \((2 stubs|1 stub) left\)\?/, 60_000);
    const left = /\((\d) stubs? left\)/.exec((await offer.textContent()) ?? '')?.[1];
    await screenshot(page, 'course-3-resume');
    await offer.getByRole('button', { name: 'Resume', exact: true }).click();
    await waitForNotification(page, new RegExp(`Done illustrating: ${left} illustrated\\.`), 180_000);

    await waitForEditorText(page, /!\[a red blood cell\]\(images\/cells\/a-red-blood-cell-\d+\.png\)/, 10_000);
    await screenshot(page, 'course-4-done');
    // Each lesson is saved after its image goes in: the file holds the links, in line order
    // (Monaco's DOM does not keep it).
    const text = fs.readFileSync(path.join(ws, 'course', 'cells.md'), 'utf8');
    assert.match(text, /^# Cells\n\n!\[a plant cell\]\(images\/cells\/a-plant-cell-\d+\.png\)\n\n<!-- illustrate: an animal cell \| seed: 7 -->\n!\[an animal cell\]\(images\/cells\/an-animal-cell-7\.png\)\n\nMore text\.\n\n!\[a red blood cell\]\(images\/cells\/a-red-blood-cell-\d+\.png\)\n$/);
    for (const alt of ['a plant cell', 'an animal cell', 'a red blood cell']) {
      assert.equal(text.split(`![${alt}](`).length - 1, 1, `one link for ${alt}`);
    }
    assert.doesNotMatch(text, /\]\(\)|\]\(TODO\)/, 'no stub left');
    // The image cancelled by the reload was never written; each stub has exactly one file.
    const files = pngsUnder(path.join(ws, 'course', 'images'));
    assert.equal(files.length, 3, files.join(', '));
    for (const f of files) assert.ok(text.includes(`images/${f.replace(/\\/g, '/')}`), `${f} is linked`);
  });
});
