// UI test in real VS Code (code-server + Chromium): the gallery's "not linked from any document"
// filter and its clean-up. A lesson links one of three PNGs with A1111 parameters; the filter
// shows the other two with a "not linked" badge; "Move Unlinked Images to Trash…" asks, then
// moves exactly those two to the trash (code-server has no desktop trash: the freedesktop trash
// in the run's home) and keeps the linked one. A link typed into the open lesson, unsaved, links
// a new image at once; a tile's own trash button asks first.
//
//   npx mocha --no-config -r tsx/cjs --timeout 300000 test/e2e/ui/galleryCleanup.ui.ts   (part of npm run test:ui)

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { Frame, Page } from 'playwright-core';
import { PNG_SIGNATURE, encodeChunk, makeTextChunk } from '../../../src/engine/image/pngChunks';
import { ensureFixture } from '../../fixtures/tinyPipeline';
import { OUTPUT_DIR, cursorToEnd, launchWorkbench, openActivity, openFile, screenshot, waitForNotification, webviewFrame, type Workbench } from '../harness';
import { prepare } from '../runHost';
import { makeWorkspace } from '../workspace';

const RUN = `gallery-cleanup-ui-${process.pid}`;

/** An 8x8 PNG as AUTOMATIC1111 writes it: a `parameters` text chunk. */
function a1111Png(prompt: string, seed: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(8, 0);
  ihdr.writeUInt32BE(8, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const raw = Buffer.alloc(8 * (1 + 8 * 3), 120 + seed);
  for (let y = 0; y < 8; y++) raw[y * (1 + 8 * 3)] = 0;
  const parameters = `${prompt}\nSteps: 3, Sampler: Euler a, CFG scale: 7, Seed: ${seed}, Size: 8x8, Version: v1.10.1`;
  return Buffer.concat([
    PNG_SIGNATURE, encodeChunk('IHDR', ihdr), makeTextChunk({ keyword: 'parameters', text: parameters }),
    encodeChunk('IDAT', zlib.deflateSync(raw)), encodeChunk('IEND', Buffer.alloc(0)),
  ]);
}

async function status(frame: Frame): Promise<string> {
  return (await frame.locator('#status').textContent()) ?? '';
}

/** Picks the filter as a user does: opens the drop-down and clicks the option. */
async function chooseFilter(frame: Frame, label: string): Promise<void> {
  await frame.locator('#filter').click();
  // The options are drawn in the element's shadow DOM, which Playwright's CSS reaches into.
  await frame.locator('#filter li[role="option"]', { hasText: label }).click();
  await frame.locator('#filter[open]').waitFor({ state: 'detached', timeout: 5_000 });
}

describe('gallery: images no document links, and moving them to the trash (UI)', function () {
  this.timeout(300_000);
  let wb: Workbench;
  let page: Page;
  let gallery: Frame;
  let ws: string;
  const images = () => path.join(ws, 'course', 'images');

  before(async () => {
    prepare();
    const modelDir = await ensureFixture('tiny-a');
    ws = makeWorkspace(path.join(OUTPUT_DIR, 'workspaces', RUN), { modelDir });
    fs.mkdirSync(images(), { recursive: true });
    fs.writeFileSync(path.join(images(), 'heart.png'), a1111Png('a heart, labelled diagram', 1));
    fs.writeFileSync(path.join(images(), 'old heart 1.png'), a1111Png('an older heart', 2));
    fs.writeFileSync(path.join(images(), 'old-heart-2.png'), a1111Png('another older heart', 3));
    fs.writeFileSync(path.join(ws, 'course', 'heart.md'), '# The heart\n\n![a heart](images/heart.png)\n');
    wb = await launchWorkbench({ name: RUN, folder: ws });
    page = wb.page;
  });

  let failed = false;
  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    failed = true;
    if (page) await screenshot(page, `gallery-cleanup-failed-${this.currentTest.title.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`).catch(() => undefined);
    if (gallery) console.log(`      gallery status: ${await status(gallery).catch(() => '?')}`);
  });

  after(async () => {
    await wb?.close();
    if (failed) console.log(`      kept for a look: ${wb?.runDir} and ${ws}`);
    else for (const d of [wb?.runDir, ws]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  it('shows the two unlinked images with a badge; the linked one says where it is linked from', async () => {
    await openActivity(page, 'Illustrations');
    gallery = await webviewFrame(page, '#ci-gallery');
    await gallery.locator('#status', { hasText: /^3 images$/ }).waitFor({ timeout: 120_000 });
    const linked = gallery.locator('.card', { hasText: 'a heart, labelled diagram' });
    await linked.and(gallery.locator('[title*="Linked from: course/heart.md"]')).waitFor({ timeout: 30_000 });
    assert.equal(await linked.locator('.badge').count(), 0);

    const started = Date.now();
    await chooseFilter(gallery, 'Not linked from any document');
    await gallery.locator('#status', { hasText: '2 images not linked from any document' }).waitFor({ timeout: 30_000 });
    console.log(`      filter chosen -> 2 unlinked shown: ${Date.now() - started} ms`);
    const cards = gallery.locator('.card');
    assert.equal(await cards.count(), 2);
    assert.deepEqual((await gallery.locator('.card .badge').allTextContents()).map((t) => t.trim()), ['not linked', 'not linked']);
    assert.deepEqual((await gallery.locator('.card .caption').allTextContents()).sort(), ['an older heart', 'another older heart']);
    assert.ok(await gallery.locator('#clean-up').isVisible(), 'the clean-up button shows with the filter');
    await screenshot(page, 'gallery-cleanup-filter');
  });

  it('moves exactly those two to the trash after asking, and keeps the linked one', async () => {
    await gallery.locator('#clean-up').click();
    const dialog = page.locator('.monaco-dialog-box', { hasText: 'Move 2 unlinked images' });
    await dialog.waitFor({ timeout: 30_000 });
    const text = (await dialog.textContent()) ?? '';
    assert.match(text, /old heart 1\.png/);
    assert.match(text, /old-heart-2\.png/);
    assert.doesNotMatch(text, /images\/heart\.png/);
    await screenshot(page, 'gallery-cleanup-confirm');
    await dialog.locator('.monaco-button', { hasText: 'Move to Trash' }).click();
    await waitForNotification(page, 'Moved 2 images to the trash.', 30_000);

    assert.deepEqual(fs.readdirSync(images()).sort(), ['heart.png']);
    const trash = path.join(wb.runDir, 'home', '.local', 'share', 'Trash');
    assert.deepEqual(fs.readdirSync(path.join(trash, 'files')).sort(), ['old heart 1.png', 'old-heart-2.png'], 'in the trash, not deleted');
    assert.match(fs.readFileSync(path.join(trash, 'info', 'old heart 1.png.trashinfo'), 'utf8'), /Path=.*\/course\/images\/old%20heart%201\.png/);
    await gallery.locator('#status', { hasText: /^0 images not linked/ }).waitFor({ timeout: 15_000 });
    assert.equal(await gallery.locator('#clean-up').isVisible(), false);
    await screenshot(page, 'gallery-cleanup-done');
  });

  it('counts a link typed into an open lesson, before it is saved', async () => {
    fs.writeFileSync(path.join(images(), 'new-heart.png'), a1111Png('a new heart', 4));
    await gallery.locator('#status', { hasText: '1 image not linked from any document' }).waitFor({ timeout: 30_000 });
    // Its tile's own trash button asks first, saying no document links it; Cancel leaves it.
    await gallery.locator('.card.unlinked').hover();
    await screenshot(page, 'gallery-cleanup-tile');
    await gallery.locator('.card.unlinked .tile-trash').click();
    const dialog = page.locator('.monaco-dialog-box', { hasText: 'new-heart.png' });
    await dialog.locator('text=No Markdown document links to it.').waitFor({ timeout: 15_000 });
    await dialog.locator('.monaco-button', { hasText: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    await openFile(page, 'course/heart.md');
    await cursorToEnd(page);
    await page.keyboard.type('\n![a new heart](images/new-heart.png)\n');
    await gallery.locator('#status', { hasText: /^0 images not linked/ }).waitFor({ timeout: 15_000 });
    assert.ok(fs.existsSync(path.join(images(), 'new-heart.png')));
    assert.doesNotMatch(fs.readFileSync(path.join(ws, 'course', 'heart.md'), 'utf8'), /new-heart/, 'the lesson was not saved');
  });
});
