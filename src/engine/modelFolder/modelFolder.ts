// A Stable Diffusion model folder in the diffusers ONNX layout: where each component's graph
// is, and the facts the pipeline reads from it (scheduler config, VAE factor and scaling,
// default latent size). Every problem is an error that names the file and the fix.
//
// A model folder may come from anywhere (a download, a shared drive), so the numbers in its
// config files are bounded here, before anything sizes an array or a loop by them: a
// scheduler_config.json with num_train_timesteps 1e9 or beta_end 7 is refused with the file, the
// key and the allowed range.

import { parsePythonJson } from './pythonJson';
import { existsSync, promises as fs, readdirSync, statSync } from 'fs';
import * as path from 'path';
import { SIZE } from '../../core/limits';
import type { ModelComponentInfo, ModelInfoResult } from '../../core/protocol';
import { EngineError } from '../errors';
import { ModelSession } from '../onnx/session';
import { externalDataRefs } from './externalData';

export interface ModelFolder {
  dir: string;
  textEncoder: string;
  unet: string;
  vaeDecoder: string;
  /** Present when the export has one (img2img). */
  vaeEncoder?: string;
  tokenizerDir: string;
  /** External weight files the graphs refer to (absolute paths), e.g. unet/weights.pb. */
  externalData: string[];
  schedulerConfig: Record<string, unknown>;
  /** Pixels per latent cell: 2^(len(block_out_channels) - 1); 8 for SD v1.5. */
  vaeScaleFactor: number;
  /** Latents are divided by this before the VAE decoder (0.18215 for SD v1.5). */
  vaeScalingFactor: number;
  /** Default latent size (unet/config.json sample_size); the default image is sampleSize * vaeScaleFactor. */
  sampleSize: number;
}

// The same message reaches CLI and VS Code users, so it names the fix for both.
const LAYOUT_HINT =
  'point courseIllustrator.modelPath (VS Code) or --model (CLI) at a folder in the diffusers ONNX layout ' +
  '(model_index.json, text_encoder/, unet/, vae_decoder/, tokenizer/, scheduler/), ' +
  'or download one with "Course Illustrator: Download Model…" or `course-illustrator models pull sd15-onnx`';
const INCOMPLETE = 'the model folder is incomplete; download it again or ' + LAYOUT_HINT;
const COMPONENTS = ['text_encoder', 'unet', 'vae_decoder', 'tokenizer'];

function modelError(message: string): EngineError {
  return new EngineError('modelError', message);
}

export async function readModelFolder(dirIn: string): Promise<ModelFolder> {
  const dir = path.resolve(dirIn);
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw modelError(`${dir} does not exist: ${LAYOUT_HINT}.`);
  }
  if (!st.isDirectory()) throw modelError(`${dir} is not a folder: ${LAYOUT_HINT}.`);

  const indexFile = path.join(dir, 'model_index.json');
  const index = existsSync(indexFile) ? await readJson(indexFile) : undefined;
  checkLayout(dir, index);

  const textEncoder = await graphFile(dir, 'text_encoder');
  const unet = await graphFile(dir, 'unet');
  const vaeDecoder = await graphFile(dir, 'vae_decoder');
  const vaeEncoder = existsSync(path.join(dir, 'vae_encoder', 'model.onnx')) ? await graphFile(dir, 'vae_encoder') : undefined;
  const externalData: string[] = [];
  for (const g of [textEncoder, unet, vaeDecoder, vaeEncoder]) if (g) externalData.push(...(await checkExternalData(g)));

  const tokenizerDir = path.join(dir, 'tokenizer');
  for (const f of ['vocab.json', 'merges.txt']) {
    if (!existsSync(path.join(tokenizerDir, f))) throw modelError(`${path.join(tokenizerDir, f)} is missing: ${INCOMPLETE}.`);
  }

  const schedulerFile = path.join(dir, 'scheduler', 'scheduler_config.json');
  if (!existsSync(schedulerFile)) {
    throw modelError(`${schedulerFile} is missing: the scheduler settings (beta schedule, timestep spacing) come from it; ${INCOMPLETE}.`);
  }
  const schedulerConfig = await readJson(schedulerFile);
  checkSchedulerConfig(schedulerConfig, schedulerFile);

  const vaeConfigFile = path.join(dir, 'vae_decoder', 'config.json');
  const vaeConfig = existsSync(vaeConfigFile) ? await readJson(vaeConfigFile) : {};
  let vaeScaleFactor = 8;
  const blocks = vaeConfig.block_out_channels;
  if (blocks !== undefined) {
    if (!Array.isArray(blocks) || blocks.length < 1 || blocks.length > 8) {
      throw modelError(`${vaeConfigFile}: block_out_channels must be a list of 1 to 8 numbers; fix the file or download the model again.`);
    }
    vaeScaleFactor = 2 ** (blocks.length - 1);
  }
  const vaeScalingFactor = positiveNumber(vaeConfig.scaling_factor, 0.18215, vaeConfigFile, 'scaling_factor');

  const unetConfigFile = path.join(dir, 'unet', 'config.json');
  const unetConfig = existsSync(unetConfigFile) ? await readJson(unetConfigFile) : {};
  // The default image is sample_size latent cells a side: at most the largest image anything makes.
  const maxSample = Math.max(1, Math.floor(SIZE.max / vaeScaleFactor));
  const sampleSizes = Array.isArray(unetConfig.sample_size) ? unetConfig.sample_size : [unetConfig.sample_size];
  if (sampleSizes.length < 1 || sampleSizes.length > 2) {
    throw modelError(`${unetConfigFile}: sample_size must be a number or a list of two, got ${describe(unetConfig.sample_size)}; ${FIX}.`);
  }
  for (const v of sampleSizes) {
    if (v === undefined || v === null) continue;
    if (!isWholeIn(v, 1, maxSample)) {
      throw modelError(
        `${unetConfigFile}: sample_size must be a whole number from 1 to ${maxSample} (images of at most ${SIZE.max} pixels), got ${describe(v)}; ${FIX}.`,
      );
    }
  }
  const sampleSize = positiveNumber(sampleSizes[0], 64, unetConfigFile, 'sample_size');

  return {
    dir,
    textEncoder,
    unet,
    vaeDecoder,
    vaeEncoder,
    tokenizerDir,
    externalData,
    schedulerConfig,
    vaeScaleFactor,
    vaeScalingFactor,
    sampleSize: Math.round(sampleSize),
  };
}

/** Rejects folders that are not a Stable Diffusion v1.x ONNX export, saying what they are instead. */
function checkLayout(dir: string, index: Record<string, unknown> | undefined): void {
  const cls = typeof index?._class_name === 'string' ? index._class_name : '';
  if (/XL/i.test(cls) || existsSync(path.join(dir, 'text_encoder_2'))) {
    throw modelError(`${dir} holds an SDXL model (${cls || 'text_encoder_2/'}); Course Illustrator runs Stable Diffusion v1.x ONNX exports. ${LAYOUT_HINT}.`);
  }
  const present = COMPONENTS.filter((c) => existsSync(path.join(dir, c)));
  if (index && present.length > 0) {
    const torchOnly =
      !existsSync(path.join(dir, 'unet', 'model.onnx')) &&
      existsSync(path.join(dir, 'unet')) &&
      readdirSync(path.join(dir, 'unet')).some((f) => /\.(safetensors|bin|ckpt)$/.test(f));
    if (torchOnly) {
      throw modelError(
        `${dir} is a PyTorch diffusers folder (${cls || 'no ONNX files'}: unet/ has .safetensors/.bin weights, no model.onnx); ` +
          `Course Illustrator needs the ONNX export of the model. ${LAYOUT_HINT}.`,
      );
    }
    return;
  }
  if (present.length === COMPONENTS.length) return;
  if (present.length > 0) {
    const missing = COMPONENTS.filter((c) => !present.includes(c)).map((c) => path.join(dir, c) + path.sep);
    throw modelError(`${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} missing (and there is no model_index.json): ${INCOMPLETE}.`);
  }
  // Nothing of a model here: perhaps one level off.
  const parent = path.dirname(dir);
  if (existsSync(path.join(parent, 'model_index.json'))) {
    throw modelError(`${dir} is one component of a model; use the folder above it, ${parent}.`);
  }
  // Model folders one level down, or in a Hugging Face cache entry (models--org--name/snapshots/<rev>/).
  const below = [...safeList(dir), ...safeList(path.join(dir, 'snapshots')).map((r) => path.join('snapshots', r))];
  const inside = below.filter((d) => existsSync(path.join(dir, d, 'model_index.json')));
  if (inside.length > 0) {
    throw modelError(`${dir} is not a model folder but holds ${inside.length === 1 ? 'one' : 'several'}: use ${inside.map((d) => path.join(dir, d)).join(' or ')}.`);
  }
  const loose = safeList(dir).filter((f) => /\.(safetensors|ckpt)$/.test(f));
  if (loose.length > 0) {
    throw modelError(
      `${dir} holds a single-file checkpoint (${loose[0]}), not an ONNX export; Course Illustrator needs the diffusers ONNX layout. ${LAYOUT_HINT}.`,
    );
  }
  throw modelError(`${dir} does not look like a Stable Diffusion model folder (no model_index.json, text_encoder/, unet/, vae_decoder/ or tokenizer/): ${LAYOUT_HINT}.`);
}

async function graphFile(dir: string, component: string): Promise<string> {
  const file = path.join(dir, component, 'model.onnx');
  let size: number;
  try {
    const st = await fs.stat(file);
    if (!st.isFile()) throw new Error('not a file');
    size = st.size;
  } catch {
    throw modelError(`${file} is missing: ${INCOMPLETE}.`);
  }
  if (size < 16) throw modelError(`${file} is empty or cut short (${size} bytes): the download was interrupted; download the model again.`);
  if (size < 1024 && (await isLfsPointer(file))) throw modelError(lfsMessage(file));
  return file;
}

/** A Git LFS pointer: what `git clone` of a model repository leaves without git-lfs installed. */
export async function isLfsPointer(file: string): Promise<boolean> {
  try {
    const head = (await fs.readFile(file)).subarray(0, 64).toString('latin1');
    return head.startsWith('version https://git-lfs.github.com/spec/');
  } catch {
    return false;
  }
}

export function lfsMessage(file: string): string {
  return (
    `${file} is a Git LFS pointer, not the file itself: the repository was cloned without Git LFS. ` +
    'Run `git lfs install && git lfs pull` in the model folder, or download the model with "Course Illustrator: Download Model…".'
  );
}

/** Graphs with external weights are small; larger ones are read by ORT only. */
const SCAN_LIMIT = 64 * 1024 * 1024;

async function checkExternalData(graph: string): Promise<string[]> {
  const size = (await fs.stat(graph)).size;
  if (size > SCAN_LIMIT) return [];
  const refs = externalDataRefs(await fs.readFile(graph));
  const out: string[] = [];
  for (const ref of refs) {
    const file = path.resolve(path.dirname(graph), ref.location);
    let have: number;
    try {
      have = (await fs.stat(file)).size;
    } catch {
      throw modelError(
        `${file} is missing: ${path.relative(path.dirname(path.dirname(graph)), graph)} keeps its weights in it (external data); ${INCOMPLETE}.`,
      );
    }
    if (have < 1024 && have < ref.bytesNeeded && (await isLfsPointer(file))) throw modelError(lfsMessage(file));
    if (have < ref.bytesNeeded) {
      throw modelError(
        `${file} is cut short (${have} of at least ${ref.bytesNeeded} bytes): the download was interrupted; download the model again.`,
      );
    }
    out.push(file);
  }
  return out;
}

/** A config file is a few kilobytes (trained_betas of 1000 numbers: about 25 KB); a larger one is not read. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

async function readJson(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    const st = await fs.stat(file);
    if (!st.isFile()) throw new Error('not a file');
    if (st.size > MAX_CONFIG_BYTES) {
      throw modelError(`${file} is ${(st.size / 1024 / 1024).toFixed(1)} MB; a config file is a few kilobytes (at most ${MAX_CONFIG_BYTES / 1024 / 1024} MB are read): ${FIX}.`);
    }
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof EngineError) throw err;
    throw modelError(`Cannot read ${file}: ${(err as Error).message}.`);
  }
  let value: unknown;
  try {
    value = parsePythonJson(text);
  } catch (err) {
    throw modelError(`${file} is not valid JSON (${(err as Error).message}): the file is damaged; download the model again.`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw modelError(`${file} must hold a JSON object; download the model again.`);
  }
  return value as Record<string, unknown>;
}

const FIX = 'fix the file or download the model again';

/** A value as a message shows it: JSON, cut short. */
function describe(v: unknown): string {
  const text = typeof v === 'number' ? String(v) : (JSON.stringify(v) ?? String(v));
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

function isWholeIn(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

function isInOpenUnit(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 && v < 1;
}

function positiveNumber(v: unknown, fallback: number, file: string, key: string): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw modelError(`${file}: ${key} must be a positive number, got ${describe(v)}; ${FIX}.`);
  }
  return v;
}

/** The most training timesteps a scheduler may have (SD v1.5: 1000); tables and loops are sized by it. */
export const MAX_TRAIN_TIMESTEPS = 10000;

// Whole-number keys of scheduler_config.json and their ranges. A missing key or null takes the
// scheduler's default; a wrong type or value is refused here with the range (the schedulers'
// own checks then only see bounded values).
const SCHEDULER_INTS: [key: string, min: number, max: number][] = [
  ['num_train_timesteps', 1, MAX_TRAIN_TIMESTEPS],
  ['steps_offset', 0, MAX_TRAIN_TIMESTEPS],
  ['original_inference_steps', 1, MAX_TRAIN_TIMESTEPS],
];
// Betas are probabilities: finite and strictly between 0 and 1.
const SCHEDULER_BETAS = ['beta_start', 'beta_end'];

/** Bounds the numbers of scheduler_config.json that size tables and loops or feed logarithms. */
export function checkSchedulerConfig(config: Record<string, unknown>, file: string): void {
  for (const [key, min, max] of SCHEDULER_INTS) {
    const v = config[key];
    if (v === undefined || v === null) continue;
    if (!isWholeIn(v, min, max)) throw modelError(`${file}: ${key} must be a whole number from ${min} to ${max}, got ${describe(v)}; ${FIX}.`);
  }
  for (const key of SCHEDULER_BETAS) {
    const v = config[key];
    if (v === undefined || v === null) continue;
    if (!isInOpenUnit(v)) throw modelError(`${file}: ${key} must be a number between 0 and 1 (not 0 or 1), got ${describe(v)}; ${FIX}.`);
  }
  const trained = config.trained_betas;
  if (trained !== undefined && trained !== null) {
    if (!Array.isArray(trained) || trained.length < 1 || trained.length > MAX_TRAIN_TIMESTEPS) {
      throw modelError(`${file}: trained_betas must be null or a list of 1 to ${MAX_TRAIN_TIMESTEPS} numbers, got ${Array.isArray(trained) ? `${trained.length} entries` : describe(trained)}; ${FIX}.`);
    }
    const bad = trained.findIndex((b) => !isInOpenUnit(b));
    if (bad >= 0) throw modelError(`${file}: trained_betas[${bad}] must be a number between 0 and 1 (not 0 or 1), got ${describe(trained[bad])}; ${FIX}.`);
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

const INSPECT: [name: string, folder: string][] = [
  ['text_encoder', 'text_encoder'],
  ['unet', 'unet'],
  ['vae_decoder', 'vae_decoder'],
  ['vae_encoder', 'vae_encoder'],
];

/**
 * What `course-illustrator info DIR` shows: each component's inputs, outputs and size, and every
 * problem found (collected, never thrown), including mismatches between components.
 */
export async function inspectModel(dirIn: string): Promise<ModelInfoResult> {
  const dir = path.resolve(dirIn);
  const problems: string[] = [];
  let folder: ModelFolder | undefined;
  try {
    folder = await readModelFolder(dir);
  } catch (err) {
    problems.push((err as Error).message);
  }
  const components: ModelComponentInfo[] = [];
  for (const [name, sub] of INSPECT) {
    const file = path.join(dir, sub, 'model.onnx');
    if (!existsSync(file)) continue;
    let bytes = statSync(file).size;
    for (const ext of folder?.externalData ?? []) if (path.dirname(ext) === path.dirname(file)) bytes += statSync(ext).size;
    let session: ModelSession | undefined;
    try {
      session = await ModelSession.create(file, { provider: 'cpu', threads: 1, label: name, inspectOnly: true });
      components.push({ name, file, bytes, inputs: session.inputs, outputs: session.outputs });
    } catch (err) {
      const m = (err as Error).message;
      if (!problems.includes(m)) problems.push(m);
      components.push({ name, file, bytes, inputs: [], outputs: [] });
    } finally {
      await session?.dispose();
    }
  }
  problems.push(...crossCheck(components));
  let scheduler: string | undefined;
  if (folder && typeof folder.schedulerConfig._class_name === 'string') scheduler = folder.schedulerConfig._class_name;
  return { kind: 'model', path: dir, components, scheduler, vaeScaleFactor: folder?.vaeScaleFactor ?? 8, problems };
}

/** Mismatches that would only show up as a failure in the middle of a generation. */
function crossCheck(components: ModelComponentInfo[]): string[] {
  const problems: string[] = [];
  const get = (n: string) => components.find((c) => c.name === n && c.inputs.length > 0);
  const te = get('text_encoder');
  const unet = get('unet');
  if (te && !te.inputs.some((i) => /^int(32|64)$/.test(i.type) && i.dims.length === 2)) {
    problems.push(`${te.file} does not take token ids (an int32 or int64 [batch, 77] input); is it a CLIP text encoder?`);
  }
  if (unet) {
    const names = unet.inputs.map((i) => i.name);
    for (const n of ['sample', 'timestep', 'encoder_hidden_states']) {
      if (!names.includes(n)) problems.push(`${unet.file} has no "${n}" input (it has ${names.join(', ')}); it is not a Stable Diffusion UNet export.`);
    }
    const channels = unet.inputs.find((i) => i.name === 'sample')?.dims[1];
    if (typeof channels === 'number' && channels !== 4) {
      problems.push(`${unet.file} takes ${channels}-channel samples${channels === 9 ? ' (an inpainting model)' : ''}; only 4-channel text-to-image UNets are supported.`);
    }
  }
  const states = te?.outputs.find((o) => o.name === 'last_hidden_state') ?? te?.outputs[0];
  const hidden = unet?.inputs.find((i) => i.name === 'encoder_hidden_states');
  const a = states?.dims[2];
  const b = hidden?.dims[2];
  if (typeof a === 'number' && typeof b === 'number' && a !== b) {
    problems.push(`The text encoder gives ${a}-wide states but the UNet takes ${b}: the components come from different models; download the model again.`);
  }
  return problems;
}
