// The VAE encoder for img2img and inpainting: the image's latent distribution (mean and std),
// then samples drawn from it with the job's torch-compatible generator, exactly as diffusers'
// `retrieve_latents(vae.encode(image), generator)` -> DiagonalGaussianDistribution.sample does:
// randn of the mean's shape, x = mean + std * eps (float32), latents = scaling_factor * x.
//
// An encoder exported by diffusers' conversion script samples inside its graph with an unseeded
// RandomNormalLike; onnx/graph/vaeEncoderGraph.ts rewrites it to output mean and std instead.
// The rewritten graph is kept as every rewritten graph is (onnx/graph/graphCache.ts), its
// external weights read from the model folder (onnx/session.ts). Encoders that already output the parameters
// (optimum's `latent_parameters`: mean and logvar, 2 x C channels) run as they are.

import { promises as fs } from 'fs';
import * as path from 'path';
import { EngineError } from '../errors';
import type { ModelFolder } from '../modelFolder/modelFolder';
import { fuseAttention } from '../onnx/graph/fuseAttention';
import { keepGraph } from '../onnx/graph/graphCache';
import { OnnxGraph } from '../onnx/graph/onnxGraph';
import { LATENT_MEAN, LATENT_STD, exposeLatentDistribution } from '../onnx/graph/vaeEncoderGraph';
import type { ModelSession } from '../onnx/session';
import type { TorchGenerator } from '../rng/torchGenerator';
import { floatTensor, toFloat32 } from './tensors';

const f32 = Math.fround;
/** Changes whenever the rewrite changes, so an old cached graph is never used. */
const RECIPE = 'vae-encoder-mean-std-v1';

/** A latent distribution [1, channels, height, width], float32. */
export interface LatentDistribution {
  mean: Float32Array;
  std: Float32Array;
  channels: number;
  height: number;
  width: number;
}

/** The error for a model without vae_encoder/: what is missing, why it is needed and what to do. */
export function missingVaeEncoderError(dir: string): EngineError {
  return new EngineError(
    'modelError',
    `--init-image needs the model's VAE encoder (it turns the image into latents), but ${path.join(dir, 'vae_encoder', 'model.onnx')} ` +
      'is missing: this export has only what text-to-image needs. Use a model folder with vae_encoder/ ' +
      '(`course-illustrator models pull sd15-onnx` downloads one; diffusers\' convert_stable_diffusion_checkpoint_to_onnx.py writes one), ' +
      'or leave out --init-image and --mask.',
  );
}

/** The rewritten graph per encoder file (size and time), or null when the export is used as it is. */
const rewritten = new Map<string, { key: string; graph: RewrittenGraph | null }>();

export interface RewrittenGraph {
  /** In memory, or (an encoder with its weights inline) a file of the cache: graphCache.ts. */
  bytes: Uint8Array | string;
  notes: string[];
}

/**
 * The graph to run for the model's VAE encoder: undefined when its own graph outputs the
 * distribution's parameters, else its rewrite (mean and std, attention fused): about 130 KB in
 * memory when the weights are external (read from the model folder), a cache file when the
 * export carries them inline.
 */
export async function vaeEncoderGraph(folder: Pick<ModelFolder, 'dir' | 'vaeEncoder'>): Promise<RewrittenGraph | undefined> {
  const file = folder.vaeEncoder;
  if (!file) throw missingVaeEncoderError(folder.dir);
  const abs = path.resolve(file);
  const st = await fs.stat(abs);
  const key = `${RECIPE}:${st.size}:${st.mtimeMs}`;
  const hit = rewritten.get(abs);
  if (hit?.key === key) return hit.graph ?? undefined;
  const bytes = await fs.readFile(abs);
  let graph: RewrittenGraph | null = null;
  // Cheap test first: a graph that draws nothing is used as it is.
  if (bytes.indexOf('Random') >= 0) {
    let g: OnnxGraph;
    let note: string | undefined;
    try {
      g = new OnnxGraph(bytes);
      note = exposeLatentDistribution(g);
    } catch (err) {
      throw new EngineError('modelError', `${abs}: ${err instanceof Error ? err.message : String(err)}. Export the encoder with diffusers' conversion script or optimum.`);
    }
    if (note) {
      const fused = fuseAttention(g);
      graph = { bytes: await keepGraph(g.encode(), `${key}:${abs}`), notes: [note, ...(fused.fused ? [`${fused.fused} attention block as MultiHeadAttention`] : [])] };
    }
  }
  rewritten.set(abs, { key, graph });
  return graph ?? undefined;
}

/**
 * Runs the encoder on an image [1, 3, H, W] in [-1, 1] and returns its latent distribution.
 * `latentChannels` (4 for SD) tells the parameters' 2 x C channels from a plain C-channel output.
 */
export async function encodeLatentDistribution(
  session: ModelSession,
  image: Float32Array,
  height: number,
  width: number,
  latentChannels: number,
  warn: (m: string) => void,
): Promise<LatentDistribution> {
  const input = session.inputs.find((i) => i.name === 'sample') ?? session.inputs[0];
  const feeds = { [input.name]: floatTensor(input.type, image, [1, 3, height, width]) };
  const names = session.outputs.map((o) => o.name);
  if (names.includes(LATENT_MEAN) && names.includes(LATENT_STD)) {
    const out = await session.run(feeds, [LATENT_MEAN, LATENT_STD]);
    const [, channels, h, w] = out[LATENT_MEAN].dims.map(Number);
    return { mean: toFloat32(out[LATENT_MEAN]), std: toFloat32(out[LATENT_STD]), channels, height: h, width: w };
  }
  const name = ['latent_parameters', 'latent_dist', 'moments', 'latent_sample'].find((n) => names.includes(n)) ?? names[0];
  const out = (await session.run(feeds, [name]))[name];
  const [, c, h, w] = out.dims.map(Number);
  const data = toFloat32(out);
  const plane = h * w;
  if (c === 2 * latentChannels) {
    // DiagonalGaussianDistribution(parameters): chunk(2, dim=1), clamp(logvar, -30, 20), std = exp(0.5 * logvar).
    const mean = data.slice(0, latentChannels * plane);
    const std = new Float32Array(mean.length);
    for (let i = 0; i < std.length; i++) {
      const logvar = Math.min(Math.max(data[latentChannels * plane + i], -30), 20);
      std[i] = Math.exp(f32(0.5 * logvar));
    }
    return { mean, std, channels: latentChannels, height: h, width: w };
  }
  if (c === latentChannels) {
    // Latents with no draw in the graph (e.g. exported with .mode()): the mean, with no spread.
    warn(`The VAE encoder (${session.file}) outputs ${name} with ${c} channels and draws no noise: it is used as the latent mean (std 0), ` +
      'so images differ from diffusers\', which samples the distribution. Export the encoder with diffusers\' conversion script or optimum.');
    return { mean: data.slice(), std: new Float32Array(data.length), channels: c, height: h, width: w };
  }
  throw new EngineError('modelError', `The VAE encoder (${session.file}) outputs ${name} with ${c} channels; expected ${latentChannels} latents or ` +
    `${2 * latentChannels} distribution parameters (mean and logvar).`);
}

/**
 * DiagonalGaussianDistribution.sample(generator) then `scaling_factor * x`: draws
 * randn(mean.length) from `generator` (the stream goes on), x = mean + std * eps, all float32.
 */
export function sampleLatents(dist: LatentDistribution, generator: TorchGenerator, scalingFactor: number): Float32Array {
  const eps = generator.randn(dist.mean.length);
  const sf = f32(scalingFactor);
  const out = new Float32Array(eps.length);
  for (let i = 0; i < out.length; i++) out[i] = sf * f32(dist.mean[i] + f32(dist.std[i] * eps[i]));
  return out;
}
