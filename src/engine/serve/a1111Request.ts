// Reading A1111's txt2img and img2img request bodies (modules/api/models.py: every parameter of
// StableDiffusionProcessingTxt2Img / Img2Img, optional, with its default). Fields this engine
// does not use are accepted and ignored, as A1111 ignores fields it does not know; values
// outside this server's limits (src/core/limits.ts) are refused with FastAPI's 422 body. Numbers
// sent as strings ("20") are read as pydantic's lax mode reads them.

import { BATCH, GUIDANCE, NEGATIVE_PROMPT, PROMPT, SEED, SIZE, STEPS, STRENGTH, randomSeed } from '../../core/limits';
import { SchedulerName } from '../../core/schedulerNames';
import { a1111Error, fieldError } from './httpError';
import { resolveSampler } from './a1111Samplers';

export type RequestKind = 'txt2img' | 'img2img';

export interface A1111Job {
  kind: RequestKind;
  prompt: string;
  negativePrompt: string;
  /** First image's seed; image i uses seed + i (A1111's all_seeds). */
  seed: number;
  steps: number;
  cfgScale: number;
  width: number;
  height: number;
  batchSize: number;
  nIter: number;
  scheduler: SchedulerName;
  samplerName: string;
  scheduleLabel: string;
  sendImages: boolean;
  /** img2img only. */
  denoisingStrength?: number;
  initImage?: string;
  mask?: string;
  maskInvert: boolean;
  /** override_settings.sd_model_checkpoint, when the request names one. */
  checkpoint?: string;
  /** The request as A1111 echoes it in `parameters`. */
  parameters: Record<string, unknown>;
}

// The defaults A1111's API models give (API_NOT_ALLOWED fields left out), in its order; the
// `parameters` echo is these with the request's values on top.
const COMMON_DEFAULTS: Record<string, unknown> = {
  prompt: '', negative_prompt: '', styles: null, seed: -1, subseed: -1, subseed_strength: 0,
  seed_resize_from_h: -1, seed_resize_from_w: -1, sampler_name: null, scheduler: null, batch_size: 1,
  n_iter: 1, steps: 50, cfg_scale: 7, width: 512, height: 512, restore_faces: null, tiling: null,
  do_not_save_samples: false, do_not_save_grid: false, eta: null, denoising_strength: null,
  s_min_uncond: null, s_churn: null, s_tmax: null, s_tmin: null, s_noise: null, override_settings: null,
  override_settings_restore_afterwards: true, refiner_checkpoint: null, refiner_switch_at: null,
  disable_extra_networks: false, firstpass_image: null, comments: null,
};
const TXT2IMG_DEFAULTS: Record<string, unknown> = {
  ...COMMON_DEFAULTS, enable_hr: false, firstphase_width: 0, firstphase_height: 0, hr_scale: 2,
  hr_upscaler: null, hr_second_pass_steps: 0, hr_resize_x: 0, hr_resize_y: 0, hr_checkpoint_name: null,
  hr_sampler_name: null, hr_scheduler: null, hr_prompt: '', hr_negative_prompt: '', force_task_id: null,
  sampler_index: 'Euler', script_name: null, script_args: [], send_images: true, save_images: false,
  alwayson_scripts: {}, infotext: null,
};
const IMG2IMG_DEFAULTS: Record<string, unknown> = {
  ...COMMON_DEFAULTS, init_images: null, resize_mode: 0, image_cfg_scale: null, mask: null, mask_blur_x: 4,
  mask_blur_y: 4, mask_blur: null, mask_round: true, inpainting_fill: 0, inpaint_full_res: true,
  inpaint_full_res_padding: 0, inpainting_mask_invert: 0, initial_noise_multiplier: null, latent_mask: null,
  force_task_id: null, sampler_index: 'Euler', denoising_strength: 0.75, script_name: null, script_args: [],
  send_images: true, save_images: false, alwayson_scripts: {}, infotext: null,
};

type Body = Record<string, unknown>;

export function parseA1111Request(kind: RequestKind, raw: unknown): A1111Job {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw fieldError([], 'Input should be a valid dictionary or object to extract fields from', raw, 'model_attributes_type');
  }
  const body = raw as Body;
  const defaults = kind === 'txt2img' ? TXT2IMG_DEFAULTS : IMG2IMG_DEFAULTS;
  const get = (key: string): unknown => (body[key] === null || body[key] === undefined ? defaults[key] : body[key]);

  const prompt = text(body, 'prompt', PROMPT.maxChars);
  const negativePrompt = text(body, 'negative_prompt', NEGATIVE_PROMPT.maxChars);
  const steps = integer(get('steps'), 'steps', STEPS.min, STEPS.max);
  const cfgScale = number(get('cfg_scale'), 'cfg_scale', GUIDANCE.min, GUIDANCE.max);
  const width = side(get('width'), 'width');
  const height = side(get('height'), 'height');
  const batchSize = integer(get('batch_size'), 'batch_size', BATCH.min, BATCH.max);
  const nIter = integer(get('n_iter'), 'n_iter', 1, BATCH.max);
  const count = batchSize * nIter;
  if (count > BATCH.max) {
    throw fieldError('n_iter', `batch_size × n_iter must be at most ${BATCH.max} images per request on this server, got ${batchSize} × ${nIter}; send several requests instead.`, nIter);
  }
  const seed = seedOf(get('seed'), count);
  const samplerIn = stringOr(body.sampler_name, 'sampler_name') ?? stringOr(body.sampler_index, 'sampler_index') ?? 'Euler';
  const sampler = resolveSampler(samplerIn, stringOr(body.scheduler, 'scheduler'));
  if ('message' in sampler) {
    // A1111 answers an unknown sampler with 404 "Sampler not found".
    if (sampler.notFound) throw a1111Error(404, sampler.message);
    throw fieldError(sampler.field, sampler.message, body[sampler.field]);
  }
  const override = body.override_settings;
  const checkpoint = typeof override === 'object' && override !== null && typeof (override as Body).sd_model_checkpoint === 'string'
    ? ((override as Body).sd_model_checkpoint as string) : undefined;

  const job: A1111Job = {
    kind, prompt, negativePrompt, seed, steps, cfgScale, width, height, batchSize, nIter,
    scheduler: sampler.scheduler, samplerName: sampler.samplerName, scheduleLabel: sampler.scheduleLabel,
    sendImages: boolean(get('send_images'), 'send_images'),
    maskInvert: false, checkpoint, parameters: {},
  };
  if (kind === 'img2img') {
    job.denoisingStrength = number(get('denoising_strength'), 'denoising_strength', STRENGTH.min, STRENGTH.max);
    const images = body.init_images;
    if (!Array.isArray(images) || images.length === 0 || typeof images[0] !== 'string' || images[0] === '') {
      // A1111's own answer when init_images is missing.
      if (images === undefined || images === null) throw a1111Error(404, 'Init image not found');
      throw fieldError('init_images', 'init_images must be a list of base64-encoded images; the first one is used.', images);
    }
    job.initImage = images[0];
    const mask = body.mask;
    if (mask !== undefined && mask !== null && mask !== '') {
      if (typeof mask !== 'string') throw fieldError('mask', 'mask must be a base64-encoded image (white repaints, black keeps).', mask, 'string_type');
      job.mask = mask;
    }
    job.maskInvert = integer(get('inpainting_mask_invert'), 'inpainting_mask_invert', 0, 1) === 1;
  }
  job.parameters = echo(body, defaults, job);
  return job;
}

/** `parameters` as A1111 returns it: every model field, the request's values (as read) over the defaults. */
function echo(body: Body, defaults: Body, job: A1111Job): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(defaults)) out[key] = Object.hasOwn(body, key) ? body[key] : defaults[key];
  Object.assign(out, {
    prompt: job.prompt, negative_prompt: job.negativePrompt, steps: job.steps, cfg_scale: job.cfgScale,
    width: job.width, height: job.height, batch_size: job.batchSize, n_iter: job.nIter, send_images: job.sendImages,
  });
  if (job.kind === 'img2img') {
    out.denoising_strength = job.denoisingStrength;
    // A1111 leaves the images out of the echo unless include_init_images is true.
    if (body.include_init_images !== true) {
      out.init_images = null;
      out.mask = null;
    }
  }
  return out;
}

function text(body: Body, key: string, max: number): string {
  const v = body[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw fieldError(key, 'Input should be a valid string', v, 'string_type');
  if (v.length > max) throw fieldError(key, `${key} is ${v.length} characters long; at most ${max} are allowed. Shorten it.`, v, 'string_too_long');
  return v;
}

function stringOr(v: unknown, key: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw fieldError(key, 'Input should be a valid string', v, 'string_type');
  return v === '' ? undefined : v;
}

/** A number, or a string pydantic's lax mode reads as one. */
function numeric(v: unknown, key: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw fieldError(key, 'Input should be a valid number', v, 'float_parsing');
  return n;
}

function number(v: unknown, key: string, min: number, max: number): number {
  const n = numeric(v, key);
  if (n < min || n > max) throw fieldError(key, `${key} must be from ${min} to ${max} on this server, got ${n}.`, v);
  return n;
}

function integer(v: unknown, key: string, min: number, max: number): number {
  const n = numeric(v, key);
  if (!Number.isInteger(n)) throw fieldError(key, 'Input should be a valid integer', v, 'int_parsing');
  if (n < min || n > max) throw fieldError(key, `${key} must be a whole number from ${min} to ${max} on this server, got ${n}.`, v);
  return n;
}

function boolean(v: unknown, key: string): boolean {
  if (v === true || v === 1 || v === 'true' || v === '1') return true;
  if (v === false || v === 0 || v === 'false' || v === '0') return false;
  throw fieldError(key, 'Input should be a valid boolean', v, 'bool_parsing');
}

/** Width or height: the engine works in blocks of 8 pixels; the model may need more (checked when it runs). */
function side(v: unknown, key: string): number {
  const n = integer(v, key, SIZE.multiple, SIZE.max);
  if (n % SIZE.multiple !== 0) {
    const near = Math.max(SIZE.multiple, Math.round(n / SIZE.multiple) * SIZE.multiple);
    throw fieldError(key, `${key} must be a multiple of ${SIZE.multiple} on this server (try ${near}), got ${n}.`, v);
  }
  return n;
}

/** -1 (or nothing) draws a random seed, as A1111 does; image i of the request uses seed + i. */
function seedOf(v: unknown, count: number): number {
  const n = integer(v, 'seed', -1, SEED.max - (count - 1));
  return n === -1 ? randomSeed() : n;
}
