// Where img2img and inpainting start and what they add to each step, after diffusers 0.30's
// StableDiffusionImg2ImgPipeline and StableDiffusionInpaintPipeline, with the generator draws in
// their order (one generator per image, seeded with the image's seed):
//
//   timesteps   get_timesteps: init_timestep = min(int(steps * strength), steps),
//               t_start = max(steps - init_timestep, 0), timesteps[t_start * order:], and
//               set_begin_index(t_start * order) where the scheduler has it.
//   img2img     prepare_latents: the image's latent sample (randn #1), then the noise (randn #2);
//               latents = add_noise(scaling_factor * sample, noise, timesteps[0]).
//   inpainting  prepare_latents: the image's latent sample only when it is needed (a 4-channel
//               UNet, or strength < 1), then the noise; strength 1 starts from noise *
//               init_noise_sigma, else from add_noise(image latents, noise, timesteps[0]).
//               prepare_mask_latents: the masked image's latent sample, drawn with the same
//               generator, even for a 4-channel UNet that never uses it.
//               9-channel UNet: [latents, mask, masked-image latents] on channels at every step.
//               4-channel UNet: after every step but the last, the original re-noised to the next
//               timestep replaces the latents outside the mask:
//               latents = (1 - mask) * add_noise(image latents, noise, t_next) + mask * latents.

import { existsSync, promises as fs } from 'fs';
import * as path from 'path';
import { EngineError } from '../errors';
import { parsePythonJson } from '../modelFolder/pythonJson';
import { OnnxGraph } from '../onnx/graph/onnxGraph';
import type { Scheduler } from '../schedulers/scheduler';
import { SCHEDULER_ORDER } from '../schedulers/scheduler';
import type { TorchGenerator } from '../rng/torchGenerator';
import { LatentDistribution, sampleLatents } from './vaeEncoder';

const f32 = Math.fround;

export interface StrengthSchedule {
  /** The timesteps the denoising loop runs. */
  timesteps: number[];
  /** Index of the first of them in the full schedule. */
  tStart: number;
  /** num_inference_steps - t_start. */
  steps: number;
}

/** diffusers' get_timesteps (img2img and inpainting): the tail of the schedule that strength keeps. */
export function timestepsForStrength(scheduler: Scheduler, numInferenceSteps: number, strength: number): StrengthSchedule {
  const initTimestep = Math.min(Math.trunc(numInferenceSteps * strength), numInferenceSteps);
  const tStart = Math.max(numInferenceSteps - initTimestep, 0);
  const timesteps = scheduler.timesteps.slice(tStart * SCHEDULER_ORDER);
  if (timesteps.length === 0) {
    throw new Error(`strength ${strength} with ${numInferenceSteps} steps leaves no timestep (int(steps * strength) = ${initTimestep}).`);
  }
  scheduler.setBeginIndex?.(tStart * SCHEDULER_ORDER);
  return { timesteps, tStart, steps: numInferenceSteps - tStart };
}

/** The VAE encoder's outputs a job needs (computed once per job: they do not depend on the seed). */
export interface EncodedImages {
  /** The init image's distribution; absent where diffusers does not encode it (9-channel UNet at strength 1). */
  image?: LatentDistribution;
  /** The masked image's distribution (inpainting with a 9-channel UNet). */
  masked?: LatentDistribution;
  /** The mask at latent size, [h * w], 0 or 1 (inpainting). */
  latentMask?: Float32Array;
}

export interface ImageStart {
  latents: Float32Array;
  timesteps: number[];
  /** Channels after the scaled latents in the UNet input (9-channel inpainting): mask, masked-image latents. */
  extra?: Float32Array;
  /** After step k: the latents to carry on with (4-channel inpainting's blend). */
  afterStep?: (latents: Float32Array, k: number) => Float32Array;
  /** The initial noise (for tests). */
  noise: Float32Array;
}

export interface ImageStartOptions {
  scheduler: Scheduler;
  steps: number;
  strength: number;
  generator: TorchGenerator;
  encoded: EncodedImages;
  scalingFactor: number;
  /** Latent channels (4 for SD); the initial noise and latent samples have this many. */
  latentChannels: number;
  latentSize: number;
  /** Inpainting: whether the UNet takes 2 * C + 1 channels (mask and masked image) rather than C. */
  inpaintingUnet?: boolean;
  /** Inpainting (a mask was given). */
  inpaint: boolean;
}

/** The initial latents and the per-step additions of an img2img or inpainting run, drawing as diffusers. */
export function startFromImage(o: ImageStartOptions): ImageStart {
  const { scheduler, generator, encoded } = o;
  const { timesteps } = timestepsForStrength(scheduler, o.steps, o.strength);
  const n = o.latentChannels * o.latentSize;
  const need = (d: LatentDistribution | undefined, what: string): LatentDistribution => {
    if (!d) throw new Error(`startFromImage: the ${what} was not encoded`);
    if (d.mean.length !== n) throw new Error(`startFromImage: the ${what}'s latents have ${d.mean.length} values, the UNet's ${n}`);
    return d;
  };
  if (!o.inpaint) {
    const imageLatents = sampleLatents(need(encoded.image, 'init image'), generator, o.scalingFactor);
    const noise = generator.randn(n);
    return { latents: scheduler.addNoise(imageLatents, noise, timesteps[0]), timesteps, noise };
  }

  const strengthMax = o.strength === 1;
  const blend = !o.inpaintingUnet;
  const imageLatents = blend || !strengthMax ? sampleLatents(need(encoded.image, 'init image'), generator, o.scalingFactor) : undefined;
  const noise = generator.randn(n);
  let latents: Float32Array;
  if (strengthMax) {
    const sigma = f32(scheduler.initNoiseSigma);
    latents = sigma === 1 ? noise.slice() : noise.map((v) => v * sigma);
  } else {
    latents = scheduler.addNoise(imageLatents!, noise, timesteps[0]);
  }
  // prepare_mask_latents encodes the masked image with the same generator: its draw happens for
  // every UNet, so the stream the scheduler continues from is the same as diffusers'.
  const maskedLatents = encoded.masked ? sampleLatents(need(encoded.masked, 'masked image'), generator, o.scalingFactor) : generator.randn(n);
  const mask = encoded.latentMask;
  if (!mask || mask.length !== o.latentSize) throw new Error('startFromImage: inpainting needs the mask at latent size');

  if (!blend) {
    if (!encoded.masked) throw new Error('startFromImage: the masked image was not encoded');
    const extra = new Float32Array(mask.length + maskedLatents.length);
    extra.set(mask, 0);
    extra.set(maskedLatents, mask.length);
    return { latents, timesteps, extra, noise };
  }
  const original = imageLatents!;
  const afterStep = (current: Float32Array, k: number): Float32Array => {
    const proper = k < timesteps.length - 1 ? scheduler.addNoise(original, noise, timesteps[k + 1]) : original;
    return blendOutsideMask(proper, current, mask, o.latentChannels);
  };
  return { latents, timesteps, afterStep, noise };
}

/** (1 - mask) * proper + mask * latents, the mask [h * w] broadcast over the channels, in float32. */
export function blendOutsideMask(proper: Float32Array, latents: Float32Array, mask: Float32Array, channels: number): Float32Array {
  const plane = mask.length;
  const out = new Float32Array(latents.length);
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < plane; i++) {
      const m = mask[i];
      const k = c * plane + i;
      out[k] = f32(f32(1 - m) * proper[k]) + f32(m * latents[k]);
    }
  }
  return out;
}

export interface ChannelConfig {
  /**
   * unet/config.json in_channels (9 for an inpainting UNet), as diffusers decides by it; else the
   * UNet graph's own (its sample input or first convolution's weights); undefined when unknown.
   */
  unetInChannels?: number;
  /** The VAE's latent_channels (4 for SD). */
  latentChannels: number;
}

/** What diffusers reads from the model's config files to choose between 4- and 9-channel inpainting. */
export async function readChannelConfig(dir: string): Promise<ChannelConfig> {
  const unet = await readConfig(path.join(dir, 'unet', 'config.json'));
  const vae = (await readConfig(path.join(dir, 'vae_encoder', 'config.json'))) ?? (await readConfig(path.join(dir, 'vae_decoder', 'config.json')));
  const channels = (v: unknown, file: string, key: string): number | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 64) {
      throw new EngineError('modelError', `${file}: ${key} must be a whole number from 1 to 64, got ${JSON.stringify(v)}; fix the file or download the model again.`);
    }
    return v;
  };
  return {
    unetInChannels: channels(unet?.in_channels, path.join(dir, 'unet', 'config.json'), 'in_channels') ?? (await graphInChannels(path.join(dir, 'unet', 'model.onnx'))),
    latentChannels: channels(vae?.latent_channels, path.join(dir, 'vae_decoder', 'config.json'), 'latent_channels') ?? 4,
  };
}

/** Graphs larger than this (weights inside) are not decoded here; their sample input decides later. */
const MAX_PROBE_BYTES = 64 * 1024 * 1024;

/**
 * The UNet's input channels from its graph, for exports without config.json (diffusers' conversion
 * script writes none and declares the channel axis dynamic): the sample input's fixed size, else
 * the input-channel count of the first convolution's weights (conv_in: [320, 9, 3, 3] when inpainting).
 */
async function graphInChannels(file: string): Promise<number | undefined> {
  try {
    const st = await fs.stat(file);
    if (!st.isFile() || st.size > MAX_PROBE_BYTES) return undefined;
    const g = new OnnxGraph(await fs.readFile(file));
    const inits = new Set(g.graph.initializer.map((t) => t.name));
    const inputs = g.graph.input.filter((i) => !inits.has(i.name));
    const sample = inputs.find((i) => i.name === 'sample') ?? inputs.find((i) => i.type?.tensorType?.shape?.dim?.length === 4);
    if (!sample?.name) return undefined;
    const declared = Number(sample.type?.tensorType?.shape?.dim?.[1]?.dimValue ?? 0);
    if (declared > 0) return declared;
    // Follow the sample through casts to the first convolution.
    let value = sample.name;
    for (let hops = 0; hops < 4; hops++) {
      const next = g.consumersOf(value);
      const conv = next.find((n) => n.opType === 'Conv' && n.input?.[0] === value);
      if (conv) {
        const dims = g.initializer(conv.input?.[1] ?? '')?.dims;
        return dims && dims.length === 4 ? Number(dims[1]) : undefined;
      }
      const cast = next.find((n) => n.opType === 'Cast');
      if (!cast?.output?.[0]) return undefined;
      value = cast.output[0];
    }
  } catch {
    // Unreadable here: the UNet's session says what is wrong when it loads.
  }
  return undefined;
}

async function readConfig(file: string): Promise<Record<string, unknown> | undefined> {
  if (!existsSync(file)) return undefined;
  try {
    const v = parsePythonJson(await fs.readFile(file, 'utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch (err) {
    throw new EngineError('modelError', `${file} is not valid JSON (${err instanceof Error ? err.message : String(err)}); download the model again.`);
  }
}
