// Turns a GenerateParams request into a complete, checked job description.
// Every check names the argument and the fix; nothing is loaded or written here.
// The ranges and defaults are the ones every other part uses (src/core/limits.ts); a request
// from the CLI or over RPC outside them is refused with the allowed range. Prompts are cleaned
// here too (src/core/sanitize.ts): whatever the caller sends, the PNG's parameters get one-line
// prompts without control characters, which read back as they were written.

import * as fs from 'fs';
import * as path from 'path';
import { BATCH, DEFAULTS, GUIDANCE, LORA, NEGATIVE_PROMPT, PROMPT, SEED, SIZE, STEPS, STRENGTH, loraMultiplierProblem, strengthProblem } from '../../core/limits';
import { extractLoraTags } from '../../core/loraTags';
import { GenerateParams } from '../../core/protocol';
import { cleanPromptText } from '../../core/sanitize';
import { SchedulerName, defaultSchedulerName, resolveSchedulerName, unknownSchedulerMessage } from '../../core/schedulerNames';
import { badInput } from '../errors';
import { randomSeed } from '../rng/torchGenerator';
import type { LoraRequest } from '../lora/loraSet';

export interface ModelDefaults {
  /** unet sample_size * vae factor. */
  size: number;
  vaeScaleFactor: number;
  /** scheduler_config.json: a job without a scheduler runs the model's (defaultSchedulerName). */
  schedulerConfig?: Record<string, unknown>;
}

export interface JobSpec {
  /** The prompt as written, `<lora:...>` tags included (the infotext keeps them, as A1111's does). */
  prompt: string;
  /** What the text encoder gets: the prompt without its LoRA tags. */
  modelPrompt: string;
  /** The prompt's tags and GenerateParams.loras, files resolved (absolute paths). */
  loras: LoraRequest[];
  negativePrompt: string;
  seeds: number[];
  steps: number;
  guidance: number;
  width: number;
  height: number;
  scheduler: SchedulerName;
  promptWeighting: boolean;
  outFile?: string;
  outDir?: string;
  /** Real-path containment for the written file (GenerateParams.confineTo). */
  confineTo?: string;
  overwrite: boolean;
  previewEvery: number;
  /** Final decode through the preview decoder (GenerateParams.draft). */
  draft: boolean;
  saveLatents?: string;
  domain: NonNullable<GenerateParams['domain']>;
  labelLanguage: NonNullable<GenerateParams['labelLanguage']>;
  extraParameters: Record<string, string>;
  /** img2img (and inpainting with a mask); absent for text to image. */
  init?: InitSpec;
}

/** An img2img or inpainting job's inputs. */
export interface InitSpec {
  /** Absolute paths, read when the job runs. */
  image: string;
  mask?: string;
  strength: number;
  /** The size the request gave; a side left out is the init image's (JobSpec.width/height are then set when it is read). */
  width?: number;
  height?: number;
}

export const DEFAULT_STEPS = DEFAULTS.steps;
export const DEFAULT_GUIDANCE = DEFAULTS.guidance;
/** Extra infotext pairs a request may add (template name, course...). */
const MAX_EXTRA_PARAMETERS = 32;
const MAX_EXTRA_VALUE = 1000;
// A key A1111's parameters parser reads back as one: a word character, then words, spaces, - or /.
const EXTRA_KEY = /^[\p{L}\p{N}_][\p{L}\p{N}_ \-/]{0,63}$/u;

export function resolveJob(p: GenerateParams, model: ModelDefaults): JobSpec {
  const prompt = cleanPromptText(p.prompt);
  // The prompt as sent: a template's words may be around what the user wrote.
  if (prompt.length > PROMPT.maxWithTemplate) {
    throw badInput(`--prompt is ${prompt.length} characters long; at most ${PROMPT.maxWithTemplate} are allowed. Shorten it.`);
  }
  const negativePrompt = cleanPromptText(p.negativePrompt ?? '');
  if (negativePrompt.length > NEGATIVE_PROMPT.maxChars) {
    throw badInput(`--negative-prompt is ${negativePrompt.length} characters long; at most ${NEGATIVE_PROMPT.maxChars} are allowed. Shorten it.`);
  }
  const steps = p.steps ?? DEFAULT_STEPS;
  if (!Number.isInteger(steps) || steps < STEPS.min || steps > STEPS.max) {
    throw badInput(`--steps must be a whole number of at least ${STEPS.min} and at most ${STEPS.max}, got ${p.steps}.`);
  }
  const guidance = p.guidance ?? DEFAULT_GUIDANCE;
  if (!Number.isFinite(guidance) || guidance < GUIDANCE.min || guidance > GUIDANCE.max) {
    throw badInput(`--guidance must be ${GUIDANCE.min} or more and at most ${GUIDANCE.max} (7.5 is usual; 1 or less turns classifier-free guidance off), got ${p.guidance}.`);
  }
  // The smallest side is one VAE block (tiny test models make 32x32 images); the largest is the
  // limit every other part uses.
  const multiple = lcm(SIZE.multiple, model.vaeScaleFactor);
  const width = p.width ?? model.size;
  const height = p.height ?? model.size;
  for (const [name, v] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(v) || v < multiple || v > SIZE.max || v % multiple !== 0) {
      const down = Math.min(SIZE.max, Math.max(multiple, Math.floor(v / multiple) * multiple));
      throw badInput(`--${name} ${v} can't be used: it must be a multiple of ${multiple} pixels between ${multiple} and ${SIZE.max} ` +
        `(this model's VAE works in blocks of ${model.vaeScaleFactor}); try ${Number.isFinite(down) ? down : SIZE.default}.`);
    }
  }
  let scheduler: SchedulerName | undefined;
  if (p.scheduler !== undefined && p.scheduler !== '' && p.scheduler !== 'default') {
    scheduler = resolveSchedulerName(p.scheduler);
    if (!scheduler) throw badInput(unknownSchedulerMessage(p.scheduler));
  } else {
    scheduler = defaultSchedulerName(model.schedulerConfig ?? {});
  }
  const batch = p.batch ?? DEFAULTS.batch;
  if (!Number.isInteger(batch) || batch < BATCH.min || batch > BATCH.max) throw badInput(`--batch must be from ${BATCH.min} to ${BATCH.max}, got ${p.batch}.`);
  const base = p.seed ?? randomSeed();
  // Image i uses seed + i; the last one must stay exact (written so that no sum rounds).
  if (!Number.isInteger(base) || base < SEED.min || base > SEED.max - (batch - 1)) {
    throw badInput(`--seed must be a whole number from ${SEED.min} to ${SEED.max - batch + 1}, got ${p.seed}.`);
  }
  const extraParameters = checkExtraParameters(p.extraParameters ?? {});
  if (p.outFile && batch > 1) {
    throw badInput(`--out names one file but --batch is ${batch}; use --out-dir DIR for several images.`);
  }
  if (p.outFile && !p.outFile.toLowerCase().endsWith('.png')) {
    throw badInput(`--out ${p.outFile}: the output file must end in .png.`);
  }
  if (p.saveLatents && !p.saveLatents.toLowerCase().endsWith('.npy')) {
    throw badInput(`--save-latents ${p.saveLatents}: the latents file must end in .npy.`);
  }
  if (p.draft && !p.previewDecoder) {
    throw badInput('--draft decodes the image with a preview decoder: give --preview-decoder TAESD_DIR (in VS Code: Download Model… → TAESD).');
  }
  const init = checkInit(p, steps);
  const { text: modelPrompt, loras } = resolveLoras(p, prompt);
  return {
    prompt,
    modelPrompt,
    loras,
    negativePrompt,
    seeds: Array.from({ length: batch }, (_, i) => base + i),
    steps,
    guidance,
    width,
    height,
    scheduler,
    promptWeighting: p.promptWeighting ?? true,
    outFile: p.outFile ? path.resolve(p.outFile) : undefined,
    outDir: p.outFile ? undefined : path.resolve(p.outDir ?? '.'),
    confineTo: p.confineTo ? path.resolve(p.confineTo) : undefined,
    overwrite: p.overwrite ?? false,
    previewEvery: p.previewEvery ?? 0,
    draft: p.draft === true,
    saveLatents: p.saveLatents ? path.resolve(p.saveLatents) : undefined,
    domain: p.domain ?? 'general',
    labelLanguage: p.labelLanguage ?? 'en',
    extraParameters,
    ...(init ? { init } : {}),
  };
}

/** --init-image, --strength and --mask: present together as they must be, strength in range and leaving steps to run. */
function checkInit(p: GenerateParams, steps: number): InitSpec | undefined {
  if (p.initImage === undefined || p.initImage === '') {
    if (p.mask !== undefined) throw badInput('--mask needs --init-image: the mask says which part of that image is repainted.');
    if (p.strength !== undefined) throw badInput('--strength needs --init-image: it says how much of that image is changed.');
    return undefined;
  }
  if (p.mask === '') throw badInput('--mask is empty; give the path of a mask image (white repaints, black keeps) or leave it out.');
  const strength = p.strength ?? (p.mask !== undefined ? STRENGTH.inpaintDefault : STRENGTH.default);
  const problem = strengthProblem(strength);
  if (problem) throw badInput(`--strength ${problem} (how much of the init image is changed), got ${p.strength}.`);
  // diffusers' get_timesteps runs min(int(steps * strength), steps) of the steps.
  const run = Math.min(Math.trunc(steps * strength), steps);
  if (run < 1) {
    const least = Math.ceil(100 / steps) / 100;
    throw badInput(`--strength ${strength} with --steps ${steps} leaves no step to run (int(steps x strength) = 0); ` +
      `use --strength ${least} or more, or more --steps.`);
  }
  return {
    image: path.resolve(p.initImage),
    mask: p.mask !== undefined ? path.resolve(p.mask) : undefined,
    strength,
    width: p.width,
    height: p.height,
  };
}

/** The prompt's `<lora:NAME:MULT>` tags (NAME.safetensors in loraDirs) and GenerateParams.loras, checked. */
function resolveLoras(p: GenerateParams, prompt: string): { text: string; loras: LoraRequest[] } {
  const parsed = extractLoraTags(prompt);
  if (parsed.problems.length) throw badInput(`The prompt's LoRA tags can't be used: ${parsed.problems.join('; ')}.`);
  const dirs = (p.loraDirs ?? []).map((d) => path.resolve(d));
  const loras: LoraRequest[] = [];
  for (const tag of parsed.tags) {
    if (/[\\/]/.test(tag.name) || tag.name === '.' || tag.name === '..') {
      throw badInput(`${tag.tag}: a LoRA name is a file name without folders or extension (NAME for NAME.safetensors in a LoRA folder).`);
    }
    if (dirs.length === 0) throw badInput(`${tag.tag} names a LoRA, but no LoRA folder is set: give --lora-dir DIR (the folder holding ${tag.name}.safetensors).`);
    const file = dirs.map((d) => path.join(d, `${tag.name}.safetensors`)).find((f) => fs.existsSync(f));
    if (!file) throw badInput(`${tag.tag}: there is no ${tag.name}.safetensors in the LoRA folder${dirs.length === 1 ? '' : 's'} ${dirs.join(', ')}. Check the name, or add the folder that holds it with --lora-dir.`);
    loras.push({ path: file, multiplier: tag.multiplier, name: tag.name });
  }
  for (const l of p.loras ?? []) {
    if (!l.path) throw badInput('--lora needs a file: --lora FILE.safetensors[:MULT].');
    const file = path.resolve(l.path);
    loras.push({ path: file, multiplier: l.multiplier, name: path.basename(file).replace(/\.safetensors$/i, '') });
  }
  for (const l of loras) {
    const problem = loraMultiplierProblem(l.multiplier);
    if (problem) throw badInput(`The multiplier of LoRA ${l.name} ${problem}, got ${l.multiplier}.`);
  }
  if (loras.length > LORA.maxCount) throw badInput(`${loras.length} LoRAs were asked for; at most ${LORA.maxCount} can be used at once.`);
  return { text: parsed.text, loras };
}

/** Extra infotext pairs: keys that read back as keys, values on one line without control characters. */
function checkExtraParameters(extra: Record<string, string>): Record<string, string> {
  const entries = Object.entries(extra);
  if (entries.length > MAX_EXTRA_PARAMETERS) throw badInput(`extraParameters has ${entries.length} entries; at most ${MAX_EXTRA_PARAMETERS} are allowed.`);
  const out: Record<string, string> = {};
  for (const [key, raw] of entries) {
    if (!EXTRA_KEY.test(key)) {
      throw badInput(`extraParameters key "${cleanPromptText(key).slice(0, 80)}" can't be used: a key is 1 to 64 letters, digits, spaces, "_", "-" or "/", starting with a letter, digit or "_".`);
    }
    const value = cleanPromptText(String(raw));
    if (value.length > MAX_EXTRA_VALUE) throw badInput(`extraParameters "${key}" is ${value.length} characters long; at most ${MAX_EXTRA_VALUE} are allowed.`);
    out[key] = value;
  }
  return out;
}

/** Fails before any work when the output can't be written, so a long job never ends in an error. */
export function checkOutputs(job: JobSpec): void {
  const dirs = new Set<string>();
  if (job.outFile) {
    if (!job.overwrite && fs.existsSync(job.outFile)) {
      throw badInput(`${job.outFile} already exists; pass --overwrite to replace it or choose another --out.`);
    }
    dirs.add(path.dirname(job.outFile));
  }
  if (job.outDir) dirs.add(job.outDir);
  if (job.saveLatents) dirs.add(path.dirname(job.saveLatents));
  for (const dir of dirs) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(dir);
    } catch {
      throw badInput(`The output folder ${dir} does not exist; create it or choose another one.`);
    }
    if (!stat.isDirectory()) throw badInput(`${dir} is not a folder; choose an output folder.`);
    // A real probe file: access(W_OK) says yes to root even on read-only mounts.
    const probe = path.join(dir, `.course-illustrator-probe-${process.pid}-${Date.now()}`);
    try {
      fs.closeSync(fs.openSync(probe, 'wx'));
      fs.unlinkSync(probe);
    } catch {
      throw badInput(`The output folder ${dir} is not writable; choose another one or fix its permissions.`);
    }
  }
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function lcm(a: number, b: number): number {
  return (a / gcd(a, b)) * b;
}
