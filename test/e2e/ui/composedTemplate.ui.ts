// UI test in real VS Code (code-server + Chromium) of issue 15's last rough edges: variations are
// chosen in the panel, which opens for them when it is closed (keeping the Markdown file it works
// for), and closing it while it asks chooses none; a template composed from its parts (school
// level, subject, content type) in the panel and in the palette goes into the PNG's parameters,
// and Reuse settings brings the parts back.
//
//   npx mocha --no-config -r tsx/cjs --timeout 300000 test/e2e/ui/composedTemplate.ui.ts   (part of npm run test:ui)

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { ensureFixture } from '../../fixtures/tinyPipeline';
import { OUTPUT_DIR, answerQuickInput, choose, clickCodeLens, cursorToEnd, eventually, launchWorkbench, openFile, runCommand, screenshot, webviewFrame, type Workbench } from '../harness';
import type { InPage, PageImage } from '../pageTypes';
import { prepare } from '../runHost';
import { makeWorkspace } from '../workspace';

const RUN = `composed-ui-${process.pid}`;
const COMPOSED_PROMPT = 'high school biology labelled diagram, a plant cell, clean detailed textbook illustration, accurate proportions, white background, high contrast, no text, no watermark';

function pngs(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.png')).sort() : [];
}

/** The A1111 parameters a PNG of ours carries (its tEXt chunk). */
function parametersOf(file: string): string {
  const png = fs.readFileSync(file).toString('latin1');
  const at = png.indexOf('parameters\0') + 'parameters\0'.length;
  return png.slice(at, png.indexOf('Version:', at));
}

async function selected(frame: Frame, id: string): Promise<string> {
  return frame.locator(`#${id}`).evaluate((s) => (s as InPage).value as string);
}

/** Closes the panel as a user does: the close button on its tab. */
async function closePanel(page: Page): Promise<void> {
  const tab = page.locator('.tab', { hasText: 'Illustrations' }).first();
  await tab.hover();
  await tab.locator('.codicon-close').click();
  await tab.waitFor({ state: 'detached', timeout: 15_000 });
}

/** Saves the Markdown file (as a user does) and reads it from disk. */
async function savedText(page: Page, ws: string, relativePath: string): Promise<string> {
  await page.locator('.tab', { hasText: path.basename(relativePath) }).first().click();
  await page.keyboard.press('Control+S');
  const file = path.join(ws, relativePath);
  await eventually(`${relativePath} saved`, async () => ((await page.locator('.tab.dirty', { hasText: path.basename(relativePath) }).count()) === 0 ? true : undefined));
  return fs.readFileSync(file, 'utf8');
}

describe('the panel chooses variations and composes templates (UI)', function () {
  this.timeout(300_000);
  let wb: Workbench;
  let page: Page;
  let ws: string;
  let failed = false;
  const stubsFolder = () => path.join(ws, 'course', 'images', 'stubs');

  before(async () => {
    prepare();
    const modelDir = await ensureFixture('tiny-a');
    ws = makeWorkspace(path.join(OUTPUT_DIR, 'workspaces', RUN), { modelDir });
    wb = await launchWorkbench({ name: RUN, folder: ws });
    page = wb.page;
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    failed = true;
    await screenshot(page, `composed-failed-${(this.currentTest.title ?? 'test').replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`).catch(() => undefined);
  });

  after(async () => {
    await wb?.close();
    if (failed) console.log(`      kept for a look: ${wb?.runDir} and ${ws}`);
    else for (const d of [wb?.runDir, ws]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  it('with the panel closed, "Generate 4 variations" opens it with four to choose from, keeping its file; the chosen one replaces the stub', async () => {
    // The panel works for intro.md, then is closed.
    await openFile(page, 'course/intro.md');
    await runCommand(page, 'Course Illustrator: Open Illustration Panel');
    const first = await webviewFrame(page, '#ci-panel');
    await first.locator('#target', { hasText: 'intro.md' }).waitFor();
    await closePanel(page);

    await openFile(page, 'course/stubs.md');
    await clickCodeLens(page, 'Generate 4 variations');
    const panel = await webviewFrame(page, '#choose:not([hidden])', 90_000);
    await eventually('four variations decoded', async () => {
      const widths = await panel.locator('#choose-grid img').evaluateAll((imgs) =>
        Promise.all((imgs as unknown as PageImage[]).map(async (i) => (await i.decode().catch(() => undefined), i.naturalWidth))),
      );
      return widths.length === 4 && widths.every((w) => w > 0) ? true : undefined;
    });
    await panel.locator('#target', { hasText: 'intro.md' }).waitFor({ timeout: 5_000 });
    await screenshot(page, 'composed-1-variations-panel-opened');
    const seed = ((await panel.locator('#choose-grid figcaption').nth(2).textContent()) ?? '').replace('seed ', '').trim();
    assert.match(seed, /^\d+$/);
    await panel.locator('#choose-grid [data-choice]').nth(2).click();
    await panel.locator('#choose').waitFor({ state: 'hidden' });
    const file = `a-labelled-plant-cell-${seed}.png`;
    await eventually('the chosen file in the course', () => (pngs(stubsFolder()).length ? true : undefined));
    const text = await savedText(page, ws, 'course/stubs.md');
    assert.ok(text.includes(`\n![a labelled plant cell](images/stubs/${file})\n`), text);
    assert.ok(!text.includes('![a labelled plant cell]()'), 'the stub itself was replaced');
    assert.deepEqual(pngs(stubsFolder()), [file], 'exactly the chosen file landed in the course');
  });

  it('closing the panel while it asks chooses none: the stub stays and no file is written', async () => {
    await openFile(page, 'course/stubs.md');
    // The first stub is an image now; this is the directive's lens.
    await clickCodeLens(page, 'Generate 4 variations');
    const panel = await webviewFrame(page, '#choose:not([hidden])', 90_000);
    await panel.locator('#choose-grid [data-choice]').nth(3).waitFor();
    await closePanel(page);
    await page.waitForTimeout(1500);
    const text = await savedText(page, ws, 'course/stubs.md');
    assert.ok(text.includes('<!-- illustrate: a heart cross-section | seed: 42 | steps: 3 | size: 64x64 -->'), text);
    assert.equal(pngs(stubsFolder()).length, 1, 'no variation of the directive was kept');
  });

  it('composes high school / biology / labelled diagram in the panel: the hint, the result and the PNG say it; Reuse brings the parts back', async () => {
    await openFile(page, 'course/intro.md');
    await cursorToEnd(page);
    await runCommand(page, 'Course Illustrator: Open Illustration Panel');
    const panel = await webviewFrame(page, '#ci-panel');
    // The panel's first message fills the form (all but what was typed before it) and sets the target.
    await panel.locator('#target', { hasText: 'intro.md' }).waitFor();
    await panel.locator('#prompt textarea').fill('a plant cell');
    await choose(panel, 'template', 'compose:edu');
    await panel.locator('#template-edu').waitFor();
    await choose(panel, 'template-level', 'high');
    await choose(panel, 'template-subject', 'biology');
    await choose(panel, 'template-type', 'labelled-diagram');
    await panel.locator('#template-hint', { hasText: `Sent as “${COMPOSED_PROMPT}”.` }).waitFor();
    // The counter counts the composed prompt (3 tokens for the subject alone).
    await panel.locator('#prompt-tokens', { hasText: /^([4-9]|[1-7]\d)\/75$/ }).waitFor({ timeout: 30_000 });
    await screenshot(page, 'composed-2-panel-parts');
    await panel.locator('#generate').click();
    await panel.locator('.result .result-meta', { hasText: 'High school · Biology · Labelled diagram' }).waitFor({ timeout: 60_000 });

    await panel.locator('.result').first().locator('[data-action="insert"]').click();
    await panel.locator('#notice', { hasText: 'Inserted into' }).waitFor();
    const folder = path.join(ws, 'course', 'images', 'intro');
    const [file] = await eventually('the inserted PNG', () => (pngs(folder).length === 1 ? pngs(folder) : undefined));
    const parameters = parametersOf(path.join(folder, file));
    assert.ok(parameters.startsWith(`${COMPOSED_PROMPT}\n`), parameters);
    assert.match(parameters, /Template: edu\.high\.biology\.labelled-diagram/);
    assert.match(file, /^a-plant-cell-\d+\.png$/, 'named after the subject, not the template');

    // Another template in the form, then Reuse settings: the three parts come back.
    await choose(panel, 'template', 'education-primary');
    await panel.locator('#template-edu').waitFor({ state: 'hidden' });
    await panel.locator('.result').first().locator('[data-action="reuse"]').click();
    await panel.locator('#template-edu').waitFor();
    assert.deepEqual(
      [await selected(panel, 'template'), await selected(panel, 'template-level'), await selected(panel, 'template-subject'), await selected(panel, 'template-type')],
      ['compose:edu', 'high', 'biology', 'labelled-diagram'],
    );
    assert.equal(await panel.locator('#prompt textarea').inputValue(), 'a plant cell', 'the prompt box gets the subject back');
  });

  it('composes one in the palette: Compose, then school level, subject and content type', async () => {
    await openFile(page, 'course/intro.md');
    await cursorToEnd(page);
    await runCommand(page, 'Course Illustrator: Generate Illustration');
    await answerQuickInput(page, 'a kidney', '(1/4)');
    await answerQuickInput(page, 'Compose: school level', '(2/4): template');
    await answerQuickInput(page, 'University', 'template · School level');
    await answerQuickInput(page, 'Biology', 'template · Subject');
    await answerQuickInput(page, 'Cross-section', 'template · Content type');
    await answerQuickInput(page, undefined, '(3/4)');
    await answerQuickInput(page, undefined, '(4/4)');
    const folder = path.join(ws, 'course', 'images', 'intro');
    const file = await eventually('the kidney PNG', () => pngs(folder).find((f) => f.startsWith('a-kidney-')), 60_000);
    await eventually('its link in intro.md', async () => ((await savedText(page, ws, 'course/intro.md')).includes(`![a kidney](images/intro/${file})`) ? true : undefined));
    const parameters = parametersOf(path.join(folder, file));
    assert.ok(parameters.startsWith('university biology cross-section diagram, a kidney, detailed scientific illustration'), parameters);
    assert.match(parameters, /Template: edu\.university\.biology\.cross-section/);
  });
});
