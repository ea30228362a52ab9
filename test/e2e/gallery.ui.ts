// UI test of the gallery with 1,000 generated images (plus PNGs made by something else) in real
// VS Code: the first scan and a scan after a reload (metadata cache), newest first, paging while
// scrolling, lazy thumbnails, search, and live updates when files are deleted or created on disk.
// Prints how long the scans took; screenshots go to test-output/screenshots/gallery-*.png.
//
//   npx mocha --no-config -r tsx/cjs --timeout 300000 test/e2e/gallery.ui.ts   (part of npm run test:ui)

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { Frame, Page } from 'playwright-core';
import sharp from 'sharp';
import { ensureFixture } from '../fixtures/tinyPipeline';
import { OUTPUT_DIR, decodedWidth, launchWorkbench, openActivity, reloadWindow, screenshot, webviewFrame, type Workbench } from './harness';
import { prepare } from './runHost';
import { REPO_ROOT } from './codeServer';
import { makeWorkspace } from './workspace';

// Per process: `npm run test:ui` elsewhere on the machine must not share (and wipe) our folders.
const RUN = `gallery-ui-${process.pid}`;
const COUNT = 1000;
const ANIMALS = ['owl', 'fox', 'heron', 'lynx', 'otter'];

const promptOf = (i: number) => `a ${ANIMALS[i % ANIMALS.length]} number ${i}, watercolor`;

/** A PNG chunk with its CRC. */
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
}

/** The same image with another A1111 `parameters` text (the XMP that marks it as ours is kept). */
function withParameters(png: Buffer, parameters: string): Buffer {
  const parts: Buffer[] = [png.subarray(0, 8)];
  for (let i = 8; i < png.length; ) {
    const n = png.readUInt32BE(i);
    const type = png.toString('latin1', i + 4, i + 8);
    const data = png.subarray(i + 8, i + 8 + n);
    if (type === 'tEXt' && data.toString('latin1').startsWith('parameters\0')) {
      parts.push(chunk('tEXt', Buffer.concat([Buffer.from('parameters\0', 'latin1'), Buffer.from(parameters, 'latin1')])));
    } else {
      parts.push(png.subarray(i, i + 12 + n));
    }
    i += 12 + n;
  }
  return Buffer.concat(parts);
}

async function status(frame: Frame): Promise<string> {
  return (await frame.locator('#status').textContent()) ?? '';
}

async function waitForScan(frame: Frame, total: number, timeoutMs = 120000): Promise<void> {
  await frame.locator('#status', { hasText: new RegExp(`^${total} images$`) }).waitFor({ timeout: timeoutMs });
}

describe('gallery with 1,000 images in VS Code (code-server)', function () {
  this.timeout(300000);
  let wb: Workbench;
  let page: Page;
  let gallery: Frame;
  let workspace: string;
  let base: Buffer;
  const fileOf = (i: number) => path.join(workspace, 'course', 'images', `lesson${i % 10}`, `img${i}.png`);

  before(async () => {
    prepare();
    const modelDir = await ensureFixture('tiny-a');
    workspace = makeWorkspace(path.join(OUTPUT_DIR, 'workspaces', RUN), { modelDir });
    const seedPng = path.join(OUTPUT_DIR, 'workspaces', `${RUN}-base.png`);
    fs.rmSync(seedPng, { force: true });
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'dist/engine.js'), 'generate', '--model', modelDir, '--prompt', 'base',
      '--steps', '2', '--width', '64', '--height', '64', '--seed', '1', '--out', seedPng], { stdio: 'ignore' });
    base = fs.readFileSync(seedPng);
    fs.rmSync(seedPng);
    const now = Date.now() / 1000;
    for (let i = 0; i < COUNT; i++) {
      const file = fileOf(i);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const prompt = promptOf(i);
      fs.writeFileSync(file, withParameters(base, `${prompt}\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: ${i}, Size: 64x64, Version: course-illustrator 0.1.0`));
      fs.utimesSync(file, now - (COUNT - i) * 60, now - (COUNT - i) * 60); // img999 is the newest
    }
    // Images made by something else are not listed.
    for (let i = 0; i < 20; i++) {
      await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 9 * i, g: 80, b: 120 } } }).png().toFile(path.join(workspace, 'course', `other${i}.png`));
    }
    wb = await launchWorkbench({ name: RUN, folder: workspace });
    page = wb.page;
  });

  let failed = false;
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') failed = true;
    if (this.currentTest?.state === 'failed' && page) {
      await screenshot(page, `gallery-failed-${this.currentTest.title.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`).catch(() => undefined);
      if (gallery) console.log(`      gallery status: ${await status(gallery).catch(() => '?')}`);
    }
  });

  after(async () => {
    await wb?.close();
    if (failed) console.log(`      kept for a look: ${wb?.runDir} and ${workspace}`);
    else for (const d of [wb?.runDir, workspace]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  it('finds exactly the 1,000 generated images, newest first', async () => {
    const started = Date.now();
    await openActivity(page, 'Illustrations');
    gallery = await webviewFrame(page, '#ci-gallery');
    await waitForScan(gallery, COUNT);
    console.log(`      first scan of ${COUNT} generated + 20 other PNGs: ${Date.now() - started} ms (view opened -> "${COUNT} images")`);
    const captions = await gallery.locator('.card .caption').allTextContents();
    assert.ok(captions.length >= 60 && captions.length <= 200, `one page of cards, not all ${COUNT} (${captions.length})`);
    assert.deepEqual(captions.slice(0, 3), [999, 998, 997].map(promptOf));
  });

  it('loads thumbnails lazily and pages in more cards while scrolling', async () => {
    const w = await decodedWidth(gallery.locator('.card img[src]').first());
    assert.ok(w > 0);
    await page.waitForTimeout(500);
    const withSrc = await gallery.locator('.card img[src]').count();
    const cards = await gallery.locator('.card').count();
    assert.ok(withSrc < cards, `only cards near the viewport got thumbnails (${withSrc} of ${cards})`);
    const thumbs = fs.readdirSync(path.join(wb.runDir, 'user-data'), { recursive: true, encoding: 'utf8' }).filter((f) => /thumbnails[\\/][0-9a-f]{16}-.*\.png$/.test(f));
    assert.ok(thumbs.length > 0 && thumbs.length < COUNT, `thumbnails cached in the extension's storage, not the workspace (${thumbs.length})`);
    assert.equal(fs.readdirSync(workspace, { recursive: true, encoding: 'utf8' }).filter((f) => f.includes('thumbnail')).length, 0);
    await screenshot(page, 'gallery-1000');

    for (let i = 0; i < 40 && (await gallery.locator('.card').count()) < 300; i++) {
      await gallery.locator('#sentinel').scrollIntoViewIfNeeded();
      await page.waitForTimeout(100);
    }
    assert.ok((await gallery.locator('.card').count()) >= 300, 'scrolling pages in more cards');
  });

  it('searches by prompt', async () => {
    const started = Date.now();
    await gallery.locator('#search input').fill('heron 99');
    await gallery.locator('#status', { hasText: 'matching' }).waitFor();
    console.log(`      search over ${COUNT} entries: ${Date.now() - started} ms (typing -> results, 150 ms debounce included)`);
    const captions = await gallery.locator('.card .caption').allTextContents();
    assert.ok(captions.length > 0 && captions.every((c) => c.includes('heron') && c.includes('99')), captions.join(' | '));
    await screenshot(page, 'gallery-search');
    await gallery.locator('#search input').fill('');
    await waitForScan(gallery, COUNT);
  });

  it('follows files deleted and created on disk', async () => {
    fs.rmSync(fileOf(999));
    await waitForScan(gallery, COUNT - 1, 30000);
    await gallery.locator('.card .caption').first().filter({ hasText: promptOf(998) }).waitFor();
    const added = path.join(workspace, 'course', 'images', 'new', 'fresh.png');
    fs.mkdirSync(path.dirname(added), { recursive: true });
    fs.writeFileSync(added, withParameters(base, 'a freshly made kingfisher\nSteps: 20, Seed: 5, Size: 64x64, Version: course-illustrator 0.1.0'));
    await waitForScan(gallery, COUNT, 30000);
    await gallery.locator('.card .caption').first().filter({ hasText: 'kingfisher' }).waitFor();
  });

  it('deletes an image after asking, and the list follows', async () => {
    const victim = fileOf(998);
    await gallery.locator('#search input').fill('number 998,');
    await gallery.locator('#status', { hasText: '1 matching' }).waitFor();
    await gallery.locator('.card').first().focus();
    await gallery.locator('.card').first().press('Enter');
    await gallery.locator('#preview [data-action="delete"]').click();
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor();
    await screenshot(page, 'gallery-delete-confirm');
    await dialog.locator('.monaco-button', { hasText: 'Move to Trash' }).click();
    // Without a desktop trash (code-server on Linux) it asks again before deleting for good.
    const again = page.locator('.monaco-dialog-box', { hasText: 'permanently' });
    if (await again.waitFor({ timeout: 3000 }).then(() => true, () => false)) {
      await again.locator('.monaco-button', { hasText: 'Delete Permanently' }).click();
    }
    await gallery.locator('#status', { hasText: '0 matching' }).waitFor({ timeout: 15000 });
    assert.equal(fs.existsSync(victim), false);
    await gallery.locator('#search input').fill('');
    await waitForScan(gallery, COUNT - 1);
  });

  it('lists them again after a reload from its metadata cache, the search kept', async () => {
    await gallery.locator('#search input').fill('otter number 5');
    await gallery.locator('#status', { hasText: 'matching “otter number 5”' }).waitFor();
    await reloadWindow(page);
    const started = Date.now();
    gallery = await webviewFrame(page, '#ci-gallery', 90000);
    await gallery.locator('#status', { hasText: 'matching “otter number 5”' }).waitFor({ timeout: 120000 });
    assert.equal(await gallery.locator('#search input').inputValue(), 'otter number 5', 'the search box shows the kept search');
    console.log(`      after reload: ${Date.now() - started} ms (workbench back -> webview shown with the search results, activation included)`);
    await gallery.locator('#search input').fill('');
    await waitForScan(gallery, COUNT - 1);
    // The extension logs each scan; the second one must come from the cache, not 1,000 engine reads.
    const logs = fs.readdirSync(path.join(wb.runDir, 'user-data', 'logs'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('Course Illustrator.log'));
    const scans = logs.flatMap((f) => fs.readFileSync(path.join(wb.runDir, 'user-data', 'logs', f), 'utf8').split('\n')).filter((l) => l.includes('Gallery:'));
    for (const l of scans) console.log(`      ${l.replace(/^.*\[info\] /, '')}`);
    assert.ok(scans.some((l) => /\((\d+) known without reading the file\)/.test(l) && Number(/\((\d+) known/.exec(l)?.[1]) >= COUNT - 1), 'the reload used the metadata store');
  });
});
