import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { readLoraFile } from '../../../src/engine/lora/loraFile';
import { addnetHash, loraShortHash } from '../../../src/engine/lora/loraHash';
import { SafetensorsFile } from '../../../src/engine/lora/safetensors';
import { WeightRandom } from '../../fixtures/onnx/random';
import { TestTensor, kohyaTensors, peftTensors, randomModule, safetensorsBytes } from './loraFixtures';

const rnd = new WeightRandom(7);
const parse = (tensors: Record<string, TestTensor>, metadata?: Record<string, string>) =>
  readLoraFile(SafetensorsFile.parse('t.safetensors', safetensorsBytes(tensors, metadata)));

describe('LoRA file formats', () => {
  it('reads kohya keys: UNet, text encoder, alpha, LoCon 3x3 downs', () => {
    const f = parse({
      ...kohyaTensors({ 'down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q': randomModule(rnd, 4, 8, 8, [], 1) }, 'lora_unet_'),
      ...kohyaTensors({ 'down_blocks.0.resnets.0.conv1': randomModule(rnd, 2, 8, 8, [3, 3]) }, 'lora_unet_'),
      ...kohyaTensors({ 'text_model.encoder.layers.0.self_attn.q_proj': randomModule(rnd, 4, 8, 8) }, 'lora_te_'),
    });
    assert.equal(f.format, 'kohya');
    assert.deepEqual(f.warnings, []);
    const byName = Object.fromEntries(f.modules.map((m) => [m.name, m]));
    const q = byName.down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q;
    assert.deepEqual([q.component, q.rank, q.alpha], ['unet', 4, 1]);
    assert.deepEqual(byName.down_blocks_0_resnets_0_conv1.downShape, [2, 8, 3, 3]);
    assert.equal(byName.text_model_encoder_layers_0_self_attn_q_proj.component, 'textEncoder');
  });

  it('reads PEFT keys (lora_A/lora_B), diffusers lora.down/up and attention-processor keys', () => {
    const m = randomModule(rnd, 2, 8, 8);
    const f = parse({
      ...peftTensors({ 'mid_block.attentions.0.proj_in': m }, 'unet.'),
      ...peftTensors({ 'text_model.encoder.layers.1.mlp.fc1': m }, 'text_encoder.'),
      'unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_k.lora.down.weight': m.down,
      'unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_k.lora.up.weight': m.up,
      'up_blocks.1.attentions.0.transformer_blocks.0.attn2.processor.to_out_lora.down.weight': m.down,
      'up_blocks.1.attentions.0.transformer_blocks.0.attn2.processor.to_out_lora.up.weight': m.up,
    });
    assert.equal(f.format, 'peft/diffusers');
    assert.deepEqual(f.warnings, []);
    assert.deepEqual(f.modules.map((x) => [x.component, x.name, x.alpha]), [
      ['unet', 'mid_block.attentions.0.proj_in', undefined],
      ['textEncoder', 'text_model.encoder.layers.1.mlp.fc1', undefined],
      ['unet', 'down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_k', undefined],
      [undefined, 'up_blocks.1.attentions.0.transformer_blocks.0.attn2.to_out.0', undefined],
    ]);
  });

  it('returns unknown keys, unpaired halves and other networks as warnings', () => {
    const m = randomModule(rnd, 2, 8, 8);
    const f = parse({
      ...kohyaTensors({ 'mid_block.attentions.0.proj_out': m }, 'lora_unet_'),
      'lora_unet_mid_block_resnets_0_conv1.hada_w1_a': m.down,
      'lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_down.weight': m.down,
      'lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_up.weight': m.up,
      'lora_unet_conv_in.lora_down.weight': m.down,
      'lora_unet_conv_out.lora_down.weight': { shape: [3, 8], data: rnd.normals(24, 1) },
      'lora_unet_conv_out.lora_up.weight': m.up,
    });
    assert.equal(f.modules.length, 1);
    assert.deepEqual(f.warnings, [
      'lora_unet_mid_block_resnets_0_conv1.hada_w1_a: not a LoRA key this engine knows',
      'lora_te2_text_model_encoder_layers_0_mlp_fc1: not a LoRA key this engine knows',
      'lora_unet_conv_in: a down matrix without its up matrix',
      'lora_unet_conv_out: down [3, 8] and up [8, 2] disagree on the rank',
    ]);
  });

  it('hashes as A1111 does: sha256 of what follows the header, 12 hex digits; a stored sshs_model_hash wins', () => {
    const tensors = kohyaTensors({ 'mid_block.attentions.0.proj_out': randomModule(rnd, 2, 8, 8) }, 'lora_unet_');
    const bytes = safetensorsBytes(tensors, { ss_output_name: 'x' });
    // By hand: the length field says where the tensors start.
    const start = 8 + Number(bytes.readBigUInt64LE(0));
    const want = crypto.createHash('sha256').update(bytes.subarray(start)).digest('hex');
    const file = SafetensorsFile.parse('h.safetensors', bytes);
    assert.equal(addnetHash(file), want);
    assert.equal(loraShortHash(file), want.slice(0, 12));
    // Metadata does not change it.
    assert.equal(addnetHash(SafetensorsFile.parse('h2', safetensorsBytes(tensors, { other: 'metadata' }))), want);
    const stored = 'ABCDEF0123456789'.repeat(4);
    assert.equal(loraShortHash(SafetensorsFile.parse('h3', safetensorsBytes(tensors, { sshs_model_hash: stored }))), 'abcdef012345');
  });
});
