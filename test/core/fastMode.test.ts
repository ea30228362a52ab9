import assert from 'node:assert/strict';
import { FAST, fastParams, isLcmScheduler } from '../../src/core/fastMode';
import type { GenerateParams } from '../../src/core/protocol';

describe('core/fastMode', () => {
  const base: GenerateParams = { model: '/m', prompt: 'a heart', steps: 30, guidance: 7.5, scheduler: 'dpmpp-2m-karras', loras: [{ path: '/l/style.safetensors', multiplier: 0.6 }] };

  it('runs 4 steps, no guidance, the LCM scheduler and the LCM-LoRA beside the job\'s own LoRAs', () => {
    const p = fastParams(base, '/store/lcm-lora-sdv1-5/pytorch_lora_weights.safetensors');
    assert.deepEqual([p.steps, p.guidance, p.scheduler], [FAST.steps, FAST.guidance, 'lcm']);
    assert.deepEqual(p.loras, [{ path: '/l/style.safetensors', multiplier: 0.6 }, { path: '/store/lcm-lora-sdv1-5/pytorch_lora_weights.safetensors', multiplier: 1 }]);
    assert.equal(p.extraParameters?.['Fast mode'], 'LCM-LoRA');
    assert.equal(p.prompt, base.prompt);
  });

  it('needs no LoRA for a model that is a Latent Consistency Model already', () => {
    assert.ok(isLcmScheduler({ _class_name: 'LCMScheduler', original_inference_steps: 50 }));
    assert.ok(!isLcmScheduler({ _class_name: 'PNDMScheduler' }));
    assert.ok(!isLcmScheduler(undefined));
    const p = fastParams({ ...base, loras: undefined }, undefined);
    assert.equal(p.loras, undefined);
    assert.equal(p.extraParameters?.['Fast mode'], 'LCM model');
  });
});
