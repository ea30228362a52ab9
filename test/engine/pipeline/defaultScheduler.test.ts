import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseInfotext } from '../../../src/core/infotext';
import { Engine } from '../../../src/engine/engine';
import { readPngInfo } from '../../../src/engine/image/readImageInfo';
import { resolveJob } from '../../../src/engine/pipeline/jobParams';
import { copyFixture, type TempModel } from '../../fixtures/tempCopy';
import { SD15_SCHEDULER_CONFIG } from '../../fixtures/tinyPipeline';

// A job without a scheduler runs the model's own: scheduler_config.json's class, and for
// DPMSolverMultistepScheduler its use_karras_sigmas (diffusers' "DPM++ 2M Karras" exports).
describe("a job without a scheduler runs the model's scheduler_config.json", () => {
  const base = { model: '/m', prompt: 'a plant cell', seed: 1, outDir: '/tmp' };
  const defaults = (schedulerConfig: Record<string, unknown>) => ({ size: 512, vaeScaleFactor: 8, schedulerConfig });

  it('resolveJob reads use_karras_sigmas as well as the class name', () => {
    const dpm = { ...SD15_SCHEDULER_CONFIG, _class_name: 'DPMSolverMultistepScheduler' };
    assert.equal(resolveJob(base, defaults({ ...dpm, use_karras_sigmas: true })).scheduler, 'dpmpp-2m-karras');
    assert.equal(resolveJob(base, defaults({ ...dpm, use_karras_sigmas: false })).scheduler, 'dpmpp-2m');
    assert.equal(resolveJob(base, defaults(dpm)).scheduler, 'dpmpp-2m');
    assert.equal(resolveJob(base, defaults(SD15_SCHEDULER_CONFIG)).scheduler, 'pndm');
    assert.equal(resolveJob(base, defaults({ _class_name: 'UniPCMultistepScheduler' })).scheduler, 'pndm');
    // Not one of Object's own keys either.
    assert.equal(resolveJob(base, defaults({ _class_name: 'constructor' })).scheduler, 'pndm');
    // A scheduler the job names wins over the model's.
    assert.equal(resolveJob({ ...base, scheduler: 'euler' }, defaults({ ...dpm, use_karras_sigmas: true })).scheduler, 'euler');
  });

  describe('Engine.generate with a DPMSolverMultistepScheduler + use_karras_sigmas model', () => {
    let model: TempModel;
    let engine: Engine;
    before(async () => {
      model = await copyFixture('tiny-a');
      const config = { ...SD15_SCHEDULER_CONFIG, _class_name: 'DPMSolverMultistepScheduler', use_karras_sigmas: true };
      await fs.writeFile(path.join(model.dir, 'scheduler', 'scheduler_config.json'), JSON.stringify(config, null, 2));
      engine = new Engine({ provider: 'cpu', threads: 1 });
    });
    after(async () => {
      await engine?.dispose();
      await model?.remove();
    });

    it("reports dpmpp-2m-karras and writes Karras as the PNG's schedule type", async () => {
      const outFile = path.join(path.dirname(model.dir), 'karras.png');
      const result = await engine.generate({ model: model.dir, prompt: 'a plant cell', seed: 3, steps: 3, outFile });
      assert.equal(result.scheduler, 'dpmpp-2m-karras');
      assert.equal(result.images[0].path, outFile);
      const written = await readPngInfo(outFile);
      assert.ok(written.parameters, 'the PNG has a parameters chunk');
      assert.equal(written.parameters, result.images[0].infotext);
      const fields = parseInfotext(written.parameters).fields;
      assert.equal(fields['Sampler'], 'DPM++ 2M');
      assert.equal(fields['Schedule type'], 'Karras');
    });
  });
});
