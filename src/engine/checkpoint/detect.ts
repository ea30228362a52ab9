// What a .safetensors file is, told from its tensor names and a few shapes, so that anything
// but an SD 1.x checkpoint is refused with a message saying what it is and what to do.

import type { TensorInfo } from '../lora/safetensors';
import { ModelError } from '../hub/errors';

export const UNET_PREFIX = 'model.diffusion_model.';
export const VAE_PREFIX = 'first_stage_model.';
export const TEXT_PREFIX = 'cond_stage_model.transformer.';

export interface CheckpointFacts {
  /** UNet input channels: 4 for text-to-image, 9 for inpainting. */
  unetInChannels: number;
  /** The dtypes of the tensors that will be read (F32, F16, BF16), most common first. */
  dtypes: string[];
}

function refuse(file: string, what: string, todo: string): ModelError {
  return new ModelError('badInput', `${file} is ${what}, not a Stable Diffusion 1.x checkpoint: ${todo}`);
}

/** Checks that `tensors` are an SD 1.x checkpoint in the original (LDM) layout; throws saying what else they are. */
export function detectCheckpoint(file: string, tensors: Map<string, TensorInfo>): CheckpointFacts {
  const names = [...tensors.keys()];
  const has = (prefix: string) => names.some((n) => n.startsWith(prefix));
  if (names.some((n) => /(^|\.)lora_(unet|te\d?)_|lora_(down|up)\.weight$|\.lora_[AB]\.weight$|^lora_/.test(n))) {
    throw refuse(file, 'a LoRA', 'this is a LoRA, use --lora (or pick it under "LoRAs" in the panel) with an SD 1.5 model instead of importing it.');
  }
  if (has('conditioner.embedders')) {
    throw refuse(file, 'an SDXL checkpoint', 'Course Illustrator runs SD 1.x models; choose an SD 1.5-based checkpoint.');
  }
  const unet = names.filter((n) => n.startsWith(UNET_PREFIX));
  if (unet.length === 0) {
    if (has('down_blocks.') || has('unet.') || has('text_model.')) {
      throw refuse(file, 'one component in the diffusers layout (no model.diffusion_model.* keys)', 'use the model folder it came from, or the single-file .safetensors checkpoint.');
    }
    if (has('encoder.') && has('decoder.')) {
      throw refuse(file, 'a VAE on its own', 'import the checkpoint it belongs to; a separate VAE cannot be imported yet.');
    }
    const sample = names.slice(0, 3).map((n) => `"${n}"`).join(', ');
    throw refuse(file, `not a Stable Diffusion checkpoint (${names.length} tensors${sample ? `, e.g. ${sample}` : ''})`, 'choose an SD 1.5 .safetensors checkpoint (A1111 / civitai style).');
  }
  if (has('cond_stage_model.model.')) {
    throw refuse(file, 'an SD 2.x checkpoint (OpenCLIP text encoder, cond_stage_model.model.*)', 'Course Illustrator runs SD 1.x models; choose an SD 1.5-based checkpoint.');
  }
  const toK = tensors.get(`${UNET_PREFIX}input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight`);
  // Other widths than SD 2.x's are left to the shape check against the base (which says which tensor).
  if (toK && toK.shape.length === 2 && toK.shape[1] === 1024) {
    throw refuse(file, 'an SD 2.x checkpoint (1024-wide text conditioning)', 'Course Illustrator runs SD 1.x models; choose an SD 1.5-based checkpoint.');
  }
  const convIn = tensors.get(`${UNET_PREFIX}input_blocks.0.0.weight`);
  if (!convIn || convIn.shape.length !== 4) {
    throw refuse(file, `a file with UNet tensors but no ${UNET_PREFIX}input_blocks.0.0.weight`, 'the checkpoint is incomplete or in an unknown layout; download it again.');
  }
  const dtypes = new Map<string, number>();
  for (const n of unet) {
    const d = tensors.get(n)!.dtype;
    dtypes.set(d, (dtypes.get(d) ?? 0) + 1);
  }
  return { unetInChannels: convIn.shape[1], dtypes: [...dtypes].sort((a, b) => b[1] - a[1]).map(([d]) => d) };
}

/** The refusal for a checkpoint whose UNet takes other inputs than the base's (inpainting, pix2pix). */
export function channelMismatch(file: string, ckptChannels: number, baseChannels: number, base: string): ModelError {
  if (ckptChannels === 9) {
    return new ModelError(
      'badInput',
      `${file} is an inpainting checkpoint (its UNet takes 9 input channels): import it on top of an inpainting ONNX model with --base (e.g. an ONNX export of stable-diffusion-inpainting); ${base} takes ${baseChannels}.`,
    );
  }
  if (baseChannels === 9) {
    return new ModelError('badInput', `${file} is a text-to-image checkpoint (4 input channels) but the base ${base} is an inpainting model (9): use a text-to-image base such as sd15-onnx.`);
  }
  return new ModelError('badInput', `${file} has a UNet with ${ckptChannels} input channels (instruct-pix2pix or depth?) and the base ${base} has ${baseChannels}; only 4 (text-to-image) and 9 (inpainting) are supported.`);
}
