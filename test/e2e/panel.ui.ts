// UI test of the results panel and the gallery in real VS Code (code-server + Chromium) with the
// real engine and the tiny test model: type a prompt and see the counter, Generate and see the
// live preview then the image, Insert and find the link in the file on disk, Cancel a long job and
// find no file, then open the gallery, see the thumbnail, search, and insert from it.
// Screenshots of each state go to test-output/screenshots/panel-*.png. Prints the time from Generate to the first preview.
//
//   npx mocha --no-config -r tsx/cjs --timeout 300000 test/e2e/panel.ui.ts   (part of npm run test:ui)

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { ensureFixture } from '../fixtures/tinyPipeline';
import { writeTinyTaesd } from '../fixtures/tinyTaesd';
import { OUTPUT_DIR, clickCodeLens, cursorToEnd, choose, decodedWidth, eventually, launchWorkbench, openActivity, openFile, reloadWindow, runCommand, screenshot, waitForEditorText, webviewFrame, type Workbench } from './harness';
import type { InPage, PageImage } from './pageTypes';
import { prepare } from './runHost';
import { INTRO_MD, makeWorkspace } from './workspace';

// Per process: `npm run test:ui` elsewhere on the machine must not share (and wipe) our folders.
const RUN = `panel-ui-${process.pid}`;
const DOC = 'course/intro.md';

function pngsUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.png')).sort();
}

async function shot(page: Page, name: string): Promise<string> {
  return screenshot(page, `panel-${name}`);
}

async function setField(frame: Frame, id: string, value: string): Promise<void> {
  await frame.locator(`#${id} input`).fill(value);
}

/** Records, inside the panel, when a button is pressed and when the first live preview appears. */
async function watchFirstPreview(frame: Frame, buttonSelector: string): Promise<void> {
  await frame.evaluate((sel) => {
    const w: InPage = globalThis;
    w.__firstPreview = undefined;
    w.__clicked = undefined;
    const img = w.document.getElementById('preview');
    w.__firstPreviewWidth = undefined;
    const observer = new w.MutationObserver(() => {
      if (w.__firstPreview === undefined && String(img.src).startsWith('blob:')) {
        w.__firstPreview = performance.now();
        observer.disconnect();
        img.decode().then(() => (w.__firstPreviewWidth = img.naturalWidth), () => undefined);
      }
    });
    observer.observe(img, { attributes: true, attributeFilter: ['src'] });
    w.document.querySelector(sel).addEventListener('click', () => (w.__clicked ??= performance.now()), { capture: true });
  }, buttonSelector);
}

/** Milliseconds from the press to the first preview, as recorded by watchFirstPreview. */
async function firstPreviewMs(frame: Frame): Promise<number> {
  const t = await frame.evaluate(() => {
    const w: InPage = globalThis;
    return { clicked: w.__clicked as number | undefined, preview: w.__firstPreview as number | undefined };
  });
  assert.ok(t.clicked !== undefined && t.preview !== undefined, `a live preview was shown (${JSON.stringify(t)})`);
  return (t.preview as number) - (t.clicked as number);
}

/** Picks the quick-pick row whose label is exactly `label` (recently used entries sort first). */
async function pickExact(page: Page, label: string): Promise<void> {
  const exact = new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  const row = page.locator('.quick-input-list .monaco-list-row', { has: page.locator('.label-name', { hasText: exact }) }).first();
  await row.waitFor({ timeout: 30000 });
  await row.click();
}

describe('results panel and gallery in VS Code (code-server)', function () {
  this.timeout(300000);
  let wb: Workbench;
  let page: Page;
  let panel: Frame;
  let workspace: string;
  const imagesDir = () => path.join(workspace, 'course', 'images');

  before(async () => {
    prepare();
    const modelDir = await ensureFixture('tiny-a');
    // Live previews through a (stand-in) TAESD decoder, as a user who downloaded it gets them.
    const taesd = await writeTinyTaesd(path.join(OUTPUT_DIR, 'workspaces', `${RUN}-taesd`));
    workspace = makeWorkspace(path.join(OUTPUT_DIR, 'workspaces', RUN), {
      modelDir,
      settings: {
        'courseIllustrator.size': '512x512', 'courseIllustrator.steps': 20, 'courseIllustrator.imageFolder': 'images/',
        'courseIllustrator.previewDecoderPath': taesd,
      },
    });
    // The workbench's console, kept short: printed when a test fails, to tell why.
    wb = await launchWorkbench({ name: RUN, folder: workspace, onConsole: (l) => consoleTail.push(l) && consoleTail.length > 40 && consoleTail.shift() });
    page = wb.page;
  });

  let failed = false;
  const consoleTail: string[] = [];
  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    failed = true;
    const name = (this.currentTest.title ?? 'test').replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
    if (page) await screenshot(page, `panel-failed-${name}`).catch(() => undefined);
    const texts = panel
      ? await panel.evaluate(() => {
          const w: InPage = globalThis;
          return ['notice', 'form-error', 'progress-text'].map((id) => `${id}: ${w.document.getElementById(id)?.textContent ?? ''}`).join('\n');
        }).catch((e: Error) => e.message)
      : '';
    console.log(`      panel state after failure:\n${texts}`);
    console.log(`      workbench console (last lines):\n${consoleTail.map((l) => `        ${l.slice(0, 300)}`).join('\n')}`);
  });

  after(async () => {
    await wb?.close();
    if (failed) console.log(`      kept for a look: ${wb?.runDir} and ${workspace}`);
    else for (const d of [wb?.runDir, workspace]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  it('opens from the palette next to the Markdown file, the selected text as the prompt', async () => {
    await openFile(page, DOC);
    await cursorToEnd(page);
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Shift+End');
    await runCommand(page, 'Course Illustrator: Open Illustration Panel');
    panel = await webviewFrame(page, '#ci-panel');
    await panel.locator('#target', { hasText: 'intro.md' }).waitFor();
    assert.equal(await panel.locator('#prompt textarea').inputValue(), INTRO_MD.split('\n')[2]);
    // Back in the editor, cursor at the end of the document: that is where Insert puts the image.
    await cursorToEnd(page);
  });

  it('counts tokens while typing', async () => {
    await panel.locator('#prompt textarea').fill('a friendly (heart:1.2) diagram, flat illustration');
    await panel.locator('#prompt-tokens', { hasText: /^(?!0\/75)\d+\/75$/ }).waitFor({ timeout: 30000 });
    const text = await panel.locator('#prompt-tokens').textContent();
    assert.match(text ?? '', /^\d+\/75$/);
    await shot(page, '1-panel-prompt');
  });

  it('shows a live preview, then the image, and reports the time to the first preview', async () => {
    await setField(panel, 'steps', '40');
    await setField(panel, 'seed', '1234');
    await watchFirstPreview(panel, '#generate');
    await panel.locator('#generate').click();
    const natural = await decodedWidth(panel.locator('.result img').first());
    assert.ok(natural > 0, 'the result image loads');
    const ms = await firstPreviewMs(panel);
    console.log(`      time from Generate to first preview (first job: model sessions and the TAESD decoder load in it; tiny-a, 512x512, 40 steps): ${ms.toFixed(0)} ms`);
    const previewWidth = await panel.evaluate(() => (globalThis as InPage).__firstPreviewWidth as number | undefined);
    assert.equal(previewWidth, 256, 'the preview came from the TAESD decoder (the approximation would be 128 wide)');
    fs.writeFileSync(path.join(OUTPUT_DIR, 'panel-first-preview-ms.txt'), `${ms.toFixed(0)}\n`);
    assert.equal(pngsUnder(imagesDir()).length, 0, 'the result waits outside the course until it is inserted');
    await shot(page, '2-panel-result');
  });

  it('inserts the image at the cursor in the Markdown file', async () => {
    await panel.locator('.result').first().locator('[data-action="insert"]').click();
    await panel.locator('#notice', { hasText: 'Inserted into' }).waitFor();
    // Save the document like a user does, then look at the file on disk.
    await page.locator('.tab', { hasText: 'intro.md' }).first().click();
    await page.keyboard.press('Control+S');
    const text = await eventually('the link in intro.md on disk', () => {
      const t = fs.readFileSync(path.join(workspace, DOC), 'utf8');
      return /!\[[^\]]*\]\(images\/[^)]+\.png\)/.test(t) ? t : undefined;
    });
    assert.ok(text.startsWith(INTRO_MD.trimEnd()), 'the original text is kept');
    const link = /!\[[^\]]*\]\((images\/[^)]+\.png)\)/.exec(text)?.[1] ?? '';
    assert.ok(fs.existsSync(path.join(workspace, 'course', decodeURI(link))), `the link ${link} points at the file`);
    assert.equal(pngsUnder(imagesDir()).length, 1, 'Insert copied exactly that image into the course');
    await shot(page, '3-inserted');
  });

  it('cancels a long job and writes no file', async () => {
    const before = pngsUnder(imagesDir());
    await choose(panel, 'size', 'custom');
    // About a minute of work with the tiny model: 2048x2048, 150 steps, 4 images.
    await setField(panel, 'width', '2048');
    await setField(panel, 'height', '2048');
    await setField(panel, 'steps', '150');
    await setField(panel, 'batch', '4');
    await panel.locator('#generate').click();
    await panel.locator('#progress-text', { hasText: /Image 1\/4 · Step \d+\// }).waitFor({ timeout: 30000 });
    // A second job waits in the queue behind it, and can be removed from there.
    await panel.locator('#prompt textarea').fill('a second, queued heart');
    await panel.locator('#generate').click();
    await panel.locator('#queue li', { hasText: 'a second, queued heart' }).waitFor({ timeout: 15000 });
    await shot(page, '4-long-job-progress');
    await panel.locator('#queue li vscode-button').click();
    await panel.locator('#queue-box').waitFor({ state: 'hidden', timeout: 15000 });
    assert.match((await panel.locator('#progress-text').textContent()) ?? '', /Image 1\/4 · Step/, 'the running job goes on');
    await panel.locator('#cancel').click();
    await panel.locator('#progress-text', { hasText: 'Cancelled' }).waitFor({ timeout: 30000 });
    await page.waitForTimeout(1000);
    assert.deepEqual(pngsUnder(imagesDir()), before, 'no new image file after Cancel');
    await shot(page, '5-cancelled');
  });

  it('lists the image in the gallery, searches, and inserts from it', async () => {
    await openActivity(page, 'Illustrations');
    const gallery = await webviewFrame(page, '#ci-gallery');
    const w = await decodedWidth(gallery.locator('.card img[src]').first());
    assert.ok(w > 0, 'the thumbnail loads');
    assert.equal(await gallery.locator('.card').count(), 1);
    await shot(page, '6-gallery');

    await gallery.locator('#search input').fill('zebra');
    await gallery.locator('#status', { hasText: '0 matching' }).waitFor();
    await gallery.locator('#search input').fill('heart diagram');
    await gallery.locator('#status', { hasText: '1 matching' }).waitFor();
    await shot(page, '7-gallery-search');

    // Cursor to the end of the document, then insert from the gallery with the keyboard.
    await cursorToEnd(page);
    await gallery.locator('.card').first().focus();
    await gallery.locator('.card').first().press('Enter');
    await gallery.locator('#preview:not([hidden])').waitFor();
    await gallery.locator('#preview-insert').click();
    await gallery.locator('#notice', { hasText: 'Inserted' }).waitFor();
    await shot(page, '8-gallery-inserted');
    await page.locator('.tab', { hasText: 'intro.md' }).first().click();
    await page.keyboard.press('Control+S');
    await eventually('two image links in intro.md on disk', () => {
      const t = fs.readFileSync(path.join(workspace, DOC), 'utf8');
      return (t.match(/!\[[^\]]*\]\(images\//g) ?? []).length === 2 ? t : undefined;
    });
    await gallery.locator('#preview-close').click();
  });

  it('follows the dark and high-contrast themes', async () => {
    for (const [theme, bodyClass, name] of [
      ['Dark Modern', 'vscode-dark', '9-theme-dark'],
      ['Dark High Contrast', 'vscode-high-contrast', '10-theme-high-contrast'],
      ['Light Modern', 'vscode-light', ''],
    ] as const) {
      await page.keyboard.press('F1');
      const input = page.locator('.quick-input-widget input');
      await input.fill('>Preferences: Color Theme');
      await pickExact(page, 'Preferences: Color Theme');
      await input.fill(theme);
      await pickExact(page, theme);
      await eventually(`the panel in ${theme}`, async () => ((await panel.locator('body').getAttribute('class'))?.includes(bodyClass) ? true : undefined));
      await panel.locator('#generate').focus();
      await page.waitForTimeout(300);
      if (name) await shot(page, name);
    }
  });

  it('comes back after a window reload with its results and form', async () => {
    const prompt = await panel.locator('#prompt textarea').inputValue();
    // Only the panel's webview restores: in code-server all webviews share one origin, and two
    // restoring at once (panel and gallery) race for its service worker; the loser stays blank
    // ("Found unexpected service worker controller"). Desktop VS Code gives each its own origin.
    await openActivity(page, 'Explorer');
    await reloadWindow(page);
    panel = await webviewFrame(page, '#ci-panel', 90000);
    await panel.locator('.result img').first().waitFor({ timeout: 30000 });
    assert.equal(await panel.locator('#prompt textarea').inputValue(), prompt, 'the prompt the user was editing is kept');
    assert.equal(await panel.locator('.result').count(), 1);
    await shot(page, '11-after-reload');
  });

  it('shows parameters, reuses settings and regenerates with a new seed', async () => {
    const card = panel.locator('.result').first();
    await card.locator('[data-action="showParameters"]').click();
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.filter({ hasText: 'Seed: 1234' }).waitFor();
    assert.match((await dialog.textContent()) ?? '', /Steps: 40/);
    await shot(page, '12-parameters');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });

    await card.locator('[data-action="reuse"]').click();
    await eventually('the reused seed in the form', async () => ((await panel.locator('#seed input').inputValue()) === '1234' ? true : undefined));
    assert.equal(await panel.locator('#steps input').inputValue(), '40');
    assert.equal(await panel.locator('#batch input').inputValue(), '1');
    assert.equal(await panel.locator('#size').evaluate((s) => (s as InPage).value as string), '512x512');
    assert.equal(await panel.locator('#seed-lock').evaluate((c) => (c as InPage).checked as boolean), true);

    await watchFirstPreview(panel, '.result [data-action="regenerate"]');
    await card.locator('[data-action="regenerate"]').click();
    await eventually('a second result', async () => ((await panel.locator('.result').count()) === 2 ? true : undefined), 60000);
    const meta = await panel.locator('.result .result-meta').first().textContent();
    assert.doesNotMatch(meta ?? '', /seed 1234 /, 'the new image has a new seed');
    const warm = await firstPreviewMs(panel);
    console.log(`      time from Regenerate to first preview (warm engine, same model and size): ${warm.toFixed(0)} ms`);
    fs.writeFileSync(path.join(OUTPUT_DIR, 'panel-first-preview-warm-ms.txt'), `${warm.toFixed(0)}\n`);
    assert.equal(pngsUnder(imagesDir()).length, 1, 'a regenerated result waits outside the course too');
    await shot(page, '13-regenerated');
  });

  it('wraps the prompt in a chosen template: hint, token count, the result and the PNG say so', async () => {
    await panel.locator('#prompt textarea').fill('a volcano');
    await choose(panel, 'size', 'custom');
    await setField(panel, 'width', '64');
    await setField(panel, 'height', '64');
    await setField(panel, 'steps', '3');
    await setField(panel, 'batch', '1');
    // CLIP tokens: "a volcano" is 2; wrapped in the template it is 13.
    await panel.locator('#prompt-tokens', { hasText: /^2\/75$/ }).waitFor({ timeout: 30000 });
    await choose(panel, 'template', 'education-primary');
    await panel.locator('#template-hint', { hasText: 'Sent as “a volcano, simple friendly flat illustration, bright colours, clear shapes”.' }).waitFor();
    await panel.locator('#prompt-tokens', { hasText: /^13\/75$/ }).waitFor({ timeout: 30000 });
    assert.equal(await panel.locator('#prompt textarea').inputValue(), 'a volcano', 'the prompt box keeps the subject');
    await shot(page, '15-template');

    const before = new Set(pngsUnder(imagesDir()));
    const cards = await panel.locator('.result').count();
    await panel.locator('#generate').click();
    await eventually('the templated result', async () => ((await panel.locator('.result').count()) === cards + 1 ? true : undefined), 60000);
    assert.match((await panel.locator('.result .result-meta').first().textContent()) ?? '', /Education · Primary school/);
    // Copy Markdown keeps the result in the course (a link must point at a file there).
    await panel.locator('.result').first().locator('[data-action="copyMarkdown"]').click();
    await panel.locator('#notice', { hasText: 'Markdown copied' }).waitFor();
    const added = pngsUnder(imagesDir()).filter((f) => !before.has(f));
    assert.equal(added.length, 1, `one new image (${added.join(', ')})`);
    assert.match(path.basename(added[0]), /volcano/);
    assert.doesNotMatch(path.basename(added[0]), /friendly/, 'the file is named after the subject, not the template');
    const png = fs.readFileSync(path.join(imagesDir(), added[0])).toString('latin1');
    const parameters = png.slice(png.indexOf('parameters\0') + 11, png.indexOf('Version:', png.indexOf('parameters\0')));
    assert.match(parameters, /^a volcano, simple friendly flat illustration, bright colours, clear shapes\n/);
    assert.match(parameters, /Template: education-primary/);
  });

  it('inserting from a panel opened on a stub replaces that stub, not the text at the old cursor', async () => {
    fs.writeFileSync(path.join(workspace, 'course', 'cells.md'), '# Blood\n\nSome text.\n\n![a red blood cell]()\n\nMore text.\n');
    await openFile(page, 'course/cells.md');
    await clickCodeLens(page, 'Open in panel');
    // The panel's webview may be loaded again for the new document: find its frame anew.
    await page.waitForTimeout(500);
    panel = await webviewFrame(page, '#ci-panel');
    await eventually('the stub\'s prompt in the form', async () => ((await panel.locator('#prompt textarea').inputValue()) === 'a red blood cell' ? true : undefined));
    const before = await panel.locator('.result').count();
    await panel.locator('#generate').click();
    await eventually('the new result', async () => ((await panel.locator('.result').count()) > before ? true : undefined), 60000);
    await panel.locator('.result').first().locator('[data-action="insert"]').click();
    await panel.locator('#notice', { hasText: 'cells.md' }).waitFor();
    await page.locator('.tab', { hasText: 'cells.md' }).first().click();
    const text = await waitForEditorText(page, /!\[a red blood cell\]\(images\/([^)]*\/)?a-red-blood-cell-\d+(-\d+)?\.png\)/, 30000);
    assert.ok(!text.includes('![a red blood cell]()'), 'the stub itself was replaced');
    await shot(page, '9-stub-replaced');
  });

  it('lets the user choose among variations from a CodeLens while it is open', async () => {
    await openFile(page, 'course/stubs.md');
    await clickCodeLens(page, 'Generate 4 variations');
    // The variations live outside the workspace, so the panel widens its roots (the webview reloads).
    panel = await webviewFrame(page, '#choose:not([hidden])', 60000);
    const choose = panel.locator('#choose');
    await eventually('four variations decoded', async () => {
      const n = await panel.locator('#choose-grid img').evaluateAll((imgs) =>
        Promise.all((imgs as unknown as PageImage[]).map(async (i) => (await i.decode().catch(() => undefined), i.naturalWidth))),
      );
      return n.length === 4 && n.every((w) => w > 0) ? true : undefined;
    }, 30000);
    await shot(page, '14-choose-variation');
    const seed = ((await panel.locator('#choose-grid figcaption').nth(1).textContent()) ?? '').replace('seed ', '');
    await panel.locator('#choose-grid [data-choice]').nth(1).click();
    await choose.waitFor({ state: 'hidden' });
    await page.locator('.tab', { hasText: 'stubs.md' }).first().click();
    const text = await waitForEditorText(page, /!\[a labelled plant cell\]\([^)]+\.png\)/, 30000);
    assert.ok(text.includes(seed), `the chosen variation (seed ${seed}) was inserted: ${text.slice(0, 200)}`);
  });

});
