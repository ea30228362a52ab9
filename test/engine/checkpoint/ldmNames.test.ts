import * as assert from 'node:assert/strict';
import { checkpointKeys, layoutOf } from '../../../src/engine/checkpoint/ldmNames';

// SD 1.5's own numbers (2 resnets per down block, attention in up blocks 1-3, 4 VAE up blocks),
// against keys of a real SD 1.5 checkpoint (v1-5-pruned-emaonly.safetensors).
describe('checkpoint import: LDM names of SD 1.5 parameters', () => {
  const layout = layoutOf([
    'down_blocks.0.resnets.0.conv1.weight', 'down_blocks.0.resnets.1.conv1.weight',
    'up_blocks.1.attentions.0.proj_in.weight', 'up_blocks.2.attentions.0.proj_in.weight', 'up_blocks.3.attentions.0.proj_in.weight',
    'decoder.up_blocks.3.resnets.0.conv1.weight',
  ]);
  const cases: [Parameters<typeof checkpointKeys>[0], string, string][] = [
    ['unet', 'time_embedding.linear_2.bias', 'model.diffusion_model.time_embed.2.bias'],
    ['unet', 'down_blocks.1.resnets.0.conv_shortcut.weight', 'model.diffusion_model.input_blocks.4.0.skip_connection.weight'],
    ['unet', 'down_blocks.2.attentions.1.transformer_blocks.0.attn1.to_q.weight', 'model.diffusion_model.input_blocks.8.1.transformer_blocks.0.attn1.to_q.weight'],
    ['unet', 'down_blocks.2.downsamplers.0.conv.weight', 'model.diffusion_model.input_blocks.9.0.op.weight'],
    ['unet', 'down_blocks.3.resnets.1.time_emb_proj.weight', 'model.diffusion_model.input_blocks.11.0.emb_layers.1.weight'],
    ['unet', 'mid_block.resnets.1.norm2.weight', 'model.diffusion_model.middle_block.2.out_layers.0.weight'],
    ['unet', 'mid_block.attentions.0.proj_out.bias', 'model.diffusion_model.middle_block.1.proj_out.bias'],
    ['unet', 'up_blocks.0.resnets.2.conv2.weight', 'model.diffusion_model.output_blocks.2.0.out_layers.3.weight'],
    ['unet', 'up_blocks.0.upsamplers.0.conv.weight', 'model.diffusion_model.output_blocks.2.1.conv.weight'],
    ['unet', 'up_blocks.1.upsamplers.0.conv.bias', 'model.diffusion_model.output_blocks.5.2.conv.bias'],
    ['unet', 'up_blocks.3.attentions.2.transformer_blocks.0.ff.net.0.proj.weight', 'model.diffusion_model.output_blocks.11.1.transformer_blocks.0.ff.net.0.proj.weight'],
    ['unet', 'conv_norm_out.weight', 'model.diffusion_model.out.0.weight'],
    ['vae_decoder', 'decoder.up_blocks.0.resnets.2.conv2.weight', 'first_stage_model.decoder.up.3.block.2.conv2.weight'],
    ['vae_decoder', 'decoder.up_blocks.3.resnets.0.conv_shortcut.weight', 'first_stage_model.decoder.up.0.block.0.nin_shortcut.weight'],
    ['vae_decoder', 'decoder.up_blocks.2.upsamplers.0.conv.weight', 'first_stage_model.decoder.up.1.upsample.conv.weight'],
    ['vae_decoder', 'decoder.mid_block.attentions.0.to_out.0.weight', 'first_stage_model.decoder.mid.attn_1.proj_out.weight'],
    ['vae_decoder', 'decoder.mid_block.attentions.0.query.bias', 'first_stage_model.decoder.mid.attn_1.q.bias'],
    ['vae_decoder', 'decoder.mid_block.attentions.0.group_norm.weight', 'first_stage_model.decoder.mid.attn_1.norm.weight'],
    ['vae_decoder', 'post_quant_conv.weight', 'first_stage_model.post_quant_conv.weight'],
    ['vae_encoder', 'encoder.down_blocks.1.downsamplers.0.conv.weight', 'first_stage_model.encoder.down.1.downsample.conv.weight'],
    ['vae_encoder', 'encoder.mid_block.resnets.1.norm1.bias', 'first_stage_model.encoder.mid.block_2.norm1.bias'],
    ['vae_encoder', 'encoder.conv_norm_out.weight', 'first_stage_model.encoder.norm_out.weight'],
    ['text_encoder', 'text_model.final_layer_norm.weight', 'cond_stage_model.transformer.text_model.final_layer_norm.weight'],
  ];
  for (const [component, param, key] of cases) {
    it(`${component} ${param} -> ${key}`, () => assert.equal(checkpointKeys(component, param, layout)[0], key));
  }
  it('text encoder keys saved without "text_model." are the second choice', () => {
    assert.deepEqual(checkpointKeys('text_encoder', 'text_model.encoder.layers.3.mlp.fc1.bias', layout), [
      'cond_stage_model.transformer.text_model.encoder.layers.3.mlp.fc1.bias',
      'cond_stage_model.transformer.encoder.layers.3.mlp.fc1.bias',
    ]);
  });
  it('a module it has no rule for gets no key (reported as missing, never guessed)', () => {
    assert.deepEqual(checkpointKeys('unet', 'class_embedding.linear_1.weight', layout), []);
  });
});
