// One description of an image to make, whichever front end asked for it (a stub or directive, a
// command, the results panel, the gallery, the course queue, an image's own PNG parameters), the
// one function that turns it into engine parameters, and the one reader that gets it back from a
// PNG's A1111 parameters. UI-only state wraps it: the panel's seed lock and batch count
// (webviewMessages.ts PanelSettings), a stub's alt text and label (stubs.ts StubOptions).
// Pure: no Node, no vscode (the webview bundles the types).

import { type DomainDeclaration, domainFromFields } from './domain';
import { NEGATIVE_PROMPT, PROMPT, STRENGTH, clampGenerationValues, clampLength } from './limits';
import type { ContentDomain, GenerateParams } from './protocol';
import { cleanPromptText } from './sanitize';
import { resolveSchedulerName } from './schedulerNames';
import { type PromptTemplate, applyTemplate, subjectOf } from './templates';

export interface GenerationSettings {
  /** The subject as written: the alt text and the file name come from it; a template wraps it. */
  prompt: string;
  /** What the model reads instead of `prompt` (English beside Chinese alt text); empty: `prompt`. */
  modelPrompt?: string;
  /** Missing or empty: the configured default, else the template's (negativePromptFor). */
  negativePrompt?: string;
  /** Missing: a random seed. Image i of a batch gets seed + i. */
  seed?: number;
  steps?: number;
  guidance?: number;
  width?: number;
  height?: number;
  /** Our name, an A1111 name or a diffusers class name; 'default': the model's own; missing: the setting. */
  scheduler?: string;
  /** A template id (templates.ts, or the user's own). */
  template?: string;
  /** Words after the prompt and its template (a course's style); not in the alt text or file name. */
  style?: string;
  /** Fast mode (fastMode.ts) for this job; missing: the setting. */
  fast?: boolean;
  /** img2img and inpainting only: how much of the source changes (limits.ts STRENGTH). */
  strength?: number;
  /** Images in this job. */
  batch?: number;
}

/** What a job gets where its settings say nothing: the user's configuration. */
export interface SettingsDefaults {
  negativePrompt: string;
  steps: number;
  guidance: number;
  width: number;
  height: number;
  /** 'default' or a scheduler name. */
  scheduler: string;
}

/** A job's context besides its settings, decided by the front end's host. */
export interface EngineJob {
  model: string;
  seed: number;
  defaults: SettingsDefaults;
  /** The template settings.template names, looked up by the caller (findTemplate with the user's own). */
  template: PromptTemplate | undefined;
  /** Decided by declarations (domain.ts); the template's domain is only the fallback. */
  domain?: ContentDomain;
  labelLanguage?: 'en' | 'zh';
  /** One image into exactly this file (confined to a folder), or a folder the engine names files in. */
  output: { outFile: string; confineTo: string } | { outDir: string; confineTo?: string };
  previewEvery: number;
  /** img2img, or inpainting with a mask. */
  source?: { image: string; mask?: string };
}

/**
 * The one negative-prompt rule: what the job says, else the configured default, else the
 * template's. The panel's box starts with the configured default and shows a chosen template's
 * negative prompt, so what the teacher sees there is what runs.
 */
export function negativePromptFor(asked: string | undefined, configured: string, template: PromptTemplate | undefined): string | undefined {
  return cleanPromptText(asked ?? '').trim() || cleanPromptText(configured).trim() || template?.negative || undefined;
}

/** The prompt the model reads: the subject (or its English), in the template, then the style. */
export function modelPromptFor(s: Pick<GenerationSettings, 'prompt' | 'modelPrompt' | 'style'>, template: PromptTemplate | undefined): string {
  const subject = cleanPromptText(s.modelPrompt?.trim() ? s.modelPrompt : s.prompt);
  const templated = template ? applyTemplate(template, subject) : subject;
  const style = cleanPromptText(s.style ?? '').trim();
  return style ? `${templated}, ${style}` : templated;
}

/** The engine parameters for a job: every front end's settings go through here. */
export function toEngineParams(s: GenerationSettings, job: EngineJob): GenerateParams {
  const d = job.defaults;
  const chosen = s.scheduler ?? d.scheduler;
  const scheduler = chosen && chosen.toLowerCase() !== 'default' ? chosen : undefined;
  const template = job.template;
  return {
    model: job.model,
    prompt: modelPromptFor(s, template),
    negativePrompt: negativePromptFor(s.negativePrompt, d.negativePrompt, template),
    seed: job.seed,
    steps: s.steps ?? d.steps,
    guidance: s.guidance ?? d.guidance,
    width: s.width ?? d.width,
    height: s.height ?? d.height,
    scheduler,
    batch: Math.max(1, s.batch ?? 1),
    promptWeighting: true,
    ...job.output,
    previewEvery: job.previewEvery,
    // Medical images (declared, or from a medical template) get the visible AI label.
    domain: job.domain ?? template?.domain ?? 'general',
    labelLanguage: job.labelLanguage,
    extraParameters: extraParameters(template, s.style),
    ...(job.source
      ? { initImage: job.source.image, mask: job.source.mask, strength: s.strength ?? (job.source.mask ? STRENGTH.inpaintDefault : STRENGTH.default) }
      : {}),
  };
}

/** The PNG's own fields that bring a prompt's parts back (settingsFromInfotext): its template and course style. */
function extraParameters(template: PromptTemplate | undefined, style: string | undefined): Record<string, string> | undefined {
  const words = cleanPromptText(style ?? '').trim();
  const fields = { ...(template ? { Template: template.id } : {}), ...(words ? { [STYLE_FIELD]: words } : {}) };
  return Object.keys(fields).length ? fields : undefined;
}

const STYLE_FIELD = 'Course style';

/** What a PNG's parameters describe, as settings; `warnings` says what was brought within the limits. */
export interface SettingsFromImage {
  settings: GenerationSettings;
  /** The image's own label (domain.ts): a medical image stays labelled when it is made again. */
  domain?: DomainDeclaration;
  warnings: string[];
}

/** How the warnings name the metadata. */
export const METADATA_SOURCE = "the image's parameters";

/**
 * The one reader of A1111 parameters (ours or another tool's). A PNG can be made by anyone, so
 * nothing it says is trusted: prompts are cleaned and cut to length, numbers are brought within
 * the limits, and each change is a warning. A prompt made with a known template comes back as
 * its subject with the template chosen; any other prompt comes back whole. `fallbackPrompt` (the
 * link's alt text) stands in for a missing prompt; undefined when there is no prompt at all.
 */
export function settingsFromInfotext(
  info: { prompt?: string; negativePrompt?: string; fields?: Record<string, string>; width?: number; height?: number },
  fallbackPrompt = '',
): SettingsFromImage | undefined {
  const f = info.fields ?? {};
  const warnings: string[] = [];
  const whole = clampLength(cleanPromptText(info.prompt || fallbackPrompt), PROMPT.maxWithTemplate, `the prompt in ${METADATA_SOURCE}`);
  if (!whole.text.trim()) return undefined;
  if (whole.warning) warnings.push(whole.warning);
  let negativePrompt: string | undefined;
  if (info.negativePrompt !== undefined) {
    const cut = clampLength(cleanPromptText(info.negativePrompt), NEGATIVE_PROMPT.maxChars, `the negative prompt in ${METADATA_SOURCE}`);
    negativePrompt = cut.text;
    if (cut.warning) warnings.push(cut.warning);
  }
  // A field that is there but is no number is said, and left to the settings.
  const num = (key: string): number | undefined => {
    const raw = f[key];
    if (raw === undefined || raw.trim() === '') return undefined;
    const n = Number(raw);
    if (Number.isFinite(n)) return n;
    warnings.push(`${capitalized(METADATA_SOURCE)} give "${clip(cleanPromptText(raw))}" as ${key}, which is not a number; the setting is used instead.`);
    return undefined;
  };
  const size = /^(\d+)x(\d+)$/.exec(f['Size'] ?? '');
  const clamped = clampGenerationValues(
    {
      steps: num('Steps'),
      guidance: num('CFG scale'),
      width: size ? Number(size[1]) : info.width || undefined,
      height: size ? Number(size[2]) : info.height || undefined,
      seed: num('Seed'),
    },
    METADATA_SOURCE,
  );
  warnings.push(...clamped.warnings);
  const strength = num('Denoising strength');
  // A course's style came last (modelPromptFor): taken off, the template's wording is found again.
  const styleWords = f[STYLE_FIELD]?.trim();
  // (No longer than a course style may be: the field is untrusted, and goes back into the next PNG.)
  const style = styleWords && styleWords.length <= PROMPT.maxWithTemplate - PROMPT.maxChars && whole.text.endsWith(`, ${styleWords}`) ? styleWords : undefined;
  const text = style ? whole.text.slice(0, whole.text.length - style.length - 2) : whole.text;
  const templated = subjectOf(text, f['Template']);
  const domain = domainFromFields(f);
  const scheduler = schedulerFromFields(f);
  const settings: GenerationSettings = {
    prompt: templated?.subject ?? text,
    ...(style ? { style } : {}),
    ...(negativePrompt !== undefined ? { negativePrompt } : {}),
    ...clamped.values,
    ...(scheduler ? { scheduler } : {}),
    ...(templated ? { template: templated.template.id } : {}),
    ...(strength !== undefined && strength >= STRENGTH.min && strength <= STRENGTH.max ? { strength } : {}),
  };
  return { settings, ...(domain ? { domain } : {}), warnings };
}

/** A1111 writes "Sampler: DPM++ 2M" and "Schedule type: Karras"; ours is one name. Undefined: none we know. */
export function schedulerFromFields(fields: Record<string, string>): string | undefined {
  const sampler = fields['Sampler'];
  if (!sampler) return undefined;
  const schedule = fields['Schedule type'];
  return (schedule && resolveSchedulerName(`${sampler} ${schedule}`)) || resolveSchedulerName(sampler) || undefined;
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}…` : text;
}
