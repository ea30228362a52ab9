// UI test in real VS Code (code-server + Chromium): a course whose workspace settings point at a
// school server. The test starts our own `course-illustrator serve` (A1111's API) on 127.0.0.1;
// the workspace says `courseIllustrator.backend: a1111` and its URL. Clicking a stub's CodeLens
// makes the image on the server; the file lands in the course with its parameters and the XMP AI
// label, and the status bar says "School server".
//
//   npx mocha --no-config -r tsx/cjs --timeout 300000 test/e2e/ui/remote.ui.ts   (part of npm run test:ui)

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ServeServer, startHttpServer } from '../../../src/engine/serve/httpServer';
import { ensureFixture } from '../../fixtures/tinyPipeline';
import { pngText } from '../../engine/serve/a1111Client';
import { OUTPUT_DIR, clickCodeLens, launchWorkbench, openFile, screenshot, waitForEditorText, type Workbench } from '../harness';
import { prepare } from '../runHost';
import { makeWorkspace } from '../workspace';

const RUN = `remote-ui-${process.pid}`;

describe('a school server as the backend in VS Code (UI)', function () {
  this.timeout(300_000);
  let wb: Workbench;
  let ws: string;
  let server: ServeServer;
  const served: string[] = [];

  before(async () => {
    prepare();
    const modelDir = await ensureFixture('tiny-a');
    server = await startHttpServer({
      model: modelDir, host: '127.0.0.1', port: 0, maxQueue: 4, requestTimeoutMs: 120_000, threads: 1,
      lowMemory: false, log: (line) => served.push(line),
    });
    ws = makeWorkspace(path.join(OUTPUT_DIR, 'workspaces', RUN), { modelDir });
    // Machine settings, as a school sets them: a workspace (a course someone shares) cannot send
    // prompts and pictures to a server of its choosing.
    wb = await launchWorkbench({ name: RUN, folder: ws, settings: { 'courseIllustrator.backend': 'a1111', 'courseIllustrator.backendUrl': server.url } });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && wb) await screenshot(wb.page, `failed-${this.currentTest.title.replace(/[^a-z0-9]+/gi, '-')}`);
  });

  after(async () => {
    await wb?.close();
    await server?.close();
  });

  it('the status bar says "School server"', async () => {
    await openFile(wb.page, 'course/stubs.md');
    await wb.page.locator('.statusbar-item', { hasText: 'School server' }).first().waitFor({ timeout: 30_000 });
  });

  it('a stub\'s CodeLens makes the image on the server; the course gets the file with its infotext and XMP label', async () => {
    const { page } = wb;
    await openFile(page, 'course/stubs.md');
    const before = served.length;
    await clickCodeLens(page, 'Generate illustration');
    await waitForEditorText(page, /!\[a labelled plant cell\]\(images\/stubs\/a-labelled-plant-cell-\d+\.png\)/);
    await screenshot(page, 'remote-codelens-replaced');
    assert.ok(served.slice(before).some((l) => /^job \d+ done: 1 image/.test(l)), `the server made it: ${served.join(' | ')}`);
    const folder = path.join(ws, 'course', 'images', 'stubs');
    const file = fs.readdirSync(folder).find((f) => /^a-labelled-plant-cell-\d+\.png$/.test(f));
    assert.ok(file, `no image in ${folder}`);
    const text = pngText(fs.readFileSync(path.join(folder, file)));
    const seed = /-(\d+)\.png$/.exec(file)![1];
    assert.match(text.parameters, /^a labelled plant cell/);
    assert.ok(text.parameters.includes(`Seed: ${seed}`) && text.parameters.includes('Steps: 3') && text.parameters.includes('Size: 64x64'), text.parameters);
    assert.ok(text['XML:com.adobe.xmp'].includes('trainedAlgorithmicMedia'), 'XMP AI label');
    assert.ok(text['XML:com.adobe.xmp'].includes('Course Illustrator'), 'XMP creator tool');
    // The lenses above the new image come from its PNG metadata, as for a local image.
    await page.locator('.codelens-decoration a', { hasText: 'Regenerate' }).first().waitFor({ timeout: 30_000 });
  });
});
