// UI test of the Chinese interface in real VS Code: code-server in the zh-cn display language
// (with a stand-in language pack, see test/e2e/languagePack), the extension's command found in
// the palette by its Chinese title, its CodeLens and its panel in Chinese.
//
//   npx mocha --no-config -r tsx/cjs --timeout 300000 test/e2e/ui/chinese.ui.ts   (part of npm run test:ui)

import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import assert from 'node:assert/strict';
import { ensureFixture } from '../../fixtures/tinyPipeline';
import { launchWorkbench, openFile, runCommand, screenshot, webviewFrame, type Workbench } from '../harness';
import { prepare } from '../runHost';
import { makeWorkspace } from '../workspace';

describe('Chinese interface in VS Code (UI)', function () {
  this.timeout(180_000);
  let tmp: string;
  let wb: Workbench | undefined;

  before(async () => {
    prepare();
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ci-zh-'));
    const ws = makeWorkspace(path.join(tmp, 'workspace'), { modelDir: await ensureFixture('tiny-a') });
    wb = await launchWorkbench({ name: `chinese-${process.pid}`, folder: ws, locale: 'zh-cn' });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && wb) await screenshot(wb.page, `failed-chinese-${this.currentTest.title.replace(/[^a-z0-9]+/gi, '-')}`);
  });

  after(async () => {
    await wb?.close();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  // First: once its lenses show, the extension's contributions are registered in the workbench.
  it('shows the stub CodeLens in Chinese', async () => {
    const page = wb!.page;
    await openFile(page, 'course/stubs.md');
    await page.locator('.codelens-decoration a', { hasText: '生成插图' }).first().waitFor({ timeout: 30_000 });
    await page.locator('.codelens-decoration a', { hasText: '在面板中打开' }).first().waitFor({ timeout: 30_000 });
  });

  it('finds "Generate Illustration" in the palette by searching 生成插图', async () => {
    const page = wb!.page;
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill('>生成插图');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: '课程插图: 生成插图' }).first().waitFor({ timeout: 30_000 });
    await screenshot(page, 'chinese-palette');
    await page.keyboard.press('Escape');
  });

  it('opens the illustration panel with its form in Chinese', async () => {
    const page = wb!.page;
    await runCommand(page, '课程插图: 打开插图面板');
    const frame = await webviewFrame(page, '#ci-panel', 60_000);
    assert.equal((await frame.locator('#form-title').textContent())?.trim(), '生成插图');
    assert.equal((await frame.locator('#generate').textContent())?.trim(), '生成');
    assert.equal(await frame.locator('#fast').getAttribute('label'), '快速（4 步）');
    // Words the webview script writes itself come from the bundle the extension rendered in.
    await frame.locator('#template-hint', { hasText: '提示词按原样使用。' }).waitFor({ timeout: 30_000 });
    // A composed template's parts are data (templateData.ts): labelled in the display language too.
    assert.equal((await frame.locator('label[for="template-level"]').textContent())?.trim(), '学段');
    assert.equal((await frame.locator('#template-level vscode-option[value="high"]').textContent())?.trim(), '高中');
    assert.equal((await frame.locator('#template-subject vscode-option[value="biology"]').textContent())?.trim(), '生物');
    await screenshot(page, 'chinese-panel');
  });
});
