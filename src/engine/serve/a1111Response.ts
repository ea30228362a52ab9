// The `info` string of A1111's txt2img / img2img answers: Processed.js() in modules/processing.py,
// a JSON object serialised to a string, with the keys A1111 clients read (seed, all_seeds,
// infotexts...). Values A1111 has and this engine does not (face restoration, subseeds, VAE
// names) keep A1111's "not used" values.

import { A1111Job } from './a1111Request';

export interface ServedModel {
  /** The checkpoint title clients see (the model folder's name). */
  title: string;
  /** Short hash, once the engine has written one into an image's parameters. */
  hash: string | null;
}

export interface InfoInput {
  job: A1111Job;
  /** Seeds of the images made (all of them, or none when the job was interrupted). */
  seeds: number[];
  infotexts: string[];
  model: ServedModel;
  /** A1111's job_timestamp, YYYYMMDDhhmmss. */
  jobTimestamp: string;
  version: string;
}

export function infoJson(i: InfoInput): string {
  const { job } = i;
  const count = job.batchSize * job.nIter;
  const allSeeds = i.seeds.length > 0 ? i.seeds : Array.from({ length: count }, (_, k) => job.seed + k);
  const prompts = allSeeds.map(() => job.prompt);
  return JSON.stringify({
    prompt: job.prompt,
    all_prompts: prompts,
    negative_prompt: job.negativePrompt,
    all_negative_prompts: allSeeds.map(() => job.negativePrompt),
    seed: allSeeds[0],
    all_seeds: allSeeds,
    subseed: -1,
    all_subseeds: allSeeds.map(() => -1),
    subseed_strength: 0,
    width: job.width,
    height: job.height,
    sampler_name: job.samplerName,
    cfg_scale: job.cfgScale,
    steps: job.steps,
    batch_size: job.batchSize,
    restore_faces: false,
    face_restoration_model: null,
    sd_model_name: i.model.title,
    sd_model_hash: i.model.hash,
    sd_vae_name: null,
    sd_vae_hash: null,
    seed_resize_from_w: -1,
    seed_resize_from_h: -1,
    denoising_strength: job.denoisingStrength ?? null,
    extra_generation_params: job.scheduleLabel === 'Karras' ? { 'Schedule type': 'Karras' } : {},
    index_of_first_image: 0,
    infotexts: i.infotexts,
    styles: [],
    job_timestamp: i.jobTimestamp,
    clip_skip: 1,
    is_using_inpainting_conditioning: false,
    version: i.version,
  });
}

/** A1111's job_timestamp format (datetime.now().strftime("%Y%m%d%H%M%S")), local time. */
export function jobTimestamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}
