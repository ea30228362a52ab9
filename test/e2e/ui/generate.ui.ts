// UI tests in real VS Code (code-server + Chromium): what a user clicks and sees.
//
//   npm run test:ui      (or: npx mocha --no-config -r tsx/cjs --timeout 300000 test/e2e/ui/generate.ui.ts)

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ensureFixture } from '../../fixtures/tinyPipeline';
import {
  OUTPUT_DIR,
  answerQuickInput,
  clickCodeLens,
  cursorToEnd,
  launchWorkbench,
  openFile,
  runCommand,
  screenshot,
  waitForEditorText,
  waitForNotification,
  type Workbench,
} from '../harness';
import { prepare } from '../runHost';
import { makeWorkspace } from '../workspace';

describe('Course Illustrator in VS Code (UI)', function () {
  this.timeout(180_000);
  let wb: Workbench;
  let ws: string;

  before(async () => {
    prepare();
    const modelDir = await ensureFixture('tiny-a');
    // Enough steps that the progress notification stays up long enough to be seen.
    ws = makeWorkspace(path.join(OUTPUT_DIR, 'workspaces', 'ui'), { modelDir, settings: { 'courseIllustrator.steps': 150, 'courseIllustrator.size': '1024x1024' } });
    wb = await launchWorkbench({ name: 'ui', folder: ws });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && wb) await screenshot(wb.page, `failed-${this.currentTest.title.replace(/[^a-z0-9]+/gi, '-')}`);
  });

  after(async () => {
    await wb?.close();
  });

  it('palette -> progress notification -> image inserted at the cursor', async () => {
    const { page } = wb;
    await openFile(page, 'course/intro.md');
    await cursorToEnd(page);
    await runCommand(page, 'Course Illustrator: Generate Illustration');
    await answerQuickInput(page, 'a watercolor oak tree', '(1/4)');
    await answerQuickInput(page, undefined, '(2/4)'); // template: none
    await answerQuickInput(page, undefined, '(3/4)'); // size: default
    const started = Date.now();
    await answerQuickInput(page, undefined, '(4/4)'); // negative prompt: keep
    const toast = await waitForNotification(page, /step \d+\/\d+/);
    assert.match((await toast.textContent()) ?? '', /Illustrating.*step \d+\/\d+( · ETA \d+:\d\d)?/);
    // The status bar says it too, wherever the job came from.
    await page.locator('.statusbar-item', { hasText: /Illustrating: step \d+\/150/ }).first().waitFor({ timeout: 30_000 });
    await screenshot(page, 'ui-generate-progress');
    await waitForEditorText(page, '![a watercolor oak tree](images/intro/a-watercolor-oak-tree-');
    const ms = Date.now() - started;
    console.log(`      palette -> inserted link: ${ms} ms (150 steps, 1024x1024, tiny model, first run starts the engine)`);
    await screenshot(page, 'ui-generate-inserted');
    const folder = path.join(ws, 'course', 'images', 'intro');
    const files = readdirSync(folder);
    assert.equal(files.length, 1);
    assert.match(files[0], /^a-watercolor-oak-tree-\d+\.png$/);
    const text = readFileSync(path.join(ws, 'course', 'intro.md'), 'utf8');
    assert.ok(!text.includes('watercolor'), 'the editor is not saved by the extension (the user saves)');
  });

  it('clicking the CodeLens of a stub replaces it with the image link', async () => {
    const { page } = wb;
    await openFile(page, 'course/stubs.md');
    await clickCodeLens(page, 'Generate illustration');
    await waitForEditorText(page, /!\[a labelled plant cell\]\(images\/stubs\/a-labelled-plant-cell-\d+\.png\)/);
    await screenshot(page, 'ui-codelens-replaced');
    const folder = path.join(ws, 'course', 'images', 'stubs');
    assert.ok(existsSync(folder) && readdirSync(folder).some((f) => /^a-labelled-plant-cell-\d+\.png$/.test(f)));
    // The lenses above the new image come from its PNG metadata.
    await page.locator('.codelens-decoration a', { hasText: 'Regenerate' }).first().waitFor({ timeout: 30_000 });
    await screenshot(page, 'ui-codelens-regenerate');
  });

  it('a tiny generation (64x64, 3 steps) from an illustrate comment lands under it', async () => {
    const { page } = wb;
    await openFile(page, 'course/stubs.md');
    const started = Date.now();
    await clickCodeLens(page, 'Generate illustration');
    // (Monaco's DOM does not keep line order, so only the link is checked here; the in-host
    // suite checks the exact line.)
    await waitForEditorText(page, '![a heart cross-section](images/stubs/a-heart-cross-section-42.png)');
    console.log(`      CodeLens click -> inserted link (warm engine, 64x64, 3 steps): ${Date.now() - started} ms`);
    assert.ok(existsSync(path.join(ws, 'course', 'images', 'stubs', 'a-heart-cross-section-42.png')));
    await screenshot(page, 'ui-directive-generated');
  });
});
