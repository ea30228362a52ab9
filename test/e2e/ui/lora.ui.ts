// UI test in real VS Code (code-server + Chromium): a LoRA named in a stub's prompt. The course's
// LoRA folder holds a LoRA made for the tiny model; `<lora:line-art:0.8>` in a directive makes the
// image with it, and the PNG's parameters carry A1111's Lora hashes.
//
//   npx mocha --no-config -r tsx/cjs --timeout 300000 test/e2e/ui/lora.ui.ts   (part of npm run test:ui)

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureFixture } from '../../fixtures/tinyPipeline';
import { WeightRandom } from '../../fixtures/onnx/random';
import { kohyaTensors, randomModule, writeSafetensors } from '../../engine/lora/loraFixtures';
import { OUTPUT_DIR, clickCodeLens, launchWorkbench, openFile, screenshot, waitForEditorText, type Workbench } from '../harness';
import { prepare } from '../runHost';
import { makeWorkspace } from '../workspace';

const RUN = `lora-ui-${process.pid}`;

describe('a LoRA in a prompt, in VS Code (UI)', function () {
  this.timeout(300_000);
  let wb: Workbench;
  let ws: string;

  before(async () => {
    prepare();
    const modelDir = await ensureFixture('tiny-lora');
    ws = makeWorkspace(path.join(OUTPUT_DIR, 'workspaces', RUN), { modelDir, settings: { 'courseIllustrator.loraFolders': ['loras'] } });
    const rnd = new WeightRandom(21);
    await writeSafetensors(path.join(ws, 'loras', 'line-art.safetensors'), kohyaTensors({ 'down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_q': randomModule(rnd, 4, 16, 16, [], 4) }, 'lora_unet_'));
    fs.writeFileSync(path.join(ws, 'course', 'lora.md'), '# Hearts\n\n<!-- illustrate: a heart <lora:line-art:0.8> | seed: 8 | steps: 3 -->\n');
    wb = await launchWorkbench({ name: RUN, folder: ws });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && wb) await screenshot(wb.page, `lora-failed-${this.currentTest.title.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`);
  });

  after(async () => {
    await wb?.close();
  });

  it('a directive with <lora:line-art:0.8> makes the image with that LoRA; its parameters say which', async () => {
    await openFile(wb.page, 'course/lora.md');
    await clickCodeLens(wb.page, 'Generate illustration');
    // The tag is how the image was made, not what it shows: the alt text and file name leave it out.
    await waitForEditorText(wb.page, '![a heart](images/lora/a-heart-8.png)');
    const file = path.join(ws, 'course', 'images', 'lora', 'a-heart-8.png');
    const text = fs.readFileSync(file).toString('latin1');
    assert.match(text, /a heart <lora:line-art:0\.8>\n/, 'the prompt keeps its tag, as A1111 writes it');
    assert.match(text, /Lora hashes: "line-art: [0-9a-f]{12}"/);
    await screenshot(wb.page, 'lora-inserted');
  });
});
