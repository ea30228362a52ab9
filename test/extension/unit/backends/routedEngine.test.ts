// services.engine with backends: generate goes to the server only when one is configured; remote
// jobs are cancelled by id and listed as active like local ones; the import request is checked.

import * as assert from 'assert';
import { EngineRequests } from '../../../../src/core/engineRequests';
import { RoutedEngineClient } from '../../../../src/extension/backends/routedEngine';
import type { GenerationBackend } from '../../../../src/extension/backends/generationBackend';
import { backendStatusText } from '../../../../src/extension/backends/backendStatusText';
import type { EngineClient, JobEvent } from '../../../../src/extension/services';
import { memoryLog } from '../../../support/backendDeps';

function fakeLocal(): EngineClient & { generated: number } {
  const local = {
    generated: 0,
    generate: async () => {
      local.generated++;
      return { jobId: 'l', images: [], timings: { loadMs: 0, textEncoderMs: 0, unetStepMs: [], vaeMs: 0, saveMs: 0, totalMs: 0, sessionRunMs: 0 }, tokenCount: 0, scheduler: 'pndm' as const, warnings: [] };
    },
    activeJobs: () => ['local-1'],
    cancel: async () => false,
    onJob: () => ({ dispose() {} }),
  };
  return local as unknown as EngineClient & { generated: number };
}

describe('backends/routedEngine', () => {
  it('keeps local jobs local, sends remote ones to the backend, and cancels a remote job by id', async () => {
    const local = fakeLocal();
    let use: GenerationBackend | undefined = undefined;
    const backend: GenerationBackend = {
      kind: 'a1111',
      url: 'http://server',
      generate: (_params, options) =>
        new Promise((_resolve, reject) => {
          options.token?.onCancellationRequested(() => reject(Object.assign(new Error('Generation cancelled.'), { name: 'EngineError', kind: 'cancelled' })));
        }),
    };
    const engine = new RoutedEngineClient({ local, backend: () => use, log: memoryLog() });
    const events: JobEvent['kind'][] = [];
    engine.onJob((e) => events.push(e.kind));
    await engine.generate({ model: 'm', prompt: 'p' });
    assert.strictEqual(local.generated, 1);
    use = backend;
    const job = engine.generate({ model: 'm', prompt: 'p' }, { jobId: 'r1' });
    assert.deepStrictEqual(engine.activeJobs(), ['local-1', 'r1']);
    assert.strictEqual(await engine.cancel('r1'), true);
    await assert.rejects(job, (e: { kind?: string }) => e.kind === 'cancelled');
    assert.deepStrictEqual(events, ['started', 'failed']);
    assert.deepStrictEqual(engine.activeJobs(), ['local-1']);
    await assert.rejects(new RoutedEngineClient({ local, backend: () => backend, refuse: () => 'Restricted Mode', log: memoryLog() }).generate({ model: 'm', prompt: 'p' }), /Restricted Mode/);
  });

  it('engine/import takes exactly one of outFile and outDir, and a seed', () => {
    const ok = { imageBase64: 'iVBO', infotext: 'p', prompt: 'p', seed: 3, outFile: '/w/a.png' };
    assert.strictEqual(EngineRequests.importImage.params(ok).seed, 3);
    assert.throws(() => EngineRequests.importImage.params({ ...ok, outDir: '/w' }), /exactly one of "outFile" and "outDir"/);
    assert.throws(() => EngineRequests.importImage.params({ ...ok, seed: undefined }), /"seed" is missing/);
    assert.throws(() => EngineRequests.importImage.result({ path: '/w/a.png', seed: 4, width: 8, height: 8 }, ok), /seed 4, expected 3/);
  });

  it('the status bar text says where images are made', () => {
    assert.strictEqual(backendStatusText({ backend: 'local', backendUrl: '' }).text, '$(vm) Local');
    // While jobs run it shows the step and how many wait, whichever backend makes them.
    assert.strictEqual(backendStatusText({ backend: 'local', backendUrl: '' }, { step: 7, total: 20, waiting: 2 }).text, '$(sync~spin) Illustrating: step 7/20 (+2 waiting)');
    assert.strictEqual(backendStatusText({ backend: 'local', backendUrl: '' }, { waiting: 0 }).text, '$(sync~spin) Illustrating: starting');
    const s = backendStatusText({ backend: 'comfyui', backendUrl: 'http://gpu.school:8188' });
    assert.strictEqual(s.text, '$(server) School server');
    assert.match(s.tooltip, /ComfyUI server: http:\/\/gpu\.school:8188/);
  });
});
