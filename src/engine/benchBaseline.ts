// `bench --baseline`: the same UNet and VAE decoder run by raw onnxruntime with its default
// session options on the model's own files, in a child process of its own (so its memory does not
// count against the engine's peak), then one step of the engine's own UNet session on the same
// inputs (its 8-bit variant with --unet-weights), to report how far it is from the original.

import * as ort from 'onnxruntime-node';
import { UNET_WEIGHTS, type UnetWeights } from '../core/protocol';
import { ModelSession } from './onnx/session';
import { LoadedModel } from './pipeline/loadedModel';
import { Embeddings, encodeChunks, promptChunks } from './pipeline/textEncoding';
import { TorchGenerator } from './rng/torchGenerator';
import { readModelFolder } from './modelFolder/modelFolder';
import { numberArg, parseArgs } from './cliArgs';
import { badInput } from './errors';
import { floatTensor, toFloat32 } from './pipeline/tensors';
import type { Io } from './cliEngine';

/**
 * Raw onnxruntime's runs left out as its warm-up. With its default options (the memory-pattern
 * planner on) the first run records the allocations and the second allocates the plan, so both
 * are slower than the rest: on SD v1.5's UNet (2 cores) 15.1 and 16.1 s, then 9.0, 8.9 and 9.0
 * (the planner off: 16.5, then 9.0, 9.0, 9.0). Counting the second as warm made raw look 40 %
 * slower than it runs.
 */
export const RAW_WARMUP_RUNS = 2;

export interface BaselineReport {
  threads: number;
  unet: { createSeconds: number; stepSeconds: number[]; batch: number };
  vaeDecode: { createSeconds: number; runSeconds: number[] };
  peakRssMiB: number;
  /** max |engine - raw| / max |raw| over one UNet output on the same inputs. */
  unetRelativeError: number;
  /** ‖engine - raw‖ / ‖raw‖ (L2) over the same output. */
  unetRelativeL2: number;
  unetWeights: UnetWeights;
}

export async function runBaseline(argv: string[], io: Io): Promise<number> {
  const args = parseArgs(argv, { values: ['model', 'steps', 'width', 'height', 'threads', 'batch', 'unet-weights'], flags: [] }, 'bench-baseline');
  const dir = args.values.get('model');
  if (!dir) throw badInput('--model DIR is required.');
  const folder = await readModelFolder(dir);
  const factor = folder.vaeScaleFactor;
  const width = numberArg(args, 'width', true) ?? folder.sampleSize * factor;
  const height = numberArg(args, 'height', true) ?? folder.sampleSize * factor;
  const steps = Math.max(2, numberArg(args, 'steps', true) ?? 3);
  const threads = numberArg(args, 'threads', true) ?? 0;
  const batch = numberArg(args, 'batch', true) ?? 2;
  const unetWeights = args.values.get('unet-weights') ?? 'full';
  if (!(UNET_WEIGHTS as readonly string[]).includes(unetWeights)) throw badInput(`--unet-weights must be one of ${UNET_WEIGHTS.join(', ')}.`);
  const h = height / factor;
  const w = width / factor;
  // Raw onnxruntime: its defaults, with only the thread count made equal to the engine's.
  const rawOptions: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], ...(threads > 0 ? { intraOpNumThreads: threads } : {}) };

  const unetFile = folder.unet;
  // Inputs as a job gives them (the 8-bit variants are only accurate there): the model's own
  // text encoder on a prompt and the empty one, Gaussian latents.
  const model = await LoadedModel.load(dir, { provider: 'cpu', threads, lowMemory: false, unetWeights: unetWeights as UnetWeights });
  const { value: texts } = await model.use('textEncoder', async (s) => {
    const encode = (text: string) => encodeChunks(s, promptChunks(model.tokenizer, text, false).chunks);
    return [await encode(''), await encode(HELD_OUT_PROMPT)];
  });
  await model.dispose();
  let t = performance.now();
  const unet = await ort.InferenceSession.create(unetFile, rawOptions);
  const unetCreate = seconds(t);
  const probe = await ModelSession.create(unetFile, { provider: 'cpu', threads, label: 'unet', rewrite: false, inspectOnly: true });
  const feeds = unetFeeds(probe, texts.slice(2 - batch), h, w);
  await probe.dispose();
  const stepSeconds: number[] = [];
  let rawOut: Float32Array | undefined;
  for (let i = 0; i < steps; i++) {
    t = performance.now();
    const out = await unet.run(feeds);
    stepSeconds.push(seconds(t));
    rawOut = toFloat32(out[unet.outputNames[0]]);
  }
  await unet.release();

  t = performance.now();
  const vae = await ort.InferenceSession.create(folder.vaeDecoder, rawOptions);
  const vaeCreate = seconds(t);
  const vaeInput = vae.inputNames.includes('latent_sample') ? 'latent_sample' : vae.inputNames[0];
  const declared = vae.inputMetadata.find((m) => m.name === vaeInput);
  const channelsDim = declared?.isTensor ? declared.shape[1] : undefined;
  const channels = typeof channelsDim === 'number' && channelsDim > 0 ? channelsDim : 4;
  const latents = noise(channels * h * w, 7);
  const runSeconds: number[] = [];
  for (let i = 0; i < RAW_WARMUP_RUNS + 1; i++) {
    t = performance.now();
    await vae.run({ [vaeInput]: new ort.Tensor('float32', latents, [1, channels, h, w]) });
    runSeconds.push(seconds(t));
  }
  await vae.release();

  // The engine's session (rewritten graph, engine options, its weights variant) on the same inputs.
  const { value: mine } = await model.use('unet', async (s) => toFloat32((await s.run(feeds))[s.outputs[0].name]), { height: h, width: w });
  await model.dispose();

  const report: BaselineReport = {
    threads,
    unet: { createSeconds: unetCreate, stepSeconds, batch },
    vaeDecode: { createSeconds: vaeCreate, runSeconds },
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    unetRelativeError: relativeError(mine, rawOut!),
    unetRelativeL2: relativeL2(mine, rawOut!),
    unetWeights: unetWeights as UnetWeights,
  };
  io.stdout.write(JSON.stringify(report) + '\n');
  return 0;
}

/** Not one of the int8 calibration's prompts (pipeline/unetCalibration.ts). */
const HELD_OUT_PROMPT = 'the water cycle, labelled diagram for a geography lesson';

function unetFeeds(s: ModelSession, texts: Embeddings[], h: number, w: number): Record<string, ort.Tensor> {
  const batch = texts.length;
  const feeds: Record<string, ort.Tensor> = {};
  const type = (t: string) => t as Parameters<typeof floatTensor>[0];
  const fixed = (d: number | string | undefined, or: number) => (typeof d === 'number' && d > 0 ? d : or);
  for (const io of s.inputs) {
    if (io.dims.length === 4) {
      const c = fixed(io.dims[1], 4);
      const one = new TorchGenerator(1).randn(c * h * w);
      const sample = new Float32Array(batch * one.length);
      for (let b = 0; b < batch; b++) sample.set(one, b * one.length);
      feeds[io.name] = floatTensor(type(io.type), sample, [batch, c, h, w]);
    } else if (io.dims.length === 3) {
      const hidden = new Float32Array(texts.reduce((n, e) => n + e.data.length, 0));
      texts.forEach((e, b) => hidden.set(e.data, b * e.data.length));
      feeds[io.name] = floatTensor(type(io.type), hidden, [batch, texts[0].seq, texts[0].hidden]);
    } else if (io.dims.length === 2) {
      const width = fixed(io.dims[1], 256);
      feeds[io.name] = floatTensor(type(io.type), noise(batch * width, 3), [batch, width]);
    } else {
      // The timestep: a scalar or one per batch entry.
      const dims = io.dims.length === 0 ? [] : [fixed(io.dims[0], batch)];
      feeds[io.name] = floatTensor(type(io.type), new Float32Array(dims[0] ?? 1).fill(500), dims);
    }
  }
  return feeds;
}

/** Deterministic values in [-1, 1): the figures need equal inputs, not torch's noise. */
function noise(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    a[i] = (s / 2 ** 32) * 2 - 1;
  }
  return a;
}

function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale > 0 ? diff / scale : diff;
}

function relativeL2(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < b.length; i++) {
    diff += (a[i] - b[i]) ** 2;
    norm += b[i] ** 2;
  }
  return norm > 0 ? Math.sqrt(diff / norm) : Math.sqrt(diff);
}

function seconds(t0: number): number {
  return (performance.now() - t0) / 1000;
}
