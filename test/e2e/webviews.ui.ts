// Browser-side tests of the two webviews in real Chromium (no VS Code): the page gets the same
// messages the extension sends and the test checks what a user sees and what the page posts back.
// Screenshots of each state in dark, light and high-contrast themes go to test-output/webviews/.
//
//   npx mocha --no-config -r tsx/cjs --timeout 60000 test/e2e/webviews.ui.ts

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildSync } from 'esbuild';
import sharp from 'sharp';
import type { GalleryCard, PanelSettings, ResultImage, ToGallery, ToPanel } from '../../src/core/webviewMessages';
import type { InPage, PageImage } from './pageTypes';
import { startWebviewServer, THEMES, ThemeName, WebviewServer } from './webviewPages';

const ROOT = path.resolve(__dirname, '../..');
const OUT = path.join(ROOT, 'test-output', 'webviews');

const settings: PanelSettings = {
  prompt: '', negativePrompt: '', width: 512, height: 512, steps: 20, guidance: 7.5,
  scheduler: 'default', seed: undefined, seedLocked: false, batch: 1,
};

async function sent(page: Page): Promise<{ type: string; [k: string]: unknown }[]> {
  return page.evaluate(() => (globalThis as InPage).__sent as { type: string; [k: string]: unknown }[]);
}

async function waitForSent(page: Page, type: string, predicate: (m: Record<string, unknown>) => boolean = () => true) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const found = (await sent(page)).filter((m) => m.type === type && predicate(m));
    if (found.length) return found[found.length - 1];
    if (Date.now() > deadline) throw new Error(`the page never posted "${type}"; it posted: ${JSON.stringify(await sent(page)).slice(0, 500)}`);
    await page.waitForTimeout(50);
  }
}

async function deliver(page: Page, message: ToPanel.Type | ToGallery.Type): Promise<void> {
  await page.evaluate((m) => (globalThis as InPage).postMessage(m, '*'), message);
}

describe('webviews in Chromium', function () {
  this.timeout(60000);
  let browser: Browser;
  let server: WebviewServer;
  let images: string;
  let previewPng: string;
  const cspErrors: string[] = [];

  before(async () => {
    for (const name of ['panel', 'gallery']) {
      buildSync({ entryPoints: [path.join(ROOT, `webview/${name}/main.ts`)], bundle: true, format: 'iife', platform: 'browser',
        target: 'es2022', outfile: path.join(ROOT, `dist/webview/${name}.js`), logLevel: 'warning' });
    }
    images = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-webview-'));
    const colours = [[200, 60, 60], [60, 160, 90], [60, 90, 200], [220, 180, 40]];
    for (let i = 0; i < colours.length; i++) {
      const [r, g, b] = colours[i];
      await sharp({ create: { width: 128, height: 128, channels: 3, background: { r, g, b } } }).png().toFile(path.join(images, `img${i}.png`));
    }
    previewPng = (await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 90, g: 40, b: 140 } } }).png().toBuffer()).toString('base64');
    server = await startWebviewServer(images);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    fs.mkdirSync(OUT, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (images) fs.rmSync(images, { recursive: true, force: true });
  });

  async function open(name: 'panel' | 'gallery', theme: ThemeName, viewport = { width: 1100, height: 900 }): Promise<Page> {
    const page = await browser.newPage({ viewport });
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
    });
    page.on('pageerror', (e) => cspErrors.push(`page error: ${e.message}`));
    await page.goto(server.url(name, theme));
    await waitForSent(page, 'ready');
    return page;
  }

  function result(i: number, seed: number): ResultImage {
    return {
      id: `img-${i}`, uri: `${server.origin}/img/img${i}.png`, fileName: `a-heart-${seed}.png`, width: 128, height: 128, seed,
      settings: { ...settings, prompt: 'a friendly heart', seed, seedLocked: true }, infotext: 'a friendly heart\nSteps: 20',
    };
  }

  it('panel: counter, generate, live preview, results and actions', async () => {
    const page = await open('panel', 'dark');
    await deliver(page, { type: 'init', settings, prefilled: false, results: [], queue: [], target: 'course/intro.md', trusted: true });
    await page.locator('#prompt textarea').fill('a friendly (heart:1.2) diagram');
    const tok = await waitForSent(page, 'tokenize', (m) => m.text === 'a friendly (heart:1.2) diagram');
    await deliver(page, { type: 'tokens', field: 'prompt', requestId: tok.requestId as number, info: { count: 31, windows: 1, text: '31/75', over: false } });
    await page.locator('#prompt-tokens', { hasText: '31/75' }).waitFor();
    await page.screenshot({ path: path.join(OUT, 'panel-dark-prompt.png') });

    // Long prompts show the windows in use; an answer to older text is ignored.
    await page.locator('#prompt textarea').fill('word '.repeat(90));
    const tok2 = await waitForSent(page, 'tokenize', (m) => (m.requestId as number) > (tok.requestId as number));
    await deliver(page, { type: 'tokens', field: 'prompt', requestId: tok.requestId as number, info: { count: 1, windows: 1, text: '1/75', over: false } });
    await deliver(page, { type: 'tokens', field: 'prompt', requestId: tok2.requestId as number, info: { count: 90, windows: 2, text: '90/150', over: true } });
    await page.locator('#prompt-tokens.over', { hasText: '90/150' }).waitFor();

    // Emphasis problems are pointed at while typing.
    await page.locator('#prompt textarea').fill('a (heart diagram');
    await page.locator('#prompt-problems li', { hasText: 'never closed' }).waitFor();
    await page.locator('#prompt textarea').fill('a friendly heart');
    assert.equal(await page.locator('#prompt-problems li').count(), 0);

    // Custom size must be a multiple of 8: Generate is disabled and the reason shown.
    await page.evaluate(() => {
      const w: InPage = globalThis;
      const s = w.document.getElementById('size');
      s.value = 'custom';
      s.dispatchEvent(new w.Event('change'));
    });
    await page.locator('#width input').fill('500');
    await page.locator('#form-error', { hasText: 'multiple of 8 (try 504)' }).waitFor();
    assert.equal(await page.locator('#generate').evaluate((b) => (b as InPage).disabled as boolean), true);
    await page.locator('#width input').fill('768');
    assert.equal(await page.locator('#generate').evaluate((b) => (b as InPage).disabled as boolean), false);

    // Ctrl+Enter generates with what the form shows.
    await page.locator('#prompt textarea').press('Control+Enter');
    const gen = await waitForSent(page, 'generate');
    const { seed: _unset, ...noSeed } = settings; // the recorder stores JSON, which has no undefined
    assert.deepEqual(gen.settings, { ...noSeed, prompt: 'a friendly heart', width: 768, height: 512, fast: false });
    assert.equal(gen.source, undefined, 'no source image: text to image');

    await deliver(page, { type: 'queue', jobs: [{ jobId: 'job-1', prompt: 'a friendly heart', position: 0 }, { jobId: 'job-2', prompt: 'a second job waiting', position: 1 }] });
    await deliver(page, { type: 'progress', jobId: 'job-1', image: 0, images: 1, step: 6, total: 20, etaMs: 7000, stage: 'denoise', previewPng });
    await page.locator('#progress-text', { hasText: 'Step 6/20 · about 7 s left' }).waitFor();
    const preview = await page.locator('#preview').evaluate(async (el) => {
      const img = el as unknown as PageImage;
      await img.decode();
      return { src: img.src, w: img.naturalWidth };
    });
    assert.match(preview.src, /^blob:/);
    assert.ok(preview.w > 0);
    assert.equal(await page.locator('#queue li').count(), 1);
    assert.equal(await page.locator('#cancel').evaluate((b) => (b as InPage).disabled as boolean), false);
    await page.screenshot({ path: path.join(OUT, 'panel-dark-progress.png') });

    await page.keyboard.press('Escape');
    const cancel = await waitForSent(page, 'cancel');
    assert.equal(cancel.jobId, 'job-1');

    await deliver(page, { type: 'results', jobId: 'job-1', images: [result(0, 42), result(1, 43)], seed: 42 });
    await deliver(page, { type: 'jobEnded', jobId: 'job-1', outcome: 'done' });
    await page.locator('.result img').first().waitFor();
    const widths = await page.locator('.result img').evaluateAll((imgs) => Promise.all((imgs as unknown as PageImage[]).map(async (i) => (await i.decode(), i.naturalWidth))));
    assert.deepEqual(widths, [128, 128]);
    await page.locator('#last-seed', { hasText: 'Last seed: 42' }).waitFor();
    assert.equal(await page.locator('#seed input').inputValue(), '', 'an unlocked seed is drawn anew');

    // Each action posts the image id, never a path; keyboard reaches the buttons.
    await page.locator('.result').first().locator('[data-action="insert"]').focus();
    await page.keyboard.press('Enter');
    const act = await waitForSent(page, 'imageAction');
    assert.deepEqual(act, { type: 'imageAction', action: 'insert', imageId: 'img-0' });
    await page.screenshot({ path: path.join(OUT, 'panel-dark-results.png') });

    // "Reuse these settings" comes back as a prefill.
    await deliver(page, { type: 'prefill', settings: { ...settings, prompt: 'reused prompt', seed: 43, seedLocked: true, width: 512, height: 768 } });
    assert.equal(await page.locator('#prompt textarea').inputValue(), 'reused prompt');
    assert.equal(await page.locator('#seed input').inputValue(), '43');
    assert.equal(await page.locator('#size').evaluate((s) => (s as InPage).value as string), '512x768');
    await page.close();
  });

  for (const theme of ['light', 'high-contrast'] as const) {
    it(`panel renders in the ${theme} theme with visible focus`, async () => {
      const page = await open('panel', theme);
      await deliver(page, { type: 'init', settings: { ...settings, prompt: 'a friendly heart' }, prefilled: false, results: [result(2, 7), result(3, 8)], queue: [], trusted: true });
      await page.locator('.result img').first().waitFor();
      await page.locator('#generate').focus();
      await page.keyboard.press('Tab');
      await page.screenshot({ path: path.join(OUT, `panel-${theme}.png`) });
      const outline = await page.evaluate(() => {
        const w: InPage = globalThis;
        const a = w.document.activeElement;
        return `${w.getComputedStyle(a).outlineStyle} ${a.id}`;
      });
      assert.ok(outline.length > 0);
      await page.close();
    });
  }

  it('panel: what a teacher types before the extension\'s first message is kept; the rest of the form is filled', async () => {
    const page = await open('panel', 'dark');
    await page.locator('#prompt textarea').fill('a plant cell, labelled');
    await page.locator('#steps input').fill('12');
    await page.locator('#steps input').blur();
    await deliver(page, { type: 'init', settings: { ...settings, prompt: '', steps: 30, guidance: 9 }, prefilled: false, results: [], queue: [], target: 'course/intro.md', trusted: true });
    await page.locator('#target', { hasText: 'course/intro.md' }).waitFor();
    assert.equal(await page.locator('#prompt textarea').inputValue(), 'a plant cell, labelled');
    assert.equal(await page.locator('#steps input').inputValue(), '12');
    assert.equal(await page.locator('#guidance input').inputValue(), '9', 'fields not typed in come from init');
    // Later messages (a prefill from Reuse) fill the form as before.
    await deliver(page, { type: 'prefill', settings: { ...settings, prompt: 'a volcano', steps: 25 } });
    await page.waitForFunction(() => {
      const d = (globalThis as InPage).document;
      return d.querySelector('#prompt')?.value === 'a volcano' && d.querySelector('#steps')?.value === '25';
    });
    await page.close();
  });

  it('panel: offers the teacher\'s own templates and shows a template\'s negative prompt for editing', async () => {
    const page = await open('panel', 'light');
    const own = { id: 'my-plates', label: 'My anatomy plates', prompt: '{subject}, copper engraving, sepia', negative: 'colour, photo', domain: 'medical' as const };
    await deliver(page, { type: 'templates', templates: [own] });
    await deliver(page, { type: 'init', settings: { ...settings, negativePrompt: '' }, prefilled: false, results: [], queue: [], target: 'course/intro.md', trusted: true });
    await page.locator('#prompt textarea').fill('a knee joint');
    await page.evaluate(() => {
      const w: InPage = globalThis;
      const s = w.document.getElementById('template');
      s.value = 'my-plates';
      s.dispatchEvent(new w.Event('change'));
    });
    await page.locator('#template-hint', { hasText: 'a knee joint, copper engraving, sepia' }).waitFor();
    assert.equal(await page.locator('#negative textarea').inputValue(), 'colour, photo', 'the template\'s negative prompt is in the box, editable');
    await page.locator('#label-status', { hasText: 'Medical label on' }).waitFor();
    await page.locator('#prompt textarea').press('Control+Enter');
    const gen = await waitForSent(page, 'generate');
    assert.equal((gen.settings as Record<string, unknown>).template, 'my-plates');
    await page.close();
  });

  it('panel: composes a template from its parts, shows what is sent, and brings the parts back', async () => {
    const page = await open('panel', 'light');
    const pick = (id: string, value: string) =>
      page.evaluate(([i, v]) => {
        const w: InPage = globalThis;
        const s = w.document.getElementById(i);
        s.value = v;
        s.dispatchEvent(new w.Event('change'));
      }, [id, value] as const);
    const value = (id: string) => page.evaluate((i) => (globalThis as InPage).document.getElementById(i).value as string, id);
    await deliver(page, { type: 'templates', templates: [] });
    await deliver(page, { type: 'init', settings: { ...settings, negativePrompt: '' }, prefilled: false, results: [], queue: [], target: 'course/intro.md', trusted: true });
    assert.equal(await page.locator('#template-edu').isHidden(), true, 'no part selects before composing');
    await page.locator('#prompt textarea').fill('a plant cell');
    await pick('template', 'compose:edu');
    await page.locator('#template-edu').waitFor();
    assert.equal(await value('template-level'), 'middle', 'starts at the directives\' default level');
    await pick('template-level', 'high');
    await pick('template-subject', 'biology');
    await pick('template-type', 'labelled-diagram');
    await page.locator('#template-hint', { hasText: 'Sent as “high school biology labelled diagram, a plant cell, clean detailed textbook illustration' }).waitFor();
    assert.match(await page.locator('#negative textarea').inputValue(), /^text, letters, watermark/, 'the composed template\'s negative prompt fills the empty box');
    await page.screenshot({ path: path.join(OUT, 'panel-composed-template.png') });
    await page.locator('#prompt textarea').press('Control+Enter');
    const gen = await waitForSent(page, 'generate');
    assert.equal((gen.settings as Record<string, unknown>).template, 'edu.high.biology.labelled-diagram');

    // No subject: the type cannot be said in the id, so it is cleared and disabled.
    await pick('template-subject', '');
    assert.equal(await value('template-type'), '');
    assert.equal(await page.locator('#template-type').evaluate((s) => (s as InPage).disabled as boolean), true);

    // Reuse settings / Open in panel: the parts come back from the id.
    await deliver(page, { type: 'prefill', settings: { template: 'med.ct.axial' } });
    await page.locator('#template-med').waitFor();
    assert.equal(await page.locator('#template-edu').isHidden(), true);
    assert.deepEqual([await value('template'), await value('template-modality'), await value('template-view')], ['compose:med', 'ct', 'axial']);
    await page.locator('#label-status', { hasText: 'Medical label on' }).waitFor();
    await deliver(page, { type: 'prefill', settings: { template: 'education-primary' } });
    await page.locator('#template-med').waitFor({ state: 'hidden' });
    assert.equal(await value('template'), 'education-primary');
    await page.close();
  });

  it('gallery: pages 1,000 images, lazy thumbnails, search, keyboard preview and insert', async () => {
    const page = await open('gallery', 'dark', { width: 360, height: 800 });
    const all: GalleryCard[] = Array.from({ length: 1000 }, (_, i) => ({
      id: `id${i}`, fileName: `img${i}.png`, label: `images/lesson${i % 10}/img${i}.png`,
      prompt: i % 2 ? `a red cat number ${i}` : `a blue heart number ${i}`, mtimeMs: 1_700_000_000_000 - i * 1000,
      width: 128, height: 128, imageUri: `${server.origin}/img/img${i % 4}.png`,
    }));
    let answered = 0;
    const serve = async () => {
      const queries = (await sent(page)).filter((m) => m.type === 'query').slice(answered);
      for (const q of queries) {
        answered++;
        const text = String(q.query).toLowerCase();
        const list = all.filter((c) => text.split(/\s+/).filter(Boolean).every((w) => c.prompt.toLowerCase().includes(w)));
        const offset = q.offset as number;
        await deliver(page, { type: 'page', requestId: q.requestId as number, query: String(q.query), offset, total: list.length,
          items: list.slice(offset, offset + (q.limit as number)), scanning: false });
      }
    };
    await waitForSent(page, 'query');
    await serve();
    await page.locator('.card').first().waitFor();
    const thumbReq = await waitForSent(page, 'thumbs');
    const ids = thumbReq.ids as string[];
    assert.ok(ids.length > 0 && ids.length < 100, `only visible cards ask for thumbnails (asked ${ids.length})`);
    await deliver(page, { type: 'thumbs', thumbs: ids.map((id) => ({ id, uri: `${server.origin}/img/img${Number(id.slice(2)) % 4}.png` })) });
    await page.locator('.card img[src]').first().evaluate(async (el) => (el as unknown as PageImage).decode());
    await page.locator('#status', { hasText: '1000 images' }).waitFor();
    await page.screenshot({ path: path.join(OUT, 'gallery-dark.png') });

    // Scrolling to the end loads further pages; the DOM never holds more than what was paged in.
    for (let i = 0; i < 30 && (await page.locator('.card').count()) < 1000; i++) {
      await page.locator('#sentinel').scrollIntoViewIfNeeded();
      await page.waitForTimeout(30);
      await serve();
    }
    assert.equal(await page.locator('.card').count(), 1000);

    await page.locator('#search input').fill('red cat 99');
    await page.waitForTimeout(250);
    await serve();
    await page.locator('#status', { hasText: 'matching' }).waitFor();
    const shown = await page.locator('.card .caption').allTextContents();
    assert.ok(shown.length > 0 && shown.every((t) => t.includes('red cat') && t.includes('99')));

    await page.locator('.card').first().focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    await page.locator('#preview:not([hidden])').waitFor();
    await page.locator('#preview-img').evaluate(async (el) => (el as unknown as PageImage).decode());
    await page.screenshot({ path: path.join(OUT, 'gallery-dark-preview.png') });
    await page.keyboard.press('Enter'); // focus starts on Insert
    const act = await waitForSent(page, 'action');
    assert.equal(act.action, 'insert');
    assert.match(String(act.id), /^id\d+$/);
    await page.keyboard.press('Escape');
    await page.locator('#preview').waitFor({ state: 'hidden' });
    await page.close();
  });

  it('gallery: an empty gallery says where to start, and its buttons name a starting point', async () => {
    const page = await open('gallery', 'light', { width: 360, height: 600 });
    const q = await waitForSent(page, 'query');
    await deliver(page, { type: 'page', requestId: q.requestId as number, query: '', offset: 0, total: 0, items: [], scanning: false });
    await page.locator('#empty', { hasText: 'No illustrations yet' }).waitFor();
    assert.equal(await page.locator('#start vscode-button').count(), 4);
    await page.screenshot({ path: path.join(OUT, 'gallery-light-empty.png') });
    await page.locator('#start [data-start="openPanel"]').click();
    assert.equal((await waitForSent(page, 'start')).what, 'openPanel');
    await page.close();
  });

  for (const theme of ['light', 'high-contrast'] as const) {
    it(`gallery renders in the ${theme} theme`, async () => {
      const page = await open('gallery', theme, { width: 360, height: 600 });
      const q = await waitForSent(page, 'query');
      const items: GalleryCard[] = [0, 1, 2, 3].map((i) => ({
        id: `id${i}`, fileName: `img${i}.png`, label: `images/img${i}.png`, prompt: `prompt ${i}`, mtimeMs: 1, width: 128, height: 128,
        imageUri: `${server.origin}/img/img${i}.png`, thumbUri: `${server.origin}/img/img${i}.png`,
      }));
      await deliver(page, { type: 'page', requestId: q.requestId as number, query: '', offset: 0, total: 4, items, scanning: false });
      await page.locator('.card img[src]').first().evaluate(async (el) => (el as unknown as PageImage).decode());
      await page.locator('.card').nth(1).focus();
      await page.screenshot({ path: path.join(OUT, `gallery-${theme}.png`) });
      await page.close();
    });
  }

  it('broke no Content Security Policy rule and threw no error', () => {
    assert.deepEqual(cspErrors, []);
    assert.ok(Object.keys(THEMES).length === 3);
  });
});
