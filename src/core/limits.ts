// The ranges and defaults of every generation setting, in one place. The stub parser, the
// results panel (extension host and webview), the settings schema in package.json (checked by a
// test), the engine (CLI and RPC) and "Regenerate" from a PNG's metadata all read them here, so
// they cannot disagree. Pure: no Node, no vscode (the webview bundles this file).
//
// Two ways a value outside a range is handled, chosen per path:
//   - typed by the user (a stub, the panel, the CLI, a setting): refused with a message that
//     names the allowed range (the `*Problem` functions below give the words);
//   - read from untrusted metadata (a PNG's parameters): clamped, with a warning that says what
//     was asked for and what is used instead (`clampGenerationValues`).

import * as l10n from '@vscode/l10n';

/** Image width and height in pixels. The engine also makes smaller images (one VAE block, for tiny test models) but never larger ones. */
export const SIZE = { min: 64, max: 2048, multiple: 8, default: 512 } as const;
/** Denoising steps. */
export const STEPS = { min: 1, max: 150, default: 20 } as const;
/** Guidance (CFG) scale; 1 or less turns classifier-free guidance off. */
export const GUIDANCE = { min: 0, max: 30, default: 7.5 } as const;
/**
 * img2img / inpainting strength (A1111's "Denoising strength"): how much of the init image is
 * changed, from 0 (nothing) to 1 (all of it). The defaults are diffusers': 0.8 for img2img
 * (StableDiffusionImg2ImgPipeline), 1 for inpainting (StableDiffusionInpaintPipeline). The steps
 * run are int(steps * strength), so a strength below 1 / steps leaves none and is refused.
 */
export const STRENGTH = { min: 0, max: 1, default: 0.8, inpaintDefault: 1 } as const;
/** Images per job: the panel's batch count, variations, the CLI's --batch. */
export const BATCH = { min: 1, max: 16, default: 1 } as const;
/**
 * LoRAs per job (A1111's `<lora:NAME:MULT>` tags and --lora together) and their multipliers; a
 * negative multiplier subtracts the LoRA, as A1111 allows. Folders searched for tag names.
 */
export const LORA = { maxCount: 8, multiplier: { min: -4, max: 4, default: 1 }, maxDirs: 16 } as const;
/** Seeds: any whole number a double holds exactly. Random seeds are drawn below `randomEnd` (A1111's range). */
export const SEED = { min: 0, max: Number.MAX_SAFE_INTEGER, randomEnd: 2 ** 32 } as const;
/**
 * Prompt length in UTF-16 code units (what JavaScript's length counts). `maxChars` is what a
 * user writes (the subject, when a template wraps it); `maxWithTemplate` is a whole prompt as a
 * job gets it, a template's words included (a test checks that every template fits).
 */
export const PROMPT = { maxChars: 20000, maxWithTemplate: 20500 } as const;
export const NEGATIVE_PROMPT = { maxChars: 20000 } as const;

/** The defaults a job gets when neither the request nor the settings say otherwise. */
export const DEFAULTS = {
  width: SIZE.default,
  height: SIZE.default,
  /** The `courseIllustrator.size` setting's default. */
  size: `${SIZE.default}x${SIZE.default}`,
  steps: STEPS.default,
  guidance: GUIDANCE.default,
  batch: BATCH.default,
  scheduler: 'default',
  negativePrompt: '',
} as const;

/** A random seed in A1111's range, [0, 2^32). */
export function randomSeed(): number {
  return Math.floor(Math.random() * SEED.randomEnd);
}

// ------------------------------------------------------------------ refusing (user input)
// Each returns undefined for a good value, else the end of a sentence whose subject the caller
// names: `"steps" ${problem}` in a validator, `Steps ${problem}.` in a form. The words go through
// l10n.t: English in the engine and the CLI, the teacher's language where the extension or a
// webview set a translator (webviewMessages.ts's problemText puts subject and predicate together).

function isWhole(n: number): boolean {
  return Number.isInteger(n);
}

/** Why a width or height is not usable, or undefined when it is. */
export function sizeProblem(n: number): string | undefined {
  if (!isWhole(n)) return l10n.t('must be a whole number');
  if (n < SIZE.min || n > SIZE.max) return l10n.t('must be from {0} to {1}', SIZE.min, SIZE.max);
  if (n % SIZE.multiple !== 0) return l10n.t('must be a multiple of {0} (try {1})', SIZE.multiple, Math.max(SIZE.min, Math.round(n / SIZE.multiple) * SIZE.multiple));
  return undefined;
}

export function stepsProblem(n: number): string | undefined {
  return isWhole(n) && n >= STEPS.min && n <= STEPS.max ? undefined : l10n.t('must be a whole number from {0} to {1}', STEPS.min, STEPS.max);
}

export function guidanceProblem(n: number): string | undefined {
  return Number.isFinite(n) && n >= GUIDANCE.min && n <= GUIDANCE.max ? undefined : l10n.t('must be a number from {0} to {1}', GUIDANCE.min, GUIDANCE.max);
}

export function strengthProblem(n: number): string | undefined {
  return Number.isFinite(n) && n >= STRENGTH.min && n <= STRENGTH.max ? undefined : l10n.t('must be a number from {0} to {1}', STRENGTH.min, STRENGTH.max);
}

export function batchProblem(n: number): string | undefined {
  return isWhole(n) && n >= BATCH.min && n <= BATCH.max ? undefined : l10n.t('must be a whole number from {0} to {1}', BATCH.min, BATCH.max);
}

export function loraMultiplierProblem(n: number): string | undefined {
  if (!Number.isFinite(n) || n < LORA.multiplier.min || n > LORA.multiplier.max) return l10n.t('must be from {0} to {1}', LORA.multiplier.min, LORA.multiplier.max);
  return undefined;
}

export function seedProblem(n: number): string | undefined {
  return isWhole(n) && n >= SEED.min && n <= SEED.max ? undefined : l10n.t('must be a whole number from {0} to {1}', SEED.min, SEED.max);
}

/** `maxChars`: PROMPT.maxChars or NEGATIVE_PROMPT.maxChars. */
export function lengthProblem(text: string, maxChars: number): string | undefined {
  return text.length > maxChars ? l10n.t('is longer than {0} characters ({1})', maxChars, text.length) : undefined;
}

// ------------------------------------------------------------------ clamping (untrusted metadata)

export interface GenerationValues {
  steps?: number;
  guidance?: number;
  width?: number;
  height?: number;
  batch?: number;
  seed?: number;
}

/** Numbers as a person reads them: 1e+308 stays short, 7.5 stays 7.5. */
function show(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  return Math.abs(n) >= 1e9 || (n !== 0 && Math.abs(n) < 1e-4) ? n.toExponential(3).replace(/\.?0+e/, 'e') : String(Math.round(n * 1e4) / 1e4);
}

function clampNumber(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, n));
}

/** Down to a multiple of SIZE.multiple, within SIZE. */
function toSide(n: number): number {
  return clampNumber(Math.floor(n / SIZE.multiple) * SIZE.multiple, SIZE.min, SIZE.max);
}

/**
 * Width and height within SIZE: a size that is too large is scaled down as a whole (the aspect
 * ratio stays), then each side is rounded down to a multiple of 8 and kept within the range.
 */
export function fitSize(width: number, height: number): { width: number; height: number } {
  const scale = Math.max(width, height) > SIZE.max ? SIZE.max / Math.max(width, height) : 1;
  return { width: toSide(width * scale), height: toSide(height * scale) };
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Values from a source nobody checked (a PNG's parameters), brought within the limits. Missing
 * values stay missing (the settings decide); a value that is not a finite number is left out.
 * Each change gives one warning that names `source` (a plural noun phrase, "the image's
 * parameters"), what it asked for, what is used instead and the allowed range, e.g.
 * `The image's parameters ask for 1000 steps; 150 are used (allowed: 1 to 150).`
 */
export function clampGenerationValues(v: GenerationValues, source: string): { values: GenerationValues; warnings: string[] } {
  const warnings: string[] = [];
  const values: GenerationValues = {};
  const Source = capitalized(source);
  const leftOut = (what: string, range: string) => warnings.push(`${Source} ask for ${what}; it is left out (allowed: ${range}).`);
  if (v.steps !== undefined) {
    const range = `${STEPS.min} to ${STEPS.max}`;
    if (!Number.isFinite(v.steps)) leftOut(`steps ${show(v.steps)}`, range);
    else {
      const steps = clampNumber(Math.round(v.steps), STEPS.min, STEPS.max);
      if (steps !== v.steps) warnings.push(`${Source} ask for ${show(v.steps)} steps; ${steps} are used (allowed: ${range}).`);
      values.steps = steps;
    }
  }
  if (v.guidance !== undefined) {
    const range = `${GUIDANCE.min} to ${GUIDANCE.max}`;
    if (!Number.isFinite(v.guidance)) leftOut(`guidance ${show(v.guidance)}`, range);
    else {
      const guidance = clampNumber(v.guidance, GUIDANCE.min, GUIDANCE.max);
      if (guidance !== v.guidance) warnings.push(`${Source} ask for guidance ${show(v.guidance)}; ${show(guidance)} is used (allowed: ${range}).`);
      values.guidance = guidance;
    }
  }
  if (v.width !== undefined || v.height !== undefined) {
    const range = `${SIZE.min} to ${SIZE.max} pixels a side, multiples of ${SIZE.multiple}`;
    const w = v.width ?? v.height!;
    const h = v.height ?? v.width!;
    if (!Number.isFinite(w) || !Number.isFinite(h) || w <= 0 || h <= 0) leftOut(`a size of ${show(w)}×${show(h)}`, range);
    else {
      const fit = fitSize(w, h);
      if (fit.width !== w || fit.height !== h) warnings.push(`${Source} ask for a size of ${show(w)}×${show(h)}; ${fit.width}×${fit.height} is used (allowed: ${range}).`);
      if (v.width !== undefined) values.width = fit.width;
      if (v.height !== undefined) values.height = fit.height;
    }
  }
  if (v.batch !== undefined) {
    const range = `${BATCH.min} to ${BATCH.max}`;
    if (!Number.isFinite(v.batch)) leftOut(`a batch of ${show(v.batch)}`, range);
    else {
      const batch = clampNumber(Math.round(v.batch), BATCH.min, BATCH.max);
      if (batch !== v.batch) warnings.push(`${Source} ask for ${show(v.batch)} images; ${batch} are made (allowed: ${range}).`);
      values.batch = batch;
    }
  }
  if (v.seed !== undefined) {
    if (seedProblem(v.seed)) warnings.push(`${Source} give the seed ${show(v.seed)}; a random seed is used instead (allowed: ${SEED.min} to ${SEED.max}).`);
    else values.seed = v.seed;
  }
  return { values, warnings };
}

/**
 * Text cut to `maxChars` UTF-16 code units without splitting a surrogate pair, and a warning
 * naming `what` ("the prompt in the image's parameters") when it was cut. For untrusted
 * metadata; typed text is refused instead.
 */
export function clampLength(text: string, maxChars: number, what: string): { text: string; warning?: string } {
  if (text.length <= maxChars) return { text };
  let end = maxChars;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return {
    text: text.slice(0, end),
    warning: `${capitalized(what)} is ${text.length} characters long; the first ${end} are used (allowed: at most ${maxChars}).`,
  };
}
