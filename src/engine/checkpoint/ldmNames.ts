// The naming rules between a single-file checkpoint (the original LDM / CompVis layout that
// A1111 and civitai use) and the diffusers module names an ONNX export carries. The rules are
// those of diffusers' convert_ldm_unet_checkpoint / convert_ldm_vae_checkpoint /
// convert_ldm_clip_checkpoint, written here in the other direction: from a diffusers parameter
// name (found in the base graph) to the checkpoint key. Block counts are not written down: they
// come from the module names the base graph has (`Layout`), so a graph with other block
// counts maps as well.

import { TEXT_PREFIX, UNET_PREFIX, VAE_PREFIX } from './detect';

export type Component = 'text_encoder' | 'unet' | 'vae_decoder' | 'vae_encoder';

/** The structure facts the index arithmetic needs, read from a graph's module names. */
export interface Layout {
  /** Resnets per UNet down block (SD 1.x: 2); up blocks have one more. */
  layersPerBlock: number;
  /** UNet up blocks with attentions (their upsampler is the 3rd module of the LDM block, not the 2nd). */
  upBlocksWithAttention: Set<number>;
  /** VAE decoder up blocks (LDM numbers them the other way round). */
  vaeUpBlocks: number;
}

export function layoutOf(params: Iterable<string>): Layout {
  const resnets = new Set<number>();
  const upAttn = new Set<number>();
  let vaeUp = 0;
  for (const p of params) {
    let m = /^down_blocks\.0\.resnets\.(\d+)\./.exec(p);
    if (m) resnets.add(Number(m[1]));
    m = /^up_blocks\.(\d+)\.attentions\./.exec(p);
    if (m) upAttn.add(Number(m[1]));
    m = /^decoder\.up_blocks\.(\d+)\./.exec(p);
    if (m) vaeUp = Math.max(vaeUp, Number(m[1]) + 1);
  }
  return { layersPerBlock: resnets.size, upBlocksWithAttention: upAttn, vaeUpBlocks: vaeUp };
}

/** Checkpoint keys that may hold the diffusers parameter `param` of `component`, most likely first. */
export function checkpointKeys(component: Component, param: string, layout: Layout): string[] {
  switch (component) {
    case 'unet': {
      const k = unetKey(param, layout);
      return k ? [UNET_PREFIX + k] : [];
    }
    case 'vae_decoder':
    case 'vae_encoder': {
      const k = vaeKey(param, layout);
      return k ? [VAE_PREFIX + k] : [];
    }
    case 'text_encoder':
      // Checkpoints saved with transformers < 4.x have no "text_model." level.
      return param.startsWith('text_model.') ? [TEXT_PREFIX + param, TEXT_PREFIX + param.slice('text_model.'.length)] : [TEXT_PREFIX + param];
  }
}

// diffusers ResnetBlock2D -> LDM ResBlock (UNet).
const UNET_RESNET: [RegExp, string][] = [
  [/^norm1\./, 'in_layers.0.'],
  [/^conv1\./, 'in_layers.2.'],
  [/^time_emb_proj\./, 'emb_layers.1.'],
  [/^norm2\./, 'out_layers.0.'],
  [/^conv2\./, 'out_layers.3.'],
  [/^conv_shortcut\./, 'skip_connection.'],
];

function rename(rest: string, rules: [RegExp, string][]): string | undefined {
  for (const [re, to] of rules) if (re.test(rest)) return rest.replace(re, to);
  return undefined;
}

function unetKey(p: string, l: Layout): string | undefined {
  const per = l.layersPerBlock + 1; // LDM blocks per diffusers down block: the resnets, then the downsampler
  let m: RegExpExecArray | null;
  if ((m = /^conv_in\.(.+)$/.exec(p))) return `input_blocks.0.0.${m[1]}`;
  if ((m = /^time_embedding\.linear_([12])\.(.+)$/.exec(p))) return `time_embed.${m[1] === '1' ? 0 : 2}.${m[2]}`;
  if ((m = /^conv_norm_out\.(.+)$/.exec(p))) return `out.0.${m[1]}`;
  if ((m = /^conv_out\.(.+)$/.exec(p))) return `out.2.${m[1]}`;
  if ((m = /^down_blocks\.(\d+)\.resnets\.(\d+)\.(.+)$/.exec(p))) {
    const r = rename(m[3], UNET_RESNET);
    return r && `input_blocks.${Number(m[1]) * per + Number(m[2]) + 1}.0.${r}`;
  }
  if ((m = /^down_blocks\.(\d+)\.attentions\.(\d+)\.(.+)$/.exec(p))) return `input_blocks.${Number(m[1]) * per + Number(m[2]) + 1}.1.${m[3]}`;
  if ((m = /^down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.+)$/.exec(p))) return `input_blocks.${(Number(m[1]) + 1) * per}.0.op.${m[2]}`;
  if ((m = /^mid_block\.resnets\.(\d+)\.(.+)$/.exec(p))) {
    const r = rename(m[2], UNET_RESNET);
    return r && `middle_block.${Number(m[1]) * 2}.${r}`;
  }
  if ((m = /^mid_block\.attentions\.0\.(.+)$/.exec(p))) return `middle_block.1.${m[1]}`;
  if ((m = /^up_blocks\.(\d+)\.resnets\.(\d+)\.(.+)$/.exec(p))) {
    const r = rename(m[3], UNET_RESNET);
    return r && `output_blocks.${Number(m[1]) * per + Number(m[2])}.0.${r}`;
  }
  if ((m = /^up_blocks\.(\d+)\.attentions\.(\d+)\.(.+)$/.exec(p))) return `output_blocks.${Number(m[1]) * per + Number(m[2])}.1.${m[3]}`;
  if ((m = /^up_blocks\.(\d+)\.upsamplers\.0\.conv\.(.+)$/.exec(p))) {
    const i = Number(m[1]);
    return `output_blocks.${i * per + l.layersPerBlock}.${l.upBlocksWithAttention.has(i) ? 2 : 1}.conv.${m[2]}`;
  }
  return undefined;
}

// diffusers ResnetBlock2D -> LDM ResnetBlock (VAE): same names but the shortcut.
const VAE_RESNET: [RegExp, string][] = [
  [/^(norm1|conv1|norm2|conv2)\./, '$1.'],
  [/^conv_shortcut\./, 'nin_shortcut.'],
];

// diffusers Attention (both its old and new names) -> LDM AttnBlock, whose q/k/v/proj_out are 1x1 convs.
const VAE_ATTENTION: [RegExp, string][] = [
  [/^group_norm\./, 'norm.'],
  [/^(to_q|query)\./, 'q.'],
  [/^(to_k|key)\./, 'k.'],
  [/^(to_v|value)\./, 'v.'],
  [/^(to_out\.0|proj_attn)\./, 'proj_out.'],
];

function vaeKey(p: string, l: Layout): string | undefined {
  let m: RegExpExecArray | null;
  if (/^(post_)?quant_conv\./.test(p)) return p;
  if ((m = /^(encoder|decoder)\.(conv_in|conv_out)\.(.+)$/.exec(p))) return p;
  if ((m = /^(encoder|decoder)\.conv_norm_out\.(.+)$/.exec(p))) return `${m[1]}.norm_out.${m[2]}`;
  if ((m = /^(encoder|decoder)\.mid_block\.resnets\.(\d+)\.(.+)$/.exec(p))) {
    const r = rename(m[3], VAE_RESNET);
    return r && `${m[1]}.mid.block_${Number(m[2]) + 1}.${r}`;
  }
  if ((m = /^(encoder|decoder)\.mid_block\.attentions\.0\.(.+)$/.exec(p))) {
    const r = rename(m[2], VAE_ATTENTION);
    return r && `${m[1]}.mid.attn_1.${r}`;
  }
  if ((m = /^encoder\.down_blocks\.(\d+)\.resnets\.(\d+)\.(.+)$/.exec(p))) {
    const r = rename(m[3], VAE_RESNET);
    return r && `encoder.down.${m[1]}.block.${m[2]}.${r}`;
  }
  if ((m = /^encoder\.down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.+)$/.exec(p))) return `encoder.down.${m[1]}.downsample.conv.${m[2]}`;
  if ((m = /^decoder\.up_blocks\.(\d+)\.resnets\.(\d+)\.(.+)$/.exec(p))) {
    const r = rename(m[3], VAE_RESNET);
    return r && `decoder.up.${l.vaeUpBlocks - 1 - Number(m[1])}.block.${m[2]}.${r}`;
  }
  if ((m = /^decoder\.up_blocks\.(\d+)\.upsamplers\.0\.conv\.(.+)$/.exec(p))) return `decoder.up.${l.vaeUpBlocks - 1 - Number(m[1])}.upsample.conv.${m[2]}`;
  return undefined;
}

/**
 * Checkpoint tensors that no SD 1.x ONNX graph uses and that are left alone: EMA copies, the
 * training schedule's buffers, the VAE's training loss, CLIP's position ids.
 */
export function ignoredKey(key: string): boolean {
  if (key.startsWith('model_ema.') || key.startsWith(`${VAE_PREFIX}loss.`)) return true;
  if (key.endsWith('.position_ids')) return true;
  return !key.startsWith(UNET_PREFIX) && !key.startsWith(VAE_PREFIX) && !key.startsWith('cond_stage_model.');
}

/** Which component a checkpoint key belongs to (for "left over" checks: only components the base has). */
export function componentOfKey(key: string): Component | undefined {
  if (key.startsWith(UNET_PREFIX)) return 'unet';
  if (key.startsWith('cond_stage_model.')) return 'text_encoder';
  if (key.startsWith(`${VAE_PREFIX}decoder.`) || key.startsWith(`${VAE_PREFIX}post_quant_conv.`)) return 'vae_decoder';
  if (key.startsWith(`${VAE_PREFIX}encoder.`) || key.startsWith(`${VAE_PREFIX}quant_conv.`)) return 'vae_encoder';
  return undefined;
}
