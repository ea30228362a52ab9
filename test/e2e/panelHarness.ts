// Starts code-server (VS Code 1.100 server + workbench) with this extension and drives it with
// Debian's Chromium through playwright-core, hermetically: a fresh user-data, extensions folder,
// HOME and TMPDIR per run, nothing fetched from the network. Used by panel.ui.ts and gallery.ui.ts.
// (The shared harness test/e2e/harness.ts replaces this once it lands.)

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Frame, type Page } from 'playwright-core';

export const ROOT = path.resolve(__dirname, '../..');
const CODE_SERVER = path.join(ROOT, '.cache/code-server/node_modules/.bin/code-server');

export interface Workbench {
  page: Page;
  context: BrowserContext;
  runDir: string;
  workspace: string;
  /** Everything code-server printed (for failure messages). */
  serverLog(): string;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function waitHealthy(port: number, ms: number, log: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      http.get({ host: '127.0.0.1', port, path: '/healthz', timeout: 1000 }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      }).on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`code-server did not answer /healthz within ${ms} ms:\n${log().slice(-2000)}`);
}

/**
 * Opens `workspace` in a fresh code-server with the extension from this repository (a symlink in
 * the extensions folder; dist/ must be built). `settings` are written to the user settings.
 */
export async function openWorkbench(workspace: string, runDir: string, settings: Record<string, unknown>): Promise<Workbench> {
  if (!fs.existsSync(CODE_SERVER)) throw new Error(`code-server is missing: run test/e2e/install-code-server.sh (expected ${CODE_SERVER})`);
  if (!fs.existsSync(path.join(ROOT, 'dist/extension.js'))) throw new Error('dist/extension.js is missing: run `node esbuild.js` first');
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { publisher: string; name: string; version: string };
  const dirs = { user: path.join(runDir, 'user'), ext: path.join(runDir, 'extensions'), home: path.join(runDir, 'home'), tmp: path.join(runDir, 'tmp'), chrome: path.join(runDir, 'chrome') };
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
  fs.symlinkSync(ROOT, path.join(dirs.ext, `${pkg.publisher}.${pkg.name}-${pkg.version}`));
  fs.mkdirSync(path.join(dirs.user, 'User'), { recursive: true });
  fs.writeFileSync(
    path.join(dirs.user, 'User', 'settings.json'),
    JSON.stringify(
      {
        'telemetry.telemetryLevel': 'off',
        'update.mode': 'none',
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'security.workspace.trust.enabled': false,
        'git.enabled': false,
        'files.autoSave': 'off',
        'window.restoreWindows': 'none',
        ...settings,
      },
      null,
      2,
    ),
  );

  const port = await freePort();
  let output = '';
  const env = {
    ...process.env,
    HOME: dirs.home,
    XDG_CONFIG_HOME: path.join(dirs.home, '.config'),
    XDG_DATA_HOME: path.join(dirs.home, '.local/share'),
    XDG_CACHE_HOME: path.join(dirs.home, '.cache'),
    TMPDIR: dirs.tmp,
    EXTENSIONS_GALLERY: '{}',
  };
  const server: ChildProcess = spawn(
    CODE_SERVER,
    ['--config', '/dev/null', '--auth', 'none', '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
      '--disable-getting-started-override', '--user-data-dir', dirs.user, '--extensions-dir', dirs.ext, '--bind-addr', `127.0.0.1:${port}`, workspace],
    { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  server.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  server.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const killServer = () => {
    try {
      if (server.pid) process.kill(-server.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  try {
    await waitHealthy(port, 30000, () => output);
    const context = await chromium.launchPersistentContext(dirs.chrome, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      viewport: { width: 1400, height: 900 },
      env: { ...process.env, HOME: dirs.home },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--disable-dev-shm-usage', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
    });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: `http://127.0.0.1:${port}` });
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
    return {
      page,
      context,
      runDir,
      workspace,
      serverLog: () => output,
      close: async () => {
        await context.close().catch(() => undefined);
        killServer();
      },
    };
  } catch (e) {
    killServer();
    throw e;
  }
}

/** Runs a palette command by its title, like a user: F1, type, Enter. */
export async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(`>${title}`);
  // Recently used commands sort first, so pick the row whose label is exactly the title.
  const exact = new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  const row = page.locator('.quick-input-list .monaco-list-row', { has: page.locator('.label-name', { hasText: exact }) }).first();
  await row.waitFor({ timeout: 30000 });
  await row.click();
}

/** Opens a workspace file with Quick Open. */
export async function openFile(page: Page, relPath: string): Promise<void> {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(relPath);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: path.basename(relPath) }).first().waitFor({ timeout: 30000 });
  await input.press('Enter');
  await page.locator('.tab', { hasText: path.basename(relPath) }).first().waitFor();
}

/** The inner frame of the webview whose document has `selector` (webviews are two nested iframes). */
export async function webviewFrame(page: Page, selector: string, timeoutMs = 30000): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const f of page.frames()) {
      if (!f.url().includes('fake.html') && !f.url().includes('index.html')) continue;
      try {
        if (await f.locator(selector).count()) return f;
      } catch {
        // a frame that navigated away while we looked
      }
    }
    await page.waitForTimeout(200);
  }
  throw new Error(`no webview frame with ${selector} appeared within ${timeoutMs} ms (frames: ${page.frames().map((f) => f.url().slice(0, 80)).join(', ')})`);
}

/** Polls until `check` returns a value (not undefined), or fails with `what`. */
export async function eventually<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 20000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}


