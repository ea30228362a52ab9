// Text to image, image to image and inpainting, step for step as diffusers' StableDiffusionPipeline,
// StableDiffusionImg2ImgPipeline and StableDiffusionInpaintPipeline with a CPU torch generator:
// encode prompts -> initial latents -> (scale, UNet with CFG, scheduler step) for every timestep
// -> VAE decode of latents / scaling_factor -> 8-bit PNG. The denoising loop is the same for all
// three; they differ in where it starts and what each step adds (pipeline/imageToImage.ts):
//   txt2img: randn latents * init_noise_sigma, every timestep;
//   img2img: the init image's latents noised to the timestep that strength picks, from there on;
//   inpainting: the same with a mask, fed to a 9-channel UNet or blended in after each step.

import * as fs from 'fs';
import { GeneratedImage, ProgressEvent, StageTimings } from '../../core/protocol';
import { SIZE } from '../../core/limits';
import { A1111_SAMPLER, SchedulerName } from '../../core/schedulerNames';
import { generationInfotext } from '../../core/infotext';
import { CancelledError, EngineError } from '../errors';
import { TorchGenerator } from '../rng/torchGenerator';
import { createScheduler } from '../schedulers/index';
import { decodedToRgb, previewPng } from '../image/latentPreview';
import { writeGeneratedPng, outputPathFor } from '../image/writeImage';
import { buildXmp } from '../image/xmp';
import { aiLabelsFor } from '../image/label';
import { writeNpy } from '../image/npy';
import type { ModelSession } from '../onnx/session';
import { LoadedModel } from './loadedModel';
import { JobSpec } from './jobParams';
import { Embeddings, encodeChunks, padToSameLength, promptChunks } from './textEncoding';
import { UnetRunner, guidanceEmbedding } from './unetRunner';
import { decodeLatents } from './vaeDecode';
import { ImageInputs, prepareImageInputs } from './imageInputs';
import { ChannelConfig, EncodedImages, readChannelConfig, startFromImage } from './imageToImage';
import { encodeLatentDistribution, missingVaeEncoderError } from './vaeEncoder';
import { VERSION } from '../version';
import { AppliedLora, loraHashesInfotext } from '../lora/loraSet';

export interface JobHooks {
  progress(e: Omit<ProgressEvent, 'jobId'>): void;
  cancelled(): boolean;
  warn(message: string): void;
  /** Live preview of [c,h,w] latents; default: the linear latent-to-RGB approximation. */
  preview?(latents: Float32Array, h: number, w: number): Promise<NonNullable<ProgressEvent['preview']>>;
  /** A draft's final decode (GenerateParams.draft): [c,h,w] latents as the UNet sees them, and the decoder's name. */
  draftDecoder?: { name: string; decode(latents: Float32Array, h: number, w: number): Promise<{ data: Float32Array; height: number; width: number }> };
}

export interface Txt2ImgResult {
  images: GeneratedImage[];
  timings: StageTimings;
  tokenCount: number;
  scheduler: SchedulerName;
}

/** Runs a job of any kind: text to image, or img2img / inpainting when `job.init` is set. */
export async function txt2img(model: LoadedModel, jobIn: JobSpec, hooks: JobHooks): Promise<Txt2ImgResult> {
  const t0 = performance.now();
  const runBefore = model.sessionRunMs;
  const timings: StageTimings = { loadMs: 0, textEncoderMs: 0, unetStepMs: [], vaeMs: 0, vaeEncodeMs: 0, saveMs: 0, totalMs: 0, sessionRunMs: 0 };
  const written: string[] = [];
  const images: GeneratedImage[] = [];
  const factor = model.folder.vaeScaleFactor;
  let job = jobIn;
  let tokenCount = 0;
  let appliedLoras: AppliedLora[] = [];
  const checkCancel = () => {
    if (hooks.cancelled()) throw new CancelledError();
  };

  // The last stage shown, to show again when a model's preparation inside it is done.
  let lastStage: Omit<ProgressEvent, 'jobId'> | undefined;
  const progress = (e: Omit<ProgressEvent, 'jobId'>) => {
    lastStage = e;
    hooks.progress(e);
  };
  // A model being prepared for this machine (the int8 UNet, the Winograd weights; once) reports as loading, step by step.
  model.preparing = {
    notice: hooks.warn,
    progress: (step, total) => {
      hooks.progress({ image: lastStage?.image ?? 0, images: job.seeds.length, step, total, elapsedMs: performance.now() - t0, etaMs: 0, stage: 'load' });
      // Not "preparing… 28/28" through the decode that follows.
      if (step >= total && lastStage) hooks.progress({ ...lastStage, preview: undefined, elapsedMs: performance.now() - t0 });
    },
    cancelled: hooks.cancelled,
  };
  try {
    checkCancel();
    // img2img / inpainting: the images are read and checked before any model runs, so a wrong
    // file, a mask of another size or a model without an encoder fails at once.
    let inputs: ImageInputs | undefined;
    let channelConfig: ChannelConfig | undefined;
    if (job.init) {
      if (!model.folder.vaeEncoder) throw missingVaeEncoderError(model.folder.dir);
      channelConfig = await readChannelConfig(model.folder.dir);
      inputs = await prepareImageInputs(job.init, factor, sizeMultiple(factor));
      job = { ...job, width: inputs.width, height: inputs.height };
    }
    const latentH = job.height / factor;
    const latentW = job.width / factor;

    // The job's LoRAs: graphs rewritten (or found ready) before the first session needs them.
    const loras = await model.useLoras(job.loras);
    if (loras) timings.loadMs += loras.ms;
    loras?.warnings.forEach(hooks.warn);
    appliedLoras = loras?.applied ?? [];

    // Text encoding. CFG only when guidance > 1, as diffusers decides.
    progress({ image: 0, images: job.seeds.length, step: 0, total: 0, elapsedMs: 0, etaMs: 0, stage: 'encode' });
    const tok = model.tokenizer;
    // `<lora:...>` tags are for the engine, not the text encoder (A1111 takes them out too).
    const cond = promptChunks(tok, job.modelPrompt, job.promptWeighting);
    tokenCount = cond.tokenCount;
    const enc = await model.use('textEncoder', async (s) => {
      const te0 = performance.now();
      const c = await encodeChunks(s, cond.chunks);
      let u: Embeddings | undefined;
      let empty: Embeddings | undefined;
      if (job.guidance > 1) {
        const neg = promptChunks(tok, job.negativePrompt, job.promptWeighting);
        u = await encodeChunks(s, neg.chunks);
        if (u.seq !== c.seq) empty = await encodeChunks(s, promptChunks(tok, '', false).chunks);
      }
      return { c, u, empty, ms: performance.now() - te0 };
    });
    timings.loadMs += enc.loadMs;
    model.drainWarnings().forEach(hooks.warn);
    timings.textEncoderMs = enc.value.ms;
    let condEmb = enc.value.c;
    let uncondEmb = enc.value.u;
    if (uncondEmb && enc.value.empty) [uncondEmb, condEmb] = padToSameLength(uncondEmb, condEmb, enc.value.empty);

    // The VAE encoder, once per job: the distributions do not depend on the seed; each image
    // draws its own samples from them.
    let encoded: EncodedImages | undefined;
    if (inputs && job.init && channelConfig) {
      checkCancel();
      progress({ image: 0, images: job.seeds.length, step: 0, total: 0, elapsedMs: performance.now() - t0, etaMs: 0, stage: 'encode' });
      const e0 = performance.now();
      const r = await model.use('vaeEncoder', (s) => encodeImages(s, inputs!, job.init!.strength, channelConfig!, hooks.warn));
      timings.loadMs += r.loadMs;
      timings.vaeEncodeMs = performance.now() - e0 - r.loadMs;
      model.drainWarnings().forEach(hooks.warn);
      encoded = r.value;
    }

    const total = { steps: 0 };
    const decodeEstimate = { ms: 0 };
    const latentsOut: Float32Array[] = [];

    // Each image is denoised, then decoded before the next one starts, so results come one by
    // one; in low-memory mode all are denoised first, so the UNet is loaded once.
    let sequenceChecked = false;
    const denoise = (index: number) => model.use('unet', async (session) => {
      // In parts, one batch-2 call loads each part once a step; whole, two batch-1 calls need fewer activations.
      const unet = new UnetRunner(session, hooks.warn, model.lowMemory && session.parts === 1);
      if (!sequenceChecked) {
        [condEmb, uncondEmb] = fitSequence(unet, condEmb, uncondEmb, hooks.warn);
        sequenceChecked = true;
      }
      const timeCondDim = unet.timeCondDim;
      // LCM-distilled UNets embed the guidance instead of running two branches.
      const useCfg = job.guidance > 1 && timeCondDim === undefined;
      const timeCond = timeCondDim !== undefined ? guidanceEmbedding(job.guidance, timeCondDim) : undefined;
      const seed = job.seeds[index];
      const scheduler = createScheduler(job.scheduler, model.folder.schedulerConfig);
      scheduler.setTimesteps(job.steps);
      const generator = new TorchGenerator(seed);
      const plane = latentH * latentW;
      let latents: Float32Array;
      let timesteps: number[];
      let inChannels: number;
      let extra: Float32Array | undefined;
      let afterStep: ((l: Float32Array, k: number) => Float32Array) | undefined;
      if (job.init && encoded && channelConfig) {
        const c = channelConfig.latentChannels;
        inChannels = unetInputChannels(unet, channelConfig, job);
        const start = startFromImage({
          scheduler, steps: job.steps, strength: job.init.strength, generator, encoded,
          scalingFactor: model.folder.vaeScalingFactor, latentChannels: c, latentSize: plane,
          inpaint: job.init.mask !== undefined, inpaintingUnet: inChannels === 2 * c + 1,
        });
        ({ latents, timesteps, extra, afterStep } = start);
      } else {
        inChannels = unet.latentChannels;
        if (inChannels === 9) throw inpaintingModelError();
        timesteps = scheduler.timesteps;
        latents = generator.randn(inChannels * plane);
        const sigma = Math.fround(scheduler.initNoiseSigma);
        if (sigma !== 1) for (let i = 0; i < latents.length; i++) latents[i] = latents[i] * sigma;
      }
      const dims: [number, number, number] = [inChannels, latentH, latentW];
      // Progress counts the steps the user asked for (img2img: the ones strength leaves): PNDM's
      // PLMS warm-up makes one UNet call more than that, which is not a step to show.
      const asked = job.init ? Math.min(Math.trunc(job.steps * job.init.strength), job.steps) : job.steps;
      const shown = Math.max(1, Math.min(timesteps.length, asked));
      const shownStep = (k: number) => Math.max(1, Math.min(shown, Math.round(((k + 1) * shown) / timesteps.length)));
      let lastShown = 0;
      total.steps = shown;
      for (let k = 0; k < timesteps.length; k++) {
        checkCancel();
        const s0 = performance.now();
        const t = timesteps[k];
        const scaled = scheduler.scaleModelInput(latents, t);
        const noise = await unet.predict({
          latents: scaled, dims, timestep: t, cond: condEmb, uncond: useCfg ? uncondEmb : undefined,
          guidance: job.guidance, timeCond, extra,
        });
        const out = scheduler.step(noise, t, latents, generator);
        latents = afterStep ? afterStep(out.prevSample, k) : out.prevSample;
        const stepMs = performance.now() - s0;
        timings.unetStepMs.push(stepMs);
        const done = index * timesteps.length + k + 1;
        const all = job.seeds.length * timesteps.length;
        const avg = timings.unetStepMs.reduce((a, b) => a + b, 0) / timings.unetStepMs.length;
        const imagesLeft = job.seeds.length - index;
        // PLMS's extra call is no step of its own: one event per step shown, 1 to `shown`.
        if (shownStep(k) === lastShown && k + 1 < timesteps.length) continue;
        lastShown = shownStep(k);
        const event: Omit<ProgressEvent, 'jobId'> = {
          image: index, images: job.seeds.length, step: shownStep(k), total: shown,
          elapsedMs: performance.now() - t0,
          etaMs: avg * (all - done) + decodeEstimate.ms * imagesLeft,
          stage: 'denoise',
        };
        if (job.previewEvery > 0 && ((k + 1) % job.previewEvery === 0 || k + 1 === timesteps.length)) {
          event.preview = await (hooks.preview ?? previewPng)(out.predOriginalSample ?? latents, latentH, latentW);
        }
        progress(event);
      }
      latentsOut[index] = latents;
    }, { height: latentH, width: latentW }).then((r) => { timings.loadMs += r.loadMs; model.drainWarnings().forEach(hooks.warn); });

    if (model.lowMemory) {
      for (let i = 0; i < job.seeds.length; i++) await denoise(i);
      for (let i = 0; i < job.seeds.length; i++) await decodeAndSave(i);
    } else {
      for (let i = 0; i < job.seeds.length; i++) {
        await denoise(i);
        decodeEstimate.ms = await decodeAndSave(i);
      }
    }

    if (job.saveLatents) {
      const all = new Float32Array(latentsOut.reduce((n, l) => n + l.length, 0));
      latentsOut.forEach((l, i) => all.set(l, i * l.length));
      await writeNpy(job.saveLatents, all, [latentsOut.length, latentsOut[0].length / (latentH * latentW), latentH, latentW], job.overwrite);
    }

    async function decodeFinal(latents: Float32Array): Promise<{ value: { data: Float32Array; height: number; width: number }; loadMs: number; draftBy?: string }> {
      const draft = job.draft ? hooks.draftDecoder : undefined;
      if (draft) {
        const value = await draft.decode(latents, latentH, latentW);
        if (value.width !== latentW * factor || value.height !== latentH * factor) {
          throw new EngineError('badInput', `The draft decoder ${draft.name} makes ${value.width}x${value.height} images from these latents, the model's VAE ` +
            `${latentW * factor}x${latentH * factor}: use a TAESD made for this model's VAE, or leave out --draft.`);
        }
        return { value, loadMs: 0, draftBy: draft.name };
      }
      const sf = Math.fround(model.folder.vaeScalingFactor);
      const scaled = new Float32Array(latents.length);
      for (let i = 0; i < latents.length; i++) scaled[i] = latents[i] / sf;
      return model.use('vaeDecoder', (s) => decodeLatents(s, scaled, latentH, latentW), { height: latentH, width: latentW });
    }

    async function decodeAndSave(index: number): Promise<number> {
      checkCancel();
      const seed = job.seeds[index];
      const latents = latentsOut[index];
      progress({
        image: index, images: job.seeds.length, step: total.steps, total: total.steps,
        elapsedMs: performance.now() - t0, etaMs: 0, stage: 'decode',
      });
      const d0 = performance.now();
      const decoded = await decodeFinal(latents);
      timings.loadMs += decoded.loadMs;
      const rgb = decodedToRgb(decoded.value.data, decoded.value.height, decoded.value.width);
      const decodeMs = performance.now() - d0;
      // The decoder's session creation is load time, counted there once (the estimate keeps it).
      timings.vaeMs += decodeMs - decoded.loadMs;
      checkCancel();
      const s0 = performance.now();
      const infotext = makeInfotext(model, job, seed, decoded.value.width, decoded.value.height, appliedLoras, decoded.draftBy);
      const dest = job.outFile ?? outputPathFor(job.outDir!, job.modelPrompt, seed, (p) => fs.existsSync(p));
      const labels = aiLabelsFor(job.domain, job.labelLanguage);
      const file = await writeGeneratedPng({
        rgb, width: decoded.value.width, height: decoded.value.height, dest, overwrite: job.overwrite, infotext,
        xmp: buildXmp({ prompt: job.prompt, version: VERSION, statement: labels.statement }),
        label: labels.label,
        confineTo: job.confineTo,
      });
      written.push(file);
      timings.saveMs += performance.now() - s0;
      images.push({ path: file, seed, width: decoded.value.width, height: decoded.value.height, infotext });
      return decodeMs;
    }
  } catch (err) {
    // Cancelled or failed: leave no file of this job behind.
    for (const f of written) fs.rmSync(f, { force: true });
    throw err;
  } finally {
    model.preparing = undefined;
  }
  timings.totalMs = performance.now() - t0;
  timings.sessionRunMs = model.sessionRunMs - runBefore;
  return { images, timings, tokenCount, scheduler: job.scheduler };
}

/** Image sides the engine makes: multiples of the VAE factor and of SIZE.multiple (jobParams' rule). */
function sizeMultiple(vaeFactor: number): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  return (SIZE.multiple / gcd(SIZE.multiple, vaeFactor)) * vaeFactor;
}

/**
 * The encoder runs diffusers' pipelines make: img2img encodes the image; inpainting encodes the
 * image for a 4-channel UNet or strength < 1 (prepare_latents) and the masked image always
 * (prepare_mask_latents; only a 9-channel UNet uses it). Where unet/config.json does not say
 * which UNet this is, both are encoded and the UNet's own input decides later.
 */
async function encodeImages(
  session: ModelSession,
  inputs: ImageInputs,
  strength: number,
  config: ChannelConfig,
  warn: (m: string) => void,
): Promise<EncodedImages> {
  const c = config.latentChannels;
  const encode = (pixels: Float32Array) => encodeLatentDistribution(session, pixels, inputs.height, inputs.width, c, warn);
  if (!inputs.mask) return { image: await encode(inputs.image) };
  const known = config.unetInChannels;
  const nineChannel = known === 2 * c + 1;
  const fourChannel = known === c;
  const out: EncodedImages = { latentMask: inputs.mask.latent };
  if (!nineChannel || strength < 1) out.image = await encode(inputs.image);
  if (!fourChannel) out.masked = await encode(inputs.mask.maskedImage);
  return out;
}

/** The UNet's input channels for an img2img or inpainting job, checked against what the job needs. */
function unetInputChannels(unet: UnetRunner, config: ChannelConfig, job: JobSpec): number {
  const c = config.latentChannels;
  const declared = unet.inputChannels;
  if (declared !== undefined && config.unetInChannels !== undefined && declared !== config.unetInChannels) {
    throw new EngineError('modelError', `unet/config.json says in_channels ${config.unetInChannels} but the UNet graph takes ${declared} channels; fix the config or download the model again.`);
  }
  const channels = declared ?? config.unetInChannels ?? c;
  const inpainting = channels === 2 * c + 1;
  if (!inpainting && channels !== c) {
    throw new EngineError('modelError', `The UNet takes ${channels} input channels; Stable Diffusion's take ${c} (or ${2 * c + 1} for inpainting).`);
  }
  if (inpainting && job.init?.mask === undefined) throw inpaintingModelError();
  return channels;
}

function inpaintingModelError(): EngineError {
  return new EngineError(
    'badInput',
    'This model\'s UNet takes 9 input channels: it is an inpainting model, which repaints part of an image. ' +
      'Give --init-image FILE and --mask FILE (white where the image is repainted), or use a text-to-image model.',
  );
}

/** Embeddings longer than a fixed-length UNet input are cut with a warning, never silently. */
function fitSequence(unet: UnetRunner, cond: Embeddings, uncond: Embeddings | undefined, warn: (m: string) => void): [Embeddings, Embeddings | undefined] {
  const fixed = unet.fixedSequence;
  if (!fixed || cond.seq <= fixed) return [cond, uncond];
  warn(`This UNet export accepts only ${fixed} text tokens per image, so the prompt was cut to its first 75 tokens; ` +
    `export the UNet with a dynamic sequence axis to use longer prompts.`);
  const cut = (e: Embeddings): Embeddings => ({ data: e.data.slice(0, fixed * e.hidden), seq: fixed, hidden: e.hidden });
  return [cut(cond), uncond && cut(uncond)];
}

function makeInfotext(model: LoadedModel, job: JobSpec, seed: number, width: number, height: number, loras: AppliedLora[], draftBy?: string): string {
  const names = A1111_SAMPLER[job.scheduler];
  return generationInfotext({
    prompt: job.prompt,
    negativePrompt: job.negativePrompt,
    steps: job.steps,
    sampler: names.sampler,
    scheduleType: names.schedule,
    guidance: job.guidance,
    seed,
    width,
    height,
    modelHash: model.modelHash(),
    modelName: model.name,
    version: VERSION,
    denoisingStrength: job.init?.strength,
    loraHashes: loraHashesInfotext(loras),
    extra: {
      ...(job.promptWeighting ? {} : { 'Prompt weighting': 'off' }),
      // Not diffusers' exact numbers: whoever reuses the parameters should know.
      ...weightsInfotext(model.notes.get('unet') ?? []),
      // A1111 names the VAE it decoded with; a draft's is the preview decoder.
      ...(draftBy ? { VAE: `${draftBy} (draft)` } : {}),
      ...job.extraParameters,
      // A medical image says so in its parameters too (core/domain.ts).
      ...aiLabelsFor(job.domain).infotext,
    },
  });
}

/** The 8-bit variants as the PNG's parameters name them (the notes of onnx/graph/compactGraph). */
function weightsInfotext(notes: string[]): Record<string, string> {
  if (notes.some((n) => n.includes('convolutions in 8 bits'))) return { Weights: 'UNet int8 (MatMul and convolutions)' };
  if (notes.some((n) => n.includes('8 bits per column'))) return { Weights: 'UNet MatMul int8' };
  if (notes.some((n) => n.includes('8-bit'))) return { Weights: 'UNet MatMul 8-bit (compact)' };
  return {};
}
