// UI test in real VS Code (code-server + Chromium): redraw a figure and repaint part of it.
// A scanned figure linked from a lesson gets "Redraw…"; the panel shows it with the mask painter;
// Generate redraws it (img2img), a painted stroke repaints only that part (inpainting), each
// result is a new file next to the course and the original is never written; Compare shows
// before and after; an image dropped into the panel becomes the new source.
//
//   npx mocha --no-config -r tsx/cjs --timeout 300000 test/e2e/ui/redraw.ui.ts   (part of npm run test:ui)

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';
import sharp from 'sharp';
import { ensureFixture } from '../../fixtures/tinyPipeline';
import { OUTPUT_DIR, clickCodeLens, eventually, launchWorkbench, openFile, screenshot, webviewFrame, type Workbench } from '../harness';
import type { InPage } from '../pageTypes';
import { prepare } from '../runHost';
import { makeWorkspace } from '../workspace';

const RUN = `redraw-ui-${process.pid}`;

function sha(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** PNG files under `dir` other than `except`, relative paths. */
function resultsUnder(dir: string, except: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.png') && path.join(dir, f) !== except).sort();
}

async function fieldValue(frame: Frame, id: string): Promise<string> {
  return frame.locator(`#${id} input`).inputValue();
}

describe('redraw and inpaint in VS Code (UI)', function () {
  this.timeout(300_000);
  let wb: Workbench;
  let ws: string;
  let panel: Frame;
  let scan: string;
  let scanHash: string;

  before(async () => {
    prepare();
    const modelDir = await ensureFixture('tiny-a');
    ws = makeWorkspace(path.join(OUTPUT_DIR, 'workspaces', RUN), { modelDir });
    fs.mkdirSync(path.join(ws, 'course', 'images'), { recursive: true });
    // A "scanned figure": not made by us, no parameters, 128 x 96.
    scan = path.join(ws, 'course', 'images', 'scan.png');
    const w = 128;
    const h = 96;
    const px = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px.set([(x * 2) & 255, (y * 2) & 255, 128], (y * w + x) * 3);
    await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toFile(scan);
    scanHash = sha(scan);
    fs.writeFileSync(path.join(ws, 'course', 'redraw.md'), '# Redraw\n\n![a scanned plant cell](images/scan.png)\n');
    // Redrawing and inpainting in low-memory mode, as an 8 GB laptop gets by itself (the last test checks the engine was told).
    wb = await launchWorkbench({ name: RUN, folder: ws, settings: { 'courseIllustrator.lowMemory': true } });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && wb) {
      await screenshot(wb.page, `redraw-failed-${this.currentTest.title.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`);
      const notice = panel ? await panel.locator('#notice').textContent().catch(() => '') : '';
      console.log(`      panel notice: ${notice}`);
    }
  });

  after(async () => {
    await wb?.close();
  });

  it('"Redraw…" above an image link opens the panel with the image, its size in the form', async () => {
    await openFile(wb.page, 'course/redraw.md');
    await clickCodeLens(wb.page, 'Redraw…');
    panel = await webviewFrame(wb.page, '#ci-panel');
    await panel.locator('#source-editor').waitFor({ state: 'visible', timeout: 30_000 });
    const natural = await panel.locator('#source-img').evaluate(async (img) => {
      const i = img as InPage;
      await i.decode();
      return [i.naturalWidth, i.naturalHeight];
    });
    assert.deepEqual(natural, [128, 96]);
    assert.equal(await fieldValue(panel, 'width'), '128');
    assert.equal(await fieldValue(panel, 'height'), '96');
    assert.match((await panel.locator('#source-mode').textContent()) ?? '', /Redraws all of scan\.png/);
    await screenshot(wb.page, 'redraw-1-source');
  });

  it('redraws the whole image into a new file; the original is untouched', async () => {
    await panel.locator('#prompt textarea').fill('a plant cell, clean textbook diagram');
    await panel.locator('#strength input').fill('0.7');
    await panel.locator('#generate').click();
    await panel.locator('.result').first().waitFor({ timeout: 120_000 });
    // Results wait outside the course until one is chosen: nothing lands there unasked.
    assert.deepEqual(resultsUnder(path.join(ws, 'course'), scan), [], 'the result is not in the course before Insert');
    await panel.locator('.result').first().locator('[data-action="insert"]').click();
    const made = await eventually('the inserted file', () => {
      const r = resultsUnder(path.join(ws, 'course'), scan);
      return r.length === 1 ? r : undefined;
    }, 60_000);
    assert.match(made[0], /^images[\\/]/, 'kept in the document\'s image folder');
    const bytes = fs.readFileSync(path.join(ws, 'course', made[0])).toString('latin1');
    assert.match(bytes, /Denoising strength: 0\.7/, 'the PNG says it was redrawn, as A1111 writes it');
    assert.equal(sha(scan), scanHash, 'the original is never written');
    assert.match((await panel.locator('.result .result-meta').first().textContent()) ?? '', /redrawn, strength 0\.7/);
    await panel.locator('.result').first().locator('[data-action="compare"]').click();
    await panel.locator('.result .compare .compare-slider').first().waitFor();
    assert.equal(await panel.locator('.result .compare img').count(), 2, 'before and after');
    await screenshot(wb.page, 'redraw-2-compare');
  });

  it('a painted stroke repaints only that part (inpainting)', async () => {
    const canvas = panel.locator('#mask-canvas');
    await canvas.scrollIntoViewIfNeeded();
    const box = await canvas.boundingBox();
    assert.ok(box, 'the mask canvas is shown');
    const { page } = wb;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.5);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5, { steps: 5 });
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.6, { steps: 5 });
    await page.mouse.up();
    await panel.locator('#source-mode', { hasText: 'Repaints only the painted part of scan.png' }).waitFor();
    assert.equal(await panel.locator('#mask-undo').evaluate((b) => (b as InPage).disabled), false, 'the stroke can be undone');
    await screenshot(page, 'redraw-3-mask');
    await panel.locator('#generate').click();
    await panel.locator('.result .result-meta', { hasText: 'inpainted' }).first().waitFor({ timeout: 120_000 });
    assert.equal(resultsUnder(path.join(ws, 'course'), scan).length, 1, 'the inpainted result waits outside the course');
    assert.equal(sha(scan), scanHash, 'the original is never written');
    const inWorkspace = fs.readdirSync(ws, { recursive: true, encoding: 'utf8' }).filter((f) => /mask-/.test(f));
    assert.deepEqual(inWorkspace, [], 'the painted mask is kept in the extension storage, not in the course');
    await screenshot(page, 'redraw-4-inpainted');
  });

  it('an image dropped into the panel becomes the new source', async () => {
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 40, b: 40 } } }).png().toBuffer();
    await panel.evaluate((b64) => {
      const w: InPage = globalThis;
      const bin = w.atob(b64);
      const bytes = new w.Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      const dt = new w.DataTransfer();
      dt.items.add(new w.File([bytes], 'dropped-figure.png', { type: 'image/png' }));
      w.document.getElementById('source-drop').dispatchEvent(new w.DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, png.toString('base64'));
    await panel.locator('#source-mode', { hasText: 'Redraws all of dropped-figure.png' }).waitFor({ timeout: 30_000 });
    // The form follows the new image's size once it has loaded.
    await panel.waitForFunction(() => (globalThis as InPage).document.getElementById('width').value === '64', undefined, { timeout: 30_000 });
    assert.equal(fs.readdirSync(ws, { recursive: true, encoding: 'utf8' }).filter((f) => f.includes('dropped')).length, 0, 'a dropped image is not copied into the course');
    await panel.locator('#source-remove').click();
    await panel.locator('#source-editor').waitFor({ state: 'hidden' });
  });

  it('Save As… a JPEG for slides keeps the parameters (where A1111 reads them) and the AI label', async () => {
    const jpeg = path.join(ws, 'course', 'handout.jpg');
    const redrawn = panel.locator('.result', { hasText: 'redrawn' }).first();
    await redrawn.locator('[data-action="saveAs"]').click();
    // code-server's save dialog is VS Code's own: a path in a quick input, and its OK button.
    const dialog = wb.page.locator('.quick-input-widget', { hasText: 'Save a copy of the illustration' });
    const input = dialog.locator('input').first();
    // The dialog fills in its default (the result's own file) a moment after it shows: typed
    // before that, the path would be replaced and the default saved.
    await eventually('the dialog\'s default path', async () => ((await input.inputValue()).endsWith('.png') ? true : undefined), 60_000);
    await input.fill(jpeg);
    await eventually('the typed path', async () => ((await input.inputValue()) === jpeg ? true : undefined), 60_000);
    await dialog.locator('.monaco-button', { hasText: /^OK$/ }).click();
    await panel.locator('#notice', { hasText: 'Saved' }).waitFor({ timeout: 60_000 });
    const bytes = fs.readFileSync(jpeg);
    assert.equal(bytes.readUInt16BE(0), 0xffd8, 'a JPEG');
    // EXIF UserComment: "UNICODE\0" then UTF-16BE, as A1111 writes it.
    const utf16be = (t: string) => Buffer.from(t, 'utf16le').swap16();
    assert.ok(bytes.includes(Buffer.concat([Buffer.from('UNICODE\0'), utf16be('a plant cell')])), 'the prompt in EXIF UserComment');
    assert.ok(bytes.includes(utf16be('Denoising strength: 0.7')), 'the parameters came along');
    assert.ok(bytes.includes(Buffer.from('trainedAlgorithmicMedia')), 'the XMP AI label came along');
  });

  it('ran the engine in low-memory mode: the machine-scoped setting, set, reached it', async () => {
    const logs = path.join(wb.runDir, 'user-data', 'logs');
    const lines = fs.readdirSync(logs, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('Course Illustrator.log'))
      .flatMap((f) => fs.readFileSync(path.join(logs, f), 'utf8').split('\n'))
      .filter((l) => / ready in \d+ ms /.test(l));
    assert.ok(lines.length > 0, 'the engine was started');
    for (const l of lines) assert.match(l, /, low memory\)/);
  });
});
