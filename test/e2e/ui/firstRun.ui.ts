// UI test in real VS Code (code-server + Chromium): the first-run choice. No model is set up; the
// user runs "Generate Illustration" and answers the question "Download Stable Diffusion v1.5
// (N GB)" / "Use a Folder I Have" / "Cancel" with a real click.
//
// The hub is test/support/hubServer.ts on loopback, serving the tiny fixture model under the repo
// and revision the catalogue's default (SD v1.5) entry names, so the real catalogue entry with its
// include/exclude rules is what gets pulled. Beside the model the repo holds files those rules
// leave out (README, fp16 and quantized variants, a safety checker), as the real repo does.
//
//   npm run test:ui      (or: npx mocha --no-config -r tsx/cjs --timeout 300000 test/e2e/ui/firstRun.ui.ts)

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, readFileSync, readdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { formatBytes } from '../../../src/core/format';
import { ensureFixture } from '../../fixtures/tinyPipeline';
import { HubServer } from '../../support/hubServer';
import {
  answerQuickInput,
  cursorToEnd,
  editorText,
  launchWorkbench,
  openFile,
  runCommand,
  screenshot,
  waitForEditorText,
  waitForNotification,
  type Workbench,
} from '../harness';
import { prepare } from '../runHost';
import { INTRO_MD } from '../workspace';

interface CatalogueEntry {
  id: string;
  title: string;
  repo: string;
  revision: string;
  default?: boolean;
  approxBytes: number;
  require: string[];
}

const CATALOGUE = path.resolve(__dirname, '../../../src/engine/hub/catalogue.json');
const ENTRY: CatalogueEntry = (() => {
  const models = (JSON.parse(readFileSync(CATALOGUE, 'utf8')) as { models: CatalogueEntry[] }).models;
  const entry = models.find((m) => m.default);
  if (!entry) throw new Error(`${CATALOGUE} has no default model`);
  return entry;
})();

/** Files the real repo has and the entry's include/exclude rules leave out. */
const LEFT_OUT: Record<string, string> = {
  'README.md': '# Stable Diffusion v1.5 ONNX\n',
  'unet/model_fp16.onnx': 'not a model: fp16 variant',
  'text_encoder/model_quantized.onnx': 'not a model: quantized variant',
  'safety_checker/model.onnx': 'not a model: safety checker',
  'safety_checker/config.json': '{}\n',
};

const PROMPT = 'a watercolor oak tree';

async function filesUnder(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await filesUnder(dir, r)));
    else out.push(r);
  }
  return out.sort();
}

async function sha256(file: string): Promise<string> {
  return createHash('sha256').update(await fs.readFile(file)).digest('hex');
}

/** A workspace with course/intro.md and no model setting (so the first-run question comes). */
async function makeFirstRunWorkspace(dir: string): Promise<string> {
  await fs.mkdir(path.join(dir, 'course'), { recursive: true });
  await fs.mkdir(path.join(dir, '.vscode'), { recursive: true });
  await fs.writeFile(path.join(dir, 'course', 'intro.md'), INTRO_MD);
  await fs.writeFile(
    path.join(dir, '.vscode', 'settings.json'),
    JSON.stringify({ 'courseIllustrator.size': '64x64', 'courseIllustrator.steps': 3, 'courseIllustrator.previewEvery': 1 }, null, 2),
  );
  return dir;
}

/** Opens intro.md, runs Generate Illustration with PROMPT and waits for the first-run dialog. */
async function startGenerate(page: Page) {
  await openFile(page, 'course/intro.md');
  await cursorToEnd(page);
  await runCommand(page, 'Course Illustrator: Generate Illustration');
  await answerQuickInput(page, PROMPT, '(1/4)');
  await answerQuickInput(page, undefined, '(2/4)'); // template: none
  await answerQuickInput(page, undefined, '(3/4)'); // size: default
  await answerQuickInput(page, undefined, '(4/4)'); // negative prompt: keep
  const dialog = page.locator('.monaco-dialog-box', { hasText: 'needs a Stable Diffusion v1.5 model' });
  await dialog.waitFor({ timeout: 30_000 });
  return dialog;
}

describe('First run in VS Code (UI): no model yet', function () {
  this.timeout(120_000);
  let hub: HubServer;
  let tmp: string;
  let wb: Workbench | undefined;

  before(async () => {
    prepare();
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ci-first-run-'));
    const repoDir = path.join(tmp, 'hub-repo');
    await fs.cp(await ensureFixture('tiny-a'), repoDir, { recursive: true });
    for (const [p, text] of Object.entries(LEFT_OUT)) {
      await fs.mkdir(path.dirname(path.join(repoDir, p)), { recursive: true });
      await fs.writeFile(path.join(repoDir, p), text);
    }
    const pinned = /^[0-9a-f]{40}$/.test(ENTRY.revision);
    hub = await HubServer.start([{ repo: ENTRY.repo, dir: repoDir, ...(pinned ? { commit: ENTRY.revision } : { branch: ENTRY.revision }) }]);
    // Slow enough (about 3 s for the 1.6 MB model) that the download notification can be seen.
    hub.faults.throttle = { chunkBytes: 32 << 10, delayMs: 80 };
  });

  /** A fresh workbench: user settings point at the hub and at a store in the temp folder. */
  async function launch(name: string, endpoint = hub.endpoint): Promise<{ wb: Workbench; ws: string; store: string }> {
    const ws = await makeFirstRunWorkspace(path.join(tmp, name, 'workspace'));
    const store = path.join(tmp, name, 'models');
    wb = await launchWorkbench({
      // Per-process run folder: two runs at once must not share (and wipe) one profile.
      name: `${name}-${process.pid}`,
      folder: ws,
      settings: { 'courseIllustrator.hubEndpoint': endpoint, 'courseIllustrator.modelStore': store },
      // Nothing from the developer's environment may redirect the download.
      env: { HF_ENDPOINT: '', HF_TOKEN: '', HTTPS_PROXY: '', HTTP_PROXY: '', https_proxy: '', http_proxy: '' },
    });
    return { wb, ws, store };
  }

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && wb) await screenshot(wb.page, `failed-first-run-${this.currentTest.title.replace(/[^a-z0-9]+/gi, '-')}`);
    await wb?.close();
    wb = undefined;
  });

  after(async () => {
    await hub?.close();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('"Download Stable Diffusion v1.5 (N GB)" downloads the catalogue model, then the image is inserted', async () => {
    const { wb, ws, store } = await launch('first-run-download');
    const { page } = wb;
    const dialog = await startGenerate(page);
    const download = dialog.getByRole('button', { name: /^Download Stable Diffusion v1\.5/ });
    assert.equal((await download.textContent())?.trim(), `Download Stable Diffusion v1.5 (${formatBytes(ENTRY.approxBytes)})`);
    assert.match((await dialog.textContent()) ?? '', new RegExp(`${hub.endpoint.replace(/[.]/g, '\\.')}/${ENTRY.repo}`));
    await screenshot(page, 'first-run-dialog');
    const clicked = Date.now();
    await download.click();

    const toast = await waitForNotification(page, `Downloading ${ENTRY.title}`, 15_000);
    // Some bytes done (not only the "0 B of" shown first), and which file of how many.
    const moving = toast.locator('.notification-list-item-message', { hasText: /[1-9][\d.]* (KB|MB) of \d+(\.\d)? MB/ });
    await moving.waitFor({ timeout: 15_000 });
    assert.match((await moving.textContent()) ?? '', /(KB|MB) of \d+(\.\d)? MB.*file \d+ of \d+/);
    await screenshot(page, 'first-run-download-progress');
    await waitForNotification(page, `${ENTRY.title} is ready`, 30_000);

    const text = await waitForEditorText(page, `![${PROMPT}](images/intro/a-watercolor-oak-tree-`, 60_000);
    console.log(`      click -> model downloaded and image link inserted: ${Date.now() - clicked} ms`);
    await screenshot(page, 'first-run-inserted');

    // The model folder is complete: exactly the files the entry's rules take, each with the bytes
    // the hub served, and a manifest naming the repo and the commit the revision resolved to.
    const modelDir = path.join(store, ENTRY.id);
    const fixture = await filesUnder(await ensureFixture('tiny-a'));
    const installed = await filesUnder(modelDir);
    assert.deepEqual(installed.filter((f) => f !== '.course-illustrator-model.json'), fixture);
    for (const f of fixture) assert.equal(await sha256(path.join(modelDir, f)), hub.file(ENTRY.repo, f).sha256, `${f} differs from what the hub served`);
    for (const f of ENTRY.require) assert.ok(installed.includes(f), `${f} (required by the catalogue) is missing`);
    for (const f of Object.keys(LEFT_OUT)) assert.equal(hub.served(f), 0, `${f} should have been left out by the catalogue's rules`);
    const manifest = JSON.parse(await fs.readFile(path.join(modelDir, '.course-illustrator-model.json'), 'utf8')) as { repo: string; commit: string; files: { path: string }[] };
    assert.equal(manifest.repo, ENTRY.repo);
    assert.equal(manifest.commit, hub.commitOf(ENTRY.repo));
    assert.deepEqual(manifest.files.map((f) => f.path).sort(), fixture);
    assert.deepEqual(readdirSync(store).filter((f) => f !== '.staging'), [ENTRY.id]);

    // The PNG is where the link points (relative to the Markdown file).
    const link = /!\[[^\]]*\]\((images\/intro\/a-watercolor-oak-tree-\d+\.png)\)/.exec(text);
    assert.ok(link, `no complete image link in: ${text}`);
    const png = path.join(ws, 'course', ...link[1].split('/'));
    assert.ok(existsSync(png), `${png} does not exist`);
    assert.deepEqual((await fs.readFile(png)).subarray(0, 8), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  });

  it('an unreachable hub offers a mirror: choosing one downloads from there and the image comes', async () => {
    // Nothing listens on port 1: the hub "cannot be reached", as from a school in mainland China.
    const { wb } = await launch('first-run-mirror', 'http://127.0.0.1:1');
    const { page } = wb;
    const dialog = await startGenerate(page);
    await dialog.getByRole('button', { name: /^Download Stable Diffusion v1\.5/ }).click();
    const failed = await waitForNotification(page, /What was downloaded is kept/, 60_000);
    await screenshot(page, 'first-run-mirror-offered');
    await failed.getByRole('button', { name: 'Use a Mirror…' }).click();
    await answerQuickInput(page, 'Another address…', 'Download models through a Hugging Face mirror');
    await answerQuickInput(page, hub.endpoint, 'Mirror address');
    await waitForNotification(page, `${ENTRY.title} is ready`, 60_000);
    await waitForEditorText(page, `![${PROMPT}](images/intro/a-watercolor-oak-tree-`, 60_000);
  });

  it('"Cancel" writes nothing: no model folder, no image, the document unchanged', async () => {
    hub.resetStats();
    const { wb, ws, store } = await launch('first-run-cancel');
    const { page } = wb;
    const dialog = await startGenerate(page);
    await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 10_000 });
    // Whatever would follow a wrong answer (a download, a generation) would show within this time.
    await page.waitForTimeout(2_000);
    await screenshot(page, 'first-run-cancelled');

    assert.equal(await page.locator('.notifications-toasts .notification-toast', { hasText: /Downloading|Illustrating/ }).count(), 0);
    assert.ok(!existsSync(store) || readdirSync(store).length === 0, `the store ${store} should be empty`);
    assert.equal(hub.requests.length, 0, 'nothing was asked of the hub');
    assert.ok(!existsSync(path.join(ws, 'course', 'images')), 'no image folder');
    assert.equal(readFileSync(path.join(ws, 'course', 'intro.md'), 'utf8'), INTRO_MD);
    assert.ok(!(await editorText(page)).includes('!['), 'no link in the editor');
    assert.equal(await page.locator('.tabs-container .tab.dirty', { hasText: 'intro.md' }).count(), 0, 'the document is not modified');
  });
});
