// The int8 UNet's activation ranges (onnx/graph/quantizeConv.ts), measured on the model itself:
// short DDIM runs from seeded noise with classifier-free guidance, for a few prompts of the kinds
// courses ask for, through the float graph with a min and max output per tensor. The latents
// follow the model's own predictions, so the late, image-like steps are measured as well as the
// noisy first ones. Made once per model (the variant is cached); about 3 minutes for SD v1.5 on
// two cores, with the full UNet's memory.

import { CancelledError } from '../errors';
import { ModelSession } from '../onnx/session';
import type { Calibration } from '../onnx/graph/compactGraph';
import { rangeOutput, Ranges } from '../onnx/graph/quantizeConv';
import { TorchGenerator } from '../rng/torchGenerator';
import { createScheduler } from '../schedulers/index';
import type { ModelFolder } from '../modelFolder/modelFolder';
import type { ClipTokenizer } from '../tokenizer/clipTokenizer';
import { Embeddings, encodeChunks, promptChunks } from './textEncoding';
import { toFloat32 } from './tensors';
import { guidanceEmbedding, UnetRunner } from './unetRunner';

const PROMPTS = [
  'labelled diagram of a plant cell, textbook illustration',
  'a photo of a mountain lake at sunrise, detailed',
  'watercolor painting of children in a busy market street',
];
const STEPS = 5;
const GUIDANCE = 7.5;
/** Latents a side: SD v1.5's 512 x 512 (the ranges hardly depend on the size). */
const MAX_SIDE = 64;

/** What calibration needs of a loaded model (pipeline/loadedModel.ts). */
export interface CalibrationModel {
  readonly folder: ModelFolder;
  readonly tokenizer: ClipTokenizer;
  use<T>(component: 'textEncoder', fn: (s: ModelSession) => Promise<T>): Promise<{ value: T }>;
  /** Releases its sessions. */
  dispose(): Promise<void>;
}

/** What a teacher waiting for the measuring (once per model) is told. */
export interface CalibrationReport {
  notice(message: string): void;
  /** After each of the `total` UNet calls: progress news, which also keeps the extension's stall timer from firing. */
  progress(done: number, total: number): void;
  /** Checked between calls: a cancelled job does not wait for the measuring to end. */
  cancelled(): boolean;
}

export function unetCalibration(model: CalibrationModel, threads: number, report: CalibrationReport): Calibration {
  return {
    id: `ddim${STEPS}-cfg${GUIDANCE}-${PROMPTS.length}prompts-v1`,
    run: (graph, tensors) => {
      report.notice(`Making the int8 UNet for this model: measuring it on ${PROMPTS.length} sample images first (once per model; ` +
        `about 3 minutes for SD v1.5 on two cores, with the full UNet's memory).`);
      return calibrate(model, threads, graph, tensors, report);
    },
  };
}

async function calibrate(model: CalibrationModel, threads: number, graph: Uint8Array, tensors: readonly string[], report: CalibrationReport): Promise<Ranges> {
  const tok = model.tokenizer;
  const encode = (s: ModelSession, text: string) => encodeChunks(s, promptChunks(tok, text, false).chunks);
  const { value: texts } = await model.use('textEncoder', async (s) => {
    const out: { cond: Embeddings; uncond: Embeddings }[] = [];
    const uncond = await encode(s, '');
    for (const p of PROMPTS) out.push({ cond: await encode(s, p), uncond });
    return out;
  });
  // One session at a time, as in a job: the text encoder goes before the float UNet comes.
  await model.dispose();
  const session = await ModelSession.create(model.folder.unet, { graph: { bytes: graph, notes: [] }, provider: 'cpu', threads, label: 'unet (int8 calibration)' });
  const lo = new Float64Array(tensors.length);
  const hi = new Float64Array(tensors.length);
  session.onOutputs = (out) => {
    for (let i = 0; i < tensors.length; i++) {
      lo[i] = Math.min(lo[i], toFloat32(out[rangeOutput(i, 'min')])[0]);
      hi[i] = Math.max(hi[i], toFloat32(out[rangeOutput(i, 'max')])[0]);
    }
  };
  try {
    // The two halves of guidance as two batch-1 calls (the same numbers): the float UNet with its
    // range outputs would otherwise need 4.9 GB at SD v1.5's size, more than a job does.
    const unet = new UnetRunner(session, () => undefined, true);
    const c = unet.latentChannels;
    const side = Math.min(model.folder.sampleSize, MAX_SIDE);
    const plane = side * side;
    // An inpainting UNet also takes a mask and the masked image's latents: all to repaint.
    const extraChannels = (unet.inputChannels ?? c) - c;
    const extra = extraChannels > 0 ? new Float32Array(extraChannels * plane).fill(1, 0, plane) : undefined;
    const timeCond = unet.timeCondDim ? guidanceEmbedding(GUIDANCE, unet.timeCondDim) : undefined;
    const total = texts.length * STEPS;
    let done = 0;
    report.progress(done, total);
    for (let p = 0; p < texts.length; p++) {
      const scheduler = createScheduler('ddim', model.folder.schedulerConfig);
      scheduler.setTimesteps(STEPS);
      const generator = new TorchGenerator(p + 1);
      let latents: Float32Array = generator.randn(c * plane).map((v) => v * scheduler.initNoiseSigma);
      for (const t of scheduler.timesteps) {
        const noise = await unet.predict({
          latents: scheduler.scaleModelInput(latents, t),
          dims: [c + extraChannels, side, side],
          timestep: t,
          cond: texts[p].cond,
          uncond: timeCond ? undefined : texts[p].uncond,
          guidance: GUIDANCE,
          timeCond,
          extra,
        });
        latents = scheduler.step(noise, t, latents, generator).prevSample;
        report.progress(++done, total);
        if (report.cancelled()) throw new CancelledError();
      }
    }
  } finally {
    await session.dispose();
  }
  return new Map(tensors.map((t, i) => [t, [lo[i], hi[i]] as const]));
}
