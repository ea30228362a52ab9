// Runs the in-host mocha suites (test/extension/host) inside real VS Code (code-server +
// Chromium): first with a trusted workspace, then in Restricted Mode. Exit code = failures.
//
//   npx tsx test/e2e/runHost.ts            (npm run test:host)

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ensureFixture } from '../fixtures/tinyPipeline';
import { CODE_SERVER_BIN, REPO_ROOT } from './codeServer';
import { OUTPUT_DIR, launchWorkbench } from './harness';
import { makeWorkspace } from './workspace';

const SUITE_TIMEOUT_MS = 6 * 60_000;

export function prepare(): void {
  if (!existsSync(CODE_SERVER_BIN)) run('bash', [path.join(REPO_ROOT, 'test/e2e/install-code-server.sh')]);
  // The engine and the extension are built together; a failure in one still leaves the other.
  const r = spawnSync(process.execPath, ['esbuild.js'], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (r.status !== 0) console.warn('warning: node esbuild.js failed; testing what is in dist/');
  for (const f of ['dist/extension.js', 'dist/engine.js']) {
    if (!existsSync(path.join(REPO_ROOT, f))) throw new Error(`${f} is missing: the build failed`);
  }
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { cwd: REPO_ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
}

async function runSuite(suite: 'trusted' | 'restricted', modelDir: string): Promise<number> {
  const ws = makeWorkspace(path.join(OUTPUT_DIR, 'workspaces', `host-${suite}`), { modelDir });
  const started = Date.now();
  let resolveExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((r) => (resolveExit = r));
  const verbose = !!process.env.E2E_VERBOSE;
  const report = path.join(OUTPUT_DIR, `host-${suite}.log`);
  writeFileSync(report, '');
  let shown = 0;
  const follow = (): void => {
    const text = readFileSync(report, 'utf8');
    if (text.length > shown) process.stdout.write(text.slice(shown));
    shown = text.length;
  };
  const timer = setInterval(follow, 500);
  const wb = await launchWorkbench({
    name: `host-${suite}`,
    folder: ws,
    trust: suite === 'restricted',
    extensionTestsPath: path.join(REPO_ROOT, 'out/test/host/index.js'),
    env: {
      COURSE_ILLUSTRATOR_HOST_SUITE: suite,
      COURSE_ILLUSTRATOR_TEST_WORKSPACE: ws,
      COURSE_ILLUSTRATOR_TEST_MODEL: modelDir,
      COURSE_ILLUSTRATOR_HOST_REPORT: report,
    },
    waitForWorkbench: false,
    onExit: (code) => resolveExit(code),
    onConsole: verbose ? (line) => console.log(`  [console] ${line}`) : undefined,
    log: verbose ? (l) => console.log(l) : undefined,
  });
  try {
    const timeout = new Promise<number>((r) => setTimeout(() => r(124), SUITE_TIMEOUT_MS));
    const code = await Promise.race([exited, timeout]);
    follow();
    console.log(`[${suite}] in-host suite exit code ${code} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return code;
  } finally {
    clearInterval(timer);
    follow();
    await wb.close();
  }
}

async function main(): Promise<void> {
  prepare();
  run(process.execPath, ['test/e2e/build.js']);
  const modelDir = await ensureFixture('tiny-a');
  const only = process.argv[2] as 'trusted' | 'restricted' | undefined;
  let failed = 0;
  for (const suite of ['trusted', 'restricted'] as const) {
    if (only && only !== suite) continue;
    if ((await runSuite(suite, modelDir)) !== 0) failed++;
  }
  process.exit(failed ? 1 : 0);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
