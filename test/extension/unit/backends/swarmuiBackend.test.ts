// The SwarmUI backend against a fake SwarmUI (test/support/fakeSwarmui.ts) following its
// docs/API.md: sessions, the parameters it sends, the files it writes, the token cookie, cancel
// and the error messages.

import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { EngineError } from '../../../../src/extension/engine/engineError';
import { saveCredentials } from '../../../../src/extension/backends/serverCredentials';
import { pngText } from '../../../engine/serve/a1111Client';
import { backendFor, memorySecrets, tempWorkspace, watcher } from '../../../support/backendDeps';
import { type FakeSwarmui, startFakeSwarmui } from '../../../support/fakeSwarmui';

async function rejects(p: Promise<unknown>): Promise<EngineError> {
  try {
    await p;
  } catch (e) {
    return e as EngineError;
  }
  throw new Error('expected a rejection');
}

describe('backends/swarmui against a fake SwarmUI', function () {
  this.timeout(30_000);
  let fake: FakeSwarmui;
  let ws: ReturnType<typeof tempWorkspace>;

  beforeEach(async () => {
    fake = await startFakeSwarmui();
    ws = tempWorkspace();
  });
  afterEach(async () => {
    await fake.close();
    ws.dispose();
  });

  it('sends the documented parameters, fetches the image from /View and writes it with our infotext and label', async () => {
    const { backend } = backendFor('swarmui', fake.url);
    const outFile = path.join(ws.images, 'cell.png');
    const r = await backend.generate(
      { model: 'x', prompt: 'a plant cell', negativePrompt: 'blurry', seed: 42, steps: 10, guidance: 7, width: 64, height: 96, scheduler: 'euler-a', outFile, confineTo: ws.root, domain: 'medical' },
      { jobId: 's1' },
    );
    const req = fake.requests[0];
    assert.deepStrictEqual(
      [req.images, req.prompt, req.negativeprompt, req.model, req.seed, req.steps, req.cfgscale, req.width, req.height, req.sampler, req.scheduler],
      [1, 'a plant cell', 'blurry', 'OfficialStableDiffusion/v1-5-pruned-emaonly.safetensors', 42, 10, 7, 64, 96, 'euler_ancestral', 'normal'],
    );
    assert.ok(typeof req.session_id === 'string');
    assert.strictEqual(r.images[0].path, outFile);
    const text = pngText(fs.readFileSync(outFile));
    assert.ok(text.parameters.includes('Sampler: Euler a, CFG scale: 7, Seed: 42, Size: 64x96, Model: v1-5-pruned-emaonly, RNG: CPU, Server: SwarmUI'), text.parameters);
    assert.ok(text['XML:com.adobe.xmp'].includes('trainedAlgorithmicMedia'));
    assert.ok(text['XML:com.adobe.xmp'].includes('AI-generated teaching material'));
  });

  it('reuses its session, takes a new one when it expired, and reads data: URL answers', async () => {
    const { backend } = backendFor('swarmui', fake.url);
    const job = { model: 'x', prompt: 'p', seed: 1, steps: 2, width: 64, height: 64, outDir: ws.images, confineTo: ws.root };
    await backend.generate(job, { jobId: 's2' });
    await backend.generate({ ...job, seed: 2 }, { jobId: 's3' });
    assert.strictEqual(fake.sessions.size, 1);
    fake.expireSessions();
    fake.dataUrls = true;
    const r = await backend.generate({ ...job, seed: 3, batch: 2 }, { jobId: 's4' });
    assert.deepStrictEqual(r.images.map((i) => i.seed), [3, 4]);
    assert.deepStrictEqual(fake.requests.map((q) => q.seed), [1, 2, 3, 4]);
  });

  it('sends the saved token as the swarm_user_token cookie, and asks for it when refused', async () => {
    fake.token = 'tok-123';
    const secrets = memorySecrets();
    const { backend } = backendFor('swarmui', fake.url, { secrets });
    const job = { model: 'x', prompt: 'p', seed: 1, steps: 2, width: 64, height: 64, outDir: ws.images, confineTo: ws.root };
    const e = await rejects(backend.generate(job, { jobId: 's5' }));
    assert.match(e.message, /refused the request: You are not logged in\. Please log in first\. Run "Course Illustrator: Set Server Credentials…" with the token/);
    await saveCredentials(secrets, fake.url, { token: 'tok-123' });
    assert.strictEqual((await backend.generate(job, { jobId: 's6' })).images.length, 1);
  });

  it('names the model setting when the server has no such model, and interrupts its own session on cancel', async () => {
    const missing = backendFor('swarmui', fake.url, { model: 'sdxl_base' });
    const e = await rejects(missing.backend.generate({ model: 'x', prompt: 'p', outDir: ws.images }, { jobId: 's7' }));
    assert.strictEqual(e.kind, 'modelError');
    assert.match(e.message, /has no model "sdxl_base" \(courseIllustrator\.backendModel\)\. It has: OfficialStableDiffusion\/v1-5-pruned-emaonly\.safetensors, Other\/anything-v3\.safetensors\./);

    fake.runMs = 3_000;
    const { backend } = backendFor('swarmui', fake.url, { model: 'anything-v3' });
    const w = watcher();
    const job = backend.generate({ model: 'x', prompt: 'p', seed: 1, steps: 2, width: 64, height: 64, outDir: ws.images, confineTo: ws.root }, { jobId: 's8', token: w.token, onProgress: w.onProgress });
    while (fake.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
    w.token.cancel();
    assert.strictEqual((await rejects(job)).kind, 'cancelled');
    await new Promise((r) => setTimeout(r, 100));
    assert.strictEqual(fake.interrupts, 1);
    assert.strictEqual(fake.requests[0].model, 'Other/anything-v3.safetensors');
    assert.deepStrictEqual(fs.readdirSync(ws.images), []);
  });
});
