// Starts code-server 4.100.3 (installed by test/e2e/install-code-server.sh into .cache/) in a
// hermetic run folder: own user-data, extensions, HOME, XDG_* and TMPDIR, no gallery, no
// telemetry, bound to 127.0.0.1. Stop() kills the whole process group.

import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';


/**
 * Part of the window title once the user settings are read. The workbench reads them after it
 * appears; a test acting at once could find the extension still on default settings.
 */
export const USER_SETTINGS_MARK = '· settings loaded';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const CODE_SERVER_BIN = path.join(REPO_ROOT, '.cache', 'code-server', 'node_modules', '.bin', 'code-server');

export interface CodeServerOptions {
  /** Folder for user data, extensions, home and temp files of this run. */
  runDir: string;
  /** Turn workspace trust on (the folder then opens in Restricted Mode). Default off. */
  trust?: boolean;
  /** Extra user settings. */
  settings?: Record<string, unknown>;
  /** Extra environment for the server and its extension host. */
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  /**
   * Display language, as `--locale` (e.g. 'zh-cn'). VS Code needs a language pack for it: a
   * stand-in (test/e2e/languagePack) declares the language, so extensions get their own
   * translations while VS Code's own words stay English.
   */
  locale?: string;
}

export interface CodeServer {
  port: number;
  origin: string;
  runDir: string;
  /** Workbench URL opening `folder`, loading the extension at `extensionDevelopmentPath`. */
  workbenchUrl(folder: string, dev?: { extensionDevelopmentPath?: string; extensionTestsPath?: string }): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export function runEnv(runDir: string): NodeJS.ProcessEnv {
  const home = path.join(runDir, 'home');
  const tmp = path.join(runDir, 'tmp');
  for (const d of [home, tmp, path.join(home, '.config'), path.join(home, '.cache'), path.join(home, '.local', 'share')]) mkdirSync(d, { recursive: true });
  return {
    HOME: home,
    TMPDIR: tmp,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_RUNTIME_DIR: tmp,
  };
}

/**
 * The stand-in language pack, and the index VS Code's server reads the display language's pack
 * from when it starts (user-data/languagepacks.json; VS Code writes it when it installs a pack).
 */
function installLanguagePack(locale: string, userData: string, extensions: string): void {
  const id = 'course-illustrator-test.zh-cn-stand-in';
  const folder = path.join(extensions, `${id}-0.0.1`);
  cpSync(path.join(REPO_ROOT, 'test', 'e2e', 'languagePack'), folder, { recursive: true });
  const pack = {
    hash: `stand-in-${locale}`,
    extensions: [{ extensionIdentifier: { id }, version: '0.0.1' }],
    translations: { vscode: path.join(folder, 'translations', 'main.i18n.json') },
    label: locale,
  };
  writeFileSync(path.join(userData, 'languagepacks.json'), JSON.stringify({ [locale]: pack }, null, 2));
}

export async function startCodeServer(opts: CodeServerOptions): Promise<CodeServer> {
  if (!existsSync(CODE_SERVER_BIN)) {
    throw new Error(`code-server is not installed at ${CODE_SERVER_BIN}. Run: bash test/e2e/install-code-server.sh`);
  }
  const log = opts.log ?? (() => undefined);
  // Left unset, low memory follows the machine's memory (config.ts): the suites run the same on any.
  const MACHINE_INDEPENDENT = { 'courseIllustrator.lowMemory': false };
  const runDir = path.resolve(opts.runDir);
  const userData = path.join(runDir, 'user-data');
  const extensions = path.join(runDir, 'extensions');
  mkdirSync(path.join(userData, 'User'), { recursive: true });
  mkdirSync(extensions, { recursive: true });
  if (opts.locale) installLanguagePack(opts.locale, userData, extensions);
  writeFileSync(
    path.join(userData, 'User', 'settings.json'),
    JSON.stringify(
      {
        'telemetry.telemetryLevel': 'off',
        'update.mode': 'none',
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'extensions.ignoreRecommendations': true,
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'workbench.enableExperiments': false,
        'security.workspace.trust.enabled': !!opts.trust,
        'security.workspace.trust.startupPrompt': 'never',
        'security.workspace.trust.banner': 'never',
        'git.enabled': false,
        'chat.disableAIFeatures': true,
        'editor.codeLens': true,
        'files.autoSave': 'off',
        // Shows in document.title once the workbench has read this file (see USER_SETTINGS_MARK).
        'window.title': `\${activeEditorShort}\${separator}\${rootName} ${USER_SETTINGS_MARK}`,
        ...MACHINE_INDEPENDENT,
        ...opts.settings,
      },
      null,
      2,
    ),
  );
  // The same settings as the remote machine's: code-server's window is a remote one, where
  // machine-scoped settings (courseIllustrator.modelStore, hubEndpoint) come from
  // Machine/settings.json; from User/settings.json alone they arrived only in most runs.
  mkdirSync(path.join(userData, 'Machine'), { recursive: true });
  writeFileSync(path.join(userData, 'Machine', 'settings.json'), JSON.stringify({ ...MACHINE_INDEPENDENT, ...opts.settings }, null, 2));
  const port = await freePort();
  const args = [
    '--config', '/dev/null',
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    ...(opts.trust ? [] : ['--disable-workspace-trust']),
    '--user-data-dir', userData,
    '--extensions-dir', extensions,
    '--bind-addr', `127.0.0.1:${port}`,
    ...(opts.locale ? ['--locale', opts.locale] : []),
  ];
  const env: NodeJS.ProcessEnv = { ...process.env, ...runEnv(runDir), EXTENSIONS_GALLERY: '{}', ...opts.env };
  delete env.VSCODE_IPC_HOOK_CLI;
  const child: ChildProcess = spawn(CODE_SERVER_BIN, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const onData = (b: Buffer): void => {
    for (const l of b.toString().split('\n')) if (l.trim()) log(`[code-server] ${l}`);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let exited = false;
  const exitPromise = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));

  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error('code-server exited during start (see its log above)');
    try {
      const res = await fetch(`${origin}/healthz`);
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      killGroup(child);
      throw new Error(`code-server did not answer ${origin}/healthz within 30 s`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }

  return {
    port,
    origin,
    runDir,
    workbenchUrl(folder, dev) {
      const remote = (p: string): string => `vscode-remote://127.0.0.1:${port}${path.resolve(p)}`;
      const payload: [string, string][] = [];
      if (dev?.extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', remote(dev.extensionDevelopmentPath)]);
      if (dev?.extensionTestsPath) payload.push(['extensionTestsPath', remote(dev.extensionTestsPath)]);
      const q = `folder=${encodeURIComponent(path.resolve(folder))}` + (payload.length ? `&payload=${encodeURIComponent(JSON.stringify(payload))}` : '');
      return `${origin}/?${q}`;
    },
    async stop() {
      if (!exited) {
        killGroup(child, 'SIGTERM');
        await Promise.race([exitPromise, new Promise((r) => setTimeout(r, 3000))]);
        if (!exited) killGroup(child, 'SIGKILL');
      }
    },
  };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // gone
    }
  }
}
