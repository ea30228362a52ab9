// Playwright-core helpers to drive VS Code (code-server) in Debian's Chromium. Reusable by every
// UI test: start a workbench with the extension loaded, open files, run palette commands, click
// CodeLenses, wait for notifications, find webview frames, take screenshots.
//
//   const wb = await launchWorkbench({ name: 'my-test', folder: workspaceDir });
//   await openFile(wb.page, 'course/intro.md');
//   await runCommand(wb.page, 'Course Illustrator: Open Illustration Panel');
//   const frame = await webviewFrame(wb.page, '#prompt');   // inner frame holding #prompt
//   await screenshot(wb.page, 'panel-open');
//   await wb.close();

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Frame, type Locator, type Page } from 'playwright-core';
import { REPO_ROOT, USER_SETTINGS_MARK, runEnv, startCodeServer, type CodeServer } from './codeServer';
import type { InPage, PageImage } from './pageTypes';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const OUTPUT_DIR = path.join(REPO_ROOT, 'test-output');

export interface WorkbenchOptions {
  /** Names the run folder test-output/runs/<name> and the screenshots. */
  name: string;
  /** Workspace folder to open. */
  folder: string;
  /** Default: the repository (the extension under test). Null: no extension. */
  extensionDevelopmentPath?: string | null;
  /** Compiled in-host mocha suite; the workbench then runs it and reports through onExit. */
  extensionTestsPath?: string;
  trust?: boolean;
  settings?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  /** Called with the exit code when an extensionTestsPath suite ends. */
  onExit?: (code: number) => void;
  /** Browser console lines (in-host mocha output arrives here). */
  onConsole?: (line: string) => void;
  log?: (line: string) => void;
  /** Wait for `.monaco-workbench` (default true). */
  waitForWorkbench?: boolean;
  /** Display language (see CodeServerOptions.locale). */
  locale?: string;
}

export interface Workbench {
  page: Page;
  context: BrowserContext;
  server: CodeServer;
  runDir: string;
  close(): Promise<void>;
}

export async function launchWorkbench(opts: WorkbenchOptions): Promise<Workbench> {
  const runDir = path.join(OUTPUT_DIR, 'runs', opts.name);
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  const server = await startCodeServer({ runDir, trust: opts.trust, settings: opts.settings, env: opts.env, log: opts.log, locale: opts.locale });
  let context: BrowserContext | undefined;
  // Chromium puts its singleton socket under TMPDIR, and a Unix socket path may not exceed 107
  // bytes: a clone in a long folder (mktemp -d) made it abort at start. A short TMPDIR of its own.
  const chromiumTmp = mkdtempSync(path.join(os.tmpdir(), 'ci-chr-'));
  const dropTmp = () => rmSync(chromiumTmp, { recursive: true, force: true });
  try {
    context = await chromium.launchPersistentContext(path.join(runDir, 'chromium'), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 900 },
      env: { ...process.env, ...runEnv(runDir), TMPDIR: chromiumTmp },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage',
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
      ],
    });
    const page = context.pages()[0] ?? (await context.newPage());
    if (opts.onConsole) {
      const onConsole = opts.onConsole;
      page.on('console', (m) => onConsole(m.text()));
    }
    if (opts.onExit) await page.exposeFunction('codeAutomationExit', (code: number) => opts.onExit?.(code));
    const dev = opts.extensionDevelopmentPath === null ? undefined : (opts.extensionDevelopmentPath ?? REPO_ROOT);
    await page.goto(server.workbenchUrl(opts.folder, { extensionDevelopmentPath: dev, extensionTestsPath: opts.extensionTestsPath }));
    if (opts.waitForWorkbench !== false) await workbenchReady(page);
    const ctx = context;
    return {
      page,
      context: ctx,
      server,
      runDir,
      async close() {
        await ctx.close().catch(() => undefined);
        await server.stop();
        dropTmp();
      },
    };
  } catch (e) {
    await context?.close().catch(() => undefined);
    await server.stop();
    dropTmp();
    throw e;
  }
}

/** The workbench is shown and has read the user settings (its title carries USER_SETTINGS_MARK). */
async function workbenchReady(page: Page): Promise<void> {
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  await page.waitForFunction((mark) => (globalThis as unknown as { document: { title: string } }).document.title.includes(mark), USER_SETTINGS_MARK, { timeout: 60_000 });
}

/** Opens a workspace file through Quick Open (path relative to the folder) and waits for its tab. */
export async function openFile(page: Page, relativePath: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(relativePath);
  const base = path.basename(relativePath);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: base }).first().waitFor({ timeout: 15_000 });
  await page.keyboard.press('Enter');
  await page.locator('.tabs-container .tab', { hasText: base }).first().waitFor({ timeout: 15_000 });
  await page.locator('.monaco-editor .view-lines').first().waitFor();
}

/** Runs a command by its palette title, e.g. "Course Illustrator: Generate Illustration". */
export async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 15_000 });
  await page.keyboard.press('Enter');
}

/**
 * Reloads the window the way a user does, with "Developer: Reload Window": VS Code then shuts the
 * workbench down in order, and webview state is saved before the page goes. A bare browser reload
 * can drop what was saved in the last seconds (VS Code writes its storage lazily).
 *
 * In code-server a webview shown again after this reload sometimes waits about 30 s for its
 * service worker ("Waiting for controllerchange"), so give webviewFrame 90 s afterwards.
 */
export async function reloadWindow(page: Page): Promise<void> {
  // 'domcontentloaded', not 'framenavigated': the workbench also changes its URL in place
  // (history API), which fires framenavigated without a reload, and the old page's frames would
  // be returned. Nor 'load', which a slow subresource can hold back for half a minute.
  const loaded = page.waitForEvent('domcontentloaded', { timeout: 60_000 });
  await runCommand(page, 'Developer: Reload Window');
  await loaded;
  await workbenchReady(page);
}

/**
 * Answers the open quick input (input box or quick pick): optional text, then Enter. Pass the
 * step's title (or part of it): between steps the widget stays open, and an Enter pressed
 * before the next step is drawn would answer the wrong one.
 */
export async function answerQuickInput(page: Page, text?: string, title?: string | RegExp): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  if (title !== undefined) await widget.locator('.quick-input-title', { hasText: title }).waitFor({ state: 'visible', timeout: 15_000 });
  const input = widget.locator('input').first();
  await input.waitFor({ state: 'visible' });
  if (text !== undefined) await input.fill(text);
  await page.keyboard.press('Enter');
}

/** Waits for a notification toast containing `text`; returns its locator. */
export async function waitForNotification(page: Page, text: string | RegExp, timeout = 60_000) {
  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: text }).first();
  await toast.waitFor({ timeout });
  return toast;
}

/** Clicks the CodeLens whose text contains `text` (the first, or the n-th). */
export async function clickCodeLens(page: Page, text: string, nth = 0, timeout = 30_000): Promise<void> {
  const lens = page.locator('.codelens-decoration a', { hasText: text }).nth(nth);
  await lens.waitFor({ timeout });
  await lens.click();
}

/** The text of the visible lines of the active editor (Monaco renders spaces as U+00A0). */
export async function editorText(page: Page): Promise<string> {
  const editor = page.locator('.editor-group-container.active .monaco-editor .view-lines').first();
  const text = (await editor.textContent({ timeout: 5_000 }).catch(() => '')) ?? '';
  return text.replace(/\u00a0/g, ' ');
}

/** Picks `value` in the vscode-single-select `#id`, as a click on the option does. */
export async function choose(frame: Frame, id: string, value: string): Promise<void> {
  await frame.locator(`#${id}`).evaluate((s, v) => {
    const w: InPage = globalThis;
    (s as InPage).value = v;
    s.dispatchEvent(new w.Event('change'));
  }, value);
}

/** Polls until `check` returns a value (not undefined) and returns it, or fails naming `what`. */
export async function eventually<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until the visible editor text contains `text`; returns that text. */
export async function waitForEditorText(page: Page, text: string | RegExp, timeout = 60_000): Promise<string> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const current = await editorText(page);
    if (typeof text === 'string' ? current.includes(text) : text.test(current)) return current;
    if (Date.now() > deadline) throw new Error(`the editor never showed ${String(text)}; it shows: ${current.slice(0, 400)}`);
    await page.waitForTimeout(200);
  }
}

/** Moves the cursor to the end of the document of the active editor. */
export async function cursorToEnd(page: Page): Promise<void> {
  await page.locator('.monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+End');
}

/**
 * The inner frame of a webview (outer iframe.webview > inner iframe#active-frame, URL with
 * fake.html) whose document has `marker`. Polls until found.
 */
export async function webviewFrame(page: Page, marker: string, timeout = 30_000): Promise<Frame> {
  const deadline = Date.now() + timeout;
  for (;;) {
    for (const frame of page.frames()) {
      if (!frame.url().includes('fake.html')) continue;
      try {
        if ((await frame.locator(marker).count()) > 0) return frame;
      } catch {
        // frame navigated away meanwhile
      }
    }
    if (Date.now() > deadline) throw new Error(`no webview frame with ${marker} within ${timeout} ms`);
    await page.waitForTimeout(200);
  }
}

/** Waits for the image, decodes it and returns its natural width (0: it did not load). */
export async function decodedWidth(image: Locator, timeout = 60_000): Promise<number> {
  await image.waitFor({ timeout });
  return image.evaluate(async (el) => {
    const img = el as unknown as PageImage;
    await img.decode();
    return img.naturalWidth;
  });
}

/** Waits until every <img> matching selector in the frame decoded with a real size. */
export async function waitForImages(frame: Frame, selector = 'img', timeout = 30_000): Promise<number> {
  await frame.locator(selector).first().waitFor({ timeout });
  // A string expression: the Node-side tsconfig has no DOM types.
  return frame.evaluate<number>(`(async () => {
    const imgs = Array.from(document.querySelectorAll(${JSON.stringify(selector)}));
    await Promise.all(imgs.map((i) => i.decode().catch(() => undefined)));
    return imgs.filter((i) => i.naturalWidth > 0).length;
  })()`);
}

/** Opens the view container in the activity bar whose title starts with `title`. */
export async function openActivity(page: Page, title: string): Promise<void> {
  await page.locator(`.activitybar .action-item a[aria-label^="${title}"]`).first().click();
}

/** Saves a screenshot as test-output/screenshots/<name>.png and returns the path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = path.join(OUTPUT_DIR, 'screenshots');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}
