// Fast mode as the extension runs it (core/fastMode.ts) through the real engine: an LCM-LoRA
// file beside the model, 4 LCM steps without guidance, and the parameters that say so.

import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fastParams } from '../../../src/core/fastMode';
import { parseInfotext } from '../../../src/core/infotext';
import { Engine } from '../../../src/engine/engine';
import { ensureFixture } from '../../fixtures/tinyPipeline';
import { WeightRandom } from '../../fixtures/onnx/random';
import { kohyaTensors, randomModule, writeSafetensors } from './loraFixtures';

describe('fast mode through the engine (tiny model, a stand-in LCM-LoRA)', function () {
  this.timeout(180000);

  it('makes the image in 4 LCM steps without guidance, with the LoRA\'s hash in its parameters', async () => {
    const model = await ensureFixture('tiny-lora');
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'fast-'));
    const rnd = new WeightRandom(5);
    const lora = await writeSafetensors(path.join(tmp, 'lcm-lora-sdv1-5', 'pytorch_lora_weights.safetensors'), kohyaTensors({ 'down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_q': randomModule(rnd, 4, 16, 16, [], 4) }, 'lora_unet_'));
    const engine = new Engine({ threads: 1 });
    try {
      const steps: number[] = [];
      const params = fastParams({ model, prompt: 'a heart', seed: 3, steps: 25, guidance: 7.5, width: 64, height: 64, outDir: tmp }, lora);
      const r = await engine.generate(params, { progress: (e) => e.stage === 'denoise' && steps.push(e.total) });
      const f = parseInfotext(r.images[0].infotext).fields;
      assert.equal(f['Steps'], '4');
      assert.equal(f['CFG scale'], '1');
      assert.equal(f['Sampler'], 'LCM');
      assert.equal(f['Fast mode'], 'LCM-LoRA');
      assert.match(f['Lora hashes'] ?? '', /^pytorch_lora_weights: [0-9a-f]{12}$/);
      assert.ok(steps.every((t) => t === 4), `progress counts 4 steps (${steps.join(',')})`);
    } finally {
      await engine.dispose?.();
      await fs.rm(tmp, { recursive: true, force: true });
    }
  });
});
