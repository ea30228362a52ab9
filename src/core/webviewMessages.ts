// Messages between the extension host and the two webviews (results panel, gallery).
// Discriminated unions on `type`, in the style of markdown-language-features' previewMessaging.
// Everything that comes FROM a webview is untrusted: it passes a `validate*` function before use,
// and it names images only by ids the extension handed out, never by file paths.

import {
  BATCH,
  DEFAULTS,
  GUIDANCE,
  NEGATIVE_PROMPT,
  PROMPT,
  SEED,
  SIZE,
  STEPS,
  STRENGTH,
  batchProblem,
  clampGenerationValues,
  clampLength,
  guidanceProblem,
  lengthProblem,
  seedProblem,
  sizeProblem,
  stepsProblem,
  strengthProblem,
} from './limits';
import * as l10n from '@vscode/l10n';
import type { GenerationSettings } from './generationSettings';
import { cleanPromptText } from './sanitize';
import { SCHEDULER_NAMES, SchedulerName } from './schedulerNames';
import { TEMPLATE_IDS, type PromptTemplate, isTemplateId } from './templates';
import { TRANSLATE_MAX_CHARS } from './translateProtocol';
import { USER_TEMPLATE_ID } from './userTemplates';
import { ValidationError, isRecord, optBoolean, optInteger, optNumber, optString, reqString } from './validate';

export { sizeProblem } from './limits';

// ---------------------------------------------------------------- shared shapes

export type SchedulerChoice = 'default' | SchedulerName;
export const SCHEDULER_CHOICES: readonly SchedulerChoice[] = ['default', ...SCHEDULER_NAMES];

/** The form's limits, as the panel's HTML and the gallery read them; the values live in limits.ts. */
export const LIMITS = {
  minSize: SIZE.min,
  maxSize: SIZE.max,
  maxSteps: STEPS.max,
  maxGuidance: GUIDANCE.max,
  maxBatch: BATCH.max,
  maxSeed: SEED.max,
  maxPromptChars: PROMPT.maxChars,
  maxNegativePromptChars: NEGATIVE_PROMPT.maxChars,
  maxStrength: STRENGTH.max,
} as const;

/**
 * Images the panel may send the extension: a dropped or pasted source image, a painted mask.
 * Base64 characters, so about 3/4 of this in bytes (a 2048 x 2048 photo as PNG fits).
 */
export const MAX_SOURCE_BASE64 = 24 * 2 ** 20;
export const MAX_MASK_BASE64 = 8 * 2 ** 20;

export const SIZE_PRESETS: readonly { width: number; height: number }[] = [
  { width: 512, height: 512 },
  { width: 768, height: 512 },
  { width: 512, height: 768 },
];

/**
 * The form in the results panel, also what "Reuse these settings" fills in: the generation
 * settings (generationSettings.ts) with every field the form shows filled in, and the seed lock.
 * `template` is applied to `prompt` when the job starts (the prompt stays the subject); '' is
 * none. `strength` is used only while the panel has a source image; with `fast`, steps, guidance
 * and scheduler are not used.
 */
export interface PanelSettings extends GenerationSettings {
  negativePrompt: string;
  width: number;
  height: number;
  steps: number;
  guidance: number;
  scheduler: SchedulerChoice;
  /** Locked: keep the seed between jobs; unlocked: the last job's seed is shown but a new one is drawn. */
  seedLocked: boolean;
  batch: number;
}

/** The image the panel redraws (img2img) or repaints part of (inpainting); `uri` is a webview URI. */
export interface SourceImage {
  id: string;
  uri: string;
  fileName: string;
}

/** One finished image as the panel shows it; `uri` is a webview URI, `id` is the handle for actions. */
export interface ResultImage {
  id: string;
  uri: string;
  fileName: string;
  width: number;
  height: number;
  seed: number;
  settings: PanelSettings;
  infotext: string;
  /** Webview URI of the image it was redrawn from, for the before/after comparison. */
  sourceUri?: string;
  /** It was inpainted (only the painted part changed), not redrawn as a whole. */
  inpainted?: boolean;
}

export interface QueuedJob {
  jobId: string;
  prompt: string;
  /** 0 = running, n = n jobs ahead. */
  position: number;
}

export interface TokenInfo {
  count: number;
  windows: number;
  /** "31/75", "90/150". */
  text: string;
  over: boolean;
}

export type ImageAction = 'insert' | 'copyMarkdown' | 'saveAs' | 'regenerate' | 'reuse' | 'showParameters' | 'redraw';
export const IMAGE_ACTIONS: readonly ImageAction[] = ['insert', 'copyMarkdown', 'saveAs', 'regenerate', 'reuse', 'showParameters', 'redraw'];

export type GalleryAction = 'insert' | 'copyMarkdown' | 'reveal' | 'regenerate' | 'openInPanel' | 'redraw' | 'delete' | 'open';
export const GALLERY_ACTIONS: readonly GalleryAction[] = ['insert', 'copyMarkdown', 'reveal', 'regenerate', 'openInPanel', 'redraw', 'delete', 'open'];

/** What the empty gallery offers to start with. */
export type GalleryStart = 'generate' | 'openPanel' | 'illustrateAll' | 'walkthrough';
export const GALLERY_STARTS: readonly GalleryStart[] = ['generate', 'openPanel', 'illustrateAll', 'walkthrough'];

/** Which images the gallery lists: all, or those no Markdown document links (core/imageLinks.ts). */
export type GalleryFilter = 'all' | 'unlinked';
export const GALLERY_FILTERS: readonly GalleryFilter[] = ['all', 'unlinked'];

export interface GalleryCard {
  id: string;
  fileName: string;
  /** Workspace-relative path, for display only. */
  label: string;
  prompt: string;
  mtimeMs: number;
  width: number;
  height: number;
  /** Webview URI of the full image (for the preview). */
  imageUri: string;
  /** Webview URI of the cached thumbnail, when it exists already. */
  thumbUri?: string;
  /** True when no Markdown document links it; missing until the documents were read. */
  unlinked?: boolean;
  /** Workspace-relative paths of (some of) the documents that link or name it. */
  linkedFrom?: readonly string[];
}

// ---------------------------------------------------------------- panel

export namespace ToPanel {
  export interface Init {
    readonly type: 'init';
    readonly settings: PanelSettings;
    /** True when `settings` is a prefill that must win over the webview's own saved form. */
    readonly prefilled: boolean;
    readonly results: readonly ResultImage[];
    readonly queue: readonly QueuedJob[];
    readonly target?: string;
    readonly trusted: boolean;
  }
  export interface Prefill {
    readonly type: 'prefill';
    readonly settings: Partial<PanelSettings>;
    /** Start generating at once (CodeLens "Generate"). */
    readonly generate?: boolean;
  }
  export interface Tokens {
    readonly type: 'tokens';
    readonly field: 'prompt' | 'negativePrompt';
    readonly requestId: number;
    readonly info?: TokenInfo;
    readonly error?: string;
  }
  export interface Queue {
    readonly type: 'queue';
    readonly jobs: readonly QueuedJob[];
  }
  export interface Progress {
    readonly type: 'progress';
    readonly jobId: string;
    readonly image: number;
    readonly images: number;
    readonly step: number;
    readonly total: number;
    readonly etaMs: number;
    readonly stage: string;
    /** Small base64 PNG; the webview turns it into a blob: URL. */
    readonly previewPng?: string;
  }
  export interface Results {
    readonly type: 'results';
    readonly jobId: string;
    readonly images: readonly ResultImage[];
    /** The seed the job used, shown in the seed box when it is not locked. */
    readonly seed: number;
  }
  export interface JobEnded {
    readonly type: 'jobEnded';
    readonly jobId: string;
    readonly outcome: 'done' | 'cancelled' | 'failed';
    readonly message?: string;
  }
  export interface Target {
    readonly type: 'target';
    readonly target?: string;
  }
  export interface Notice {
    readonly type: 'notice';
    readonly level: 'info' | 'error';
    readonly message: string;
  }
  /** Variations made elsewhere (CodeLens, command): the user picks one, or none. */
  export interface Choose {
    readonly type: 'choose';
    readonly requestId: number;
    readonly title: string;
    readonly images: readonly ResultImage[];
  }
  export interface ChooseEnded {
    readonly type: 'chooseEnded';
    readonly requestId: number;
  }
  /**
   * The medical label as the target document declares it (front matter, setting); the form
   * adds its template's. `declaredBy` names who turned it on.
   */
  export interface Label {
    readonly type: 'label';
    readonly medical: boolean;
    readonly declaredBy?: string;
    /** A Markdown document is the target, so "Label this document" can declare it there. */
    readonly canDeclare: boolean;
  }
  /** LoRA names from courseIllustrator.loraFolders, for "Add a LoRA" (`<lora:NAME:1>` in the prompt). */
  export interface Loras {
    readonly type: 'loras';
    readonly names: readonly string[];
  }
  /** The teacher's own templates (.course-illustrator/templates.json), offered after the built-in ones. */
  export interface Templates {
    readonly type: 'templates';
    readonly templates: readonly PromptTemplate[];
  }
  /** The source image to redraw or repaint; undefined: none (text to image). */
  export interface Source {
    readonly type: 'source';
    readonly source?: SourceImage;
  }
  /** The answer to FromPanel.Translate: the English for the English prompt field, or why there is none. */
  export interface Translated {
    readonly type: 'translated';
    readonly requestId: number;
    readonly text?: string;
    readonly error?: string;
  }
  export type Type = Init | Prefill | Tokens | Queue | Progress | Results | JobEnded | Target | Notice | Choose | ChooseEnded | Source | Label | Loras | Templates | Translated;
}

export namespace FromPanel {
  export interface Ready {
    readonly type: 'ready';
  }
  export interface Tokenize {
    readonly type: 'tokenize';
    readonly field: 'prompt' | 'negativePrompt';
    readonly requestId: number;
    readonly text: string;
  }
  export interface Generate {
    readonly type: 'generate';
    readonly settings: PanelSettings;
    /** Start from the panel's source image (its id, as the last 'source' message gave it). */
    readonly source?: {
      readonly id: string;
      /** Inpainting: a PNG as base64, white where the image is repainted, black where it is kept. */
      readonly maskPng?: string;
    };
  }
  /** "Choose image…": the extension shows an open dialog. */
  export interface PickSource {
    readonly type: 'pickSource';
  }
  /** An image dropped or pasted into the panel, as its bytes (base64); `name` only labels it. */
  export interface DropSource {
    readonly type: 'dropSource';
    readonly name: string;
    readonly dataBase64: string;
  }
  /** A file or image link dragged from VS Code (its explorer or an editor): a URI to check. */
  export interface DropUri {
    readonly type: 'dropUri';
    readonly uri: string;
  }
  export interface ClearSource {
    readonly type: 'clearSource';
  }
  /** "Label this document": declare the target document medical in its front matter. */
  export interface DeclareMedical {
    readonly type: 'declareMedical';
  }
  export interface Cancel {
    readonly type: 'cancel';
    /** Missing: the running job. */
    readonly jobId?: string;
  }
  export interface Action {
    readonly type: 'imageAction';
    readonly action: ImageAction;
    readonly imageId: string;
  }
  export interface ClearResults {
    readonly type: 'clearResults';
  }
  export interface Choice {
    readonly type: 'choice';
    readonly requestId: number;
    /** Missing: none of them. */
    readonly imageId?: string;
  }
  /** "Translate": the prompt (with Chinese in it) to English, by the local translation model. */
  export interface Translate {
    readonly type: 'translate';
    readonly requestId: number;
    readonly text: string;
  }
  export type Type = Ready | Tokenize | Generate | Cancel | Action | ClearResults | Choice | PickSource | DropSource | DropUri | ClearSource | DeclareMedical | Translate;
}

// ---------------------------------------------------------------- gallery

export namespace ToGallery {
  export interface Page {
    readonly type: 'page';
    readonly requestId: number;
    readonly query: string;
    readonly offset: number;
    readonly total: number;
    readonly items: readonly GalleryCard[];
    /** Files still being scanned; the list grows. */
    readonly scanning: boolean;
  }
  export interface Thumbs {
    readonly type: 'thumbs';
    readonly thumbs: readonly { id: string; uri: string }[];
  }
  /** The index changed (file created, changed or deleted): ask again for what is shown. */
  export interface Changed {
    readonly type: 'changed';
    readonly total: number;
    readonly scanning: boolean;
  }
  export interface Notice {
    readonly type: 'notice';
    readonly level: 'info' | 'error';
    readonly message: string;
  }
  export type Type = Page | Thumbs | Changed | Notice;
}

export namespace FromGallery {
  export interface Ready {
    readonly type: 'ready';
  }
  export interface Query {
    readonly type: 'query';
    readonly requestId: number;
    readonly query: string;
    readonly offset: number;
    readonly limit: number;
    readonly filter: GalleryFilter;
  }
  export interface Thumbs {
    readonly type: 'thumbs';
    readonly ids: readonly string[];
  }
  export interface Action {
    readonly type: 'action';
    readonly action: GalleryAction;
    readonly id: string;
  }
  /** The "Move Unlinked Images to Trash…" button (the extension asks first). */
  export interface CleanUp {
    readonly type: 'cleanUp';
  }
  /** A button of the empty gallery: one of a few fixed starting points, never a command id. */
  export interface Start {
    readonly type: 'start';
    readonly what: GalleryStart;
  }
  export type Type = Ready | Query | Thumbs | Action | CleanUp | Start;
}

// ---------------------------------------------------------------- validators (webview -> extension)

const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_PAGE = 200;
export const MAX_THUMBS_PER_REQUEST = 100;

function reqId(o: Record<string, unknown>, key: string): string {
  const v = reqString(o, key);
  if (!ID_RE.test(v)) throw new ValidationError(`"${key}" must be an id handed out by the extension, got "${v.slice(0, 80)}"`);
  return v;
}

function textField(o: Record<string, unknown>, key: string, maxChars: number): string {
  const v = optString(o, key) ?? '';
  const problem = lengthProblem(v, maxChars);
  if (problem) throw new ValidationError(`"${key}" ${problem}`);
  return v;
}

function oneOf<T extends string>(o: Record<string, unknown>, key: string, allowed: readonly T[]): T {
  const v = reqString(o, key);
  if (!(allowed as readonly string[]).includes(v)) {
    throw new ValidationError(`"${key}" must be one of ${allowed.join(', ')}, got "${v.slice(0, 80)}"`);
  }
  return v as T;
}

/** A problem with one field of the panel's form. */
export interface SettingsProblem {
  field: 'prompt' | 'negativePrompt' | 'width' | 'height' | 'steps' | 'guidance' | 'seed' | 'batch' | 'strength';
  /** The end of a sentence: `"steps" ${problem}` in a validator, `Steps ${problem}.` in the form. */
  problem: string;
}

/** The field names as the form shows them (translated when a translator is set, see l10n.ts). */
export function fieldLabel(field: SettingsProblem['field']): string {
  switch (field) {
    case 'prompt':
      return l10n.t('Prompt');
    case 'negativePrompt':
      return l10n.t('Negative prompt');
    case 'width':
      return l10n.t('Width');
    case 'height':
      return l10n.t('Height');
    case 'steps':
      return l10n.t('Steps');
    case 'guidance':
      return l10n.t('Guidance');
    case 'seed':
      return l10n.t('Seed');
    case 'batch':
      return l10n.t('Batch count');
    case 'strength':
      return l10n.t('Strength');
  }
}

/**
 * Every value of the form that is out of range (limits.ts), in the form's order. The webview
 * shows these while the user types; validatePanelSettings refuses the first one. An empty prompt
 * is not a problem here (the form only disables Generate; a generate message refuses it).
 */
export function panelSettingsProblems(s: PanelSettings): SettingsProblem[] {
  const out: SettingsProblem[] = [];
  const add = (field: SettingsProblem['field'], problem: string | undefined) => problem && out.push({ field, problem });
  add('prompt', lengthProblem(s.prompt, PROMPT.maxChars));
  add('negativePrompt', lengthProblem(s.negativePrompt, NEGATIVE_PROMPT.maxChars));
  add('width', sizeProblem(s.width));
  add('height', sizeProblem(s.height));
  add('steps', stepsProblem(s.steps));
  add('guidance', guidanceProblem(s.guidance));
  if (s.seed !== undefined) add('seed', seedProblem(s.seed) && l10n.t('{0}, or empty for a random one', seedProblem(s.seed) ?? ''));
  add('batch', batchProblem(s.batch));
  if (s.strength !== undefined) {
    // diffusers runs int(steps x strength) of the steps: none would leave the image as it is.
    const none = !strengthProblem(s.strength) && !stepsProblem(s.steps) && Math.trunc(s.steps * s.strength) < 1;
    add('strength', strengthProblem(s.strength) ?? (none ? l10n.t('leaves no step to run with {0} steps (use {1} or more)', s.steps, Math.ceil(100 / s.steps) / 100) : undefined));
  }
  return out;
}

/** A problem as the form says it: "Steps must be a whole number from 1 to 150." */
export function problemText(p: SettingsProblem): string {
  return l10n.t('{0} {1}.', fieldLabel(p.field), p.problem);
}

/**
 * Form values from outside the form (a PNG's metadata through the gallery, another extension's
 * openPanel argument) brought within the limits before the form shows them: prompts cleaned
 * (sanitize.ts) and cut to length, numbers clamped (limits.ts). Only the keys given come back.
 * Each change is one warning that names `source` (a plural noun phrase: "the image's parameters").
 */
export function clampPanelPrefill(p: Partial<PanelSettings>, source: string): { settings: Partial<PanelSettings>; warnings: string[] } {
  const settings: Partial<PanelSettings> = { ...p };
  const warnings: string[] = [];
  const text = (key: 'prompt' | 'negativePrompt', maxChars: number, what: string) => {
    const v = p[key];
    if (v === undefined) return;
    const cut = clampLength(cleanPromptText(v), maxChars, `the ${what} in ${source}`);
    settings[key] = cut.text;
    if (cut.warning) warnings.push(cut.warning);
  };
  text('prompt', PROMPT.maxChars, 'prompt');
  text('negativePrompt', NEGATIVE_PROMPT.maxChars, 'negative prompt');
  const numbers = clampGenerationValues({ width: p.width, height: p.height, steps: p.steps, guidance: p.guidance, batch: p.batch, seed: p.seed }, source);
  for (const key of ['width', 'height', 'steps', 'guidance', 'batch', 'seed'] as const) {
    if (!(key in p) || p[key] === undefined) continue;
    if (numbers.values[key] === undefined) delete settings[key];
    else settings[key] = numbers.values[key];
  }
  warnings.push(...numbers.warnings);
  return { settings, warnings };
}

export function validatePanelSettings(x: unknown): PanelSettings {
  if (!isRecord(x)) throw new ValidationError('settings must be an object');
  const number = (key: string, fallback: number): number => optNumber(x, key) ?? fallback;
  const seed = optNumber(x, 'seed');
  const settings: PanelSettings = {
    prompt: textField(x, 'prompt', PROMPT.maxChars),
    negativePrompt: textField(x, 'negativePrompt', NEGATIVE_PROMPT.maxChars),
    width: number('width', DEFAULTS.width),
    height: number('height', DEFAULTS.height),
    steps: number('steps', DEFAULTS.steps),
    guidance: number('guidance', DEFAULTS.guidance),
    scheduler: x.scheduler === undefined ? 'default' : oneOf(x, 'scheduler', SCHEDULER_CHOICES),
    seed,
    seedLocked: optBoolean(x, 'seedLocked') ?? false,
    batch: number('batch', DEFAULTS.batch),
    ...templateField(x),
    ...(optNumber(x, 'strength') === undefined ? {} : { strength: optNumber(x, 'strength') }),
    ...(optBoolean(x, 'fast') === undefined ? {} : { fast: optBoolean(x, 'fast') }),
    ...(optString(x, 'modelPrompt') ? { modelPrompt: textField(x, 'modelPrompt', PROMPT.maxChars) } : {}),
  };
  const [first] = panelSettingsProblems(settings);
  if (first) {
    const got = first.field === 'prompt' || first.field === 'negativePrompt' ? '' : `, got ${settings[first.field]}`;
    throw new ValidationError(`"${first.field}" ${first.problem}${got}`);
  }
  return settings;
}

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** Base64 text of at most `max` characters, without a data: prefix. */
function base64Field(o: Record<string, unknown>, key: string, max: number): string {
  const v = reqString(o, key);
  if (v.length > max) throw new ValidationError(`"${key}" is larger than ${Math.round((max * 3) / 4 / 2 ** 20)} MiB; use a smaller image`);
  if (v.length % 4 !== 0 || !BASE64_RE.test(v)) throw new ValidationError(`"${key}" must be base64 without a data: prefix`);
  return v;
}

function sourceField(x: unknown): { id: string; maskPng?: string } {
  if (!isRecord(x)) throw new ValidationError('"source" must be an object');
  const id = reqId(x, 'id');
  return x.maskPng === undefined ? { id } : { id, maskPng: base64Field(x, 'maskPng', MAX_MASK_BASE64) };
}

/**
 * `{ template }` for a known template id (named, composed, or shaped like a teacher's own, which
 * the extension then looks up), `{}` for none.
 */
function templateField(o: Record<string, unknown>): { template?: string } {
  const v = optString(o, 'template');
  if (v === undefined || v === '') return {};
  if (!isTemplateId(v) && !USER_TEMPLATE_ID.test(v)) {
    throw new ValidationError(
      `"template" must be empty, one of ${TEMPLATE_IDS.join(', ')}, a composed edu.LEVEL.SUBJECT.TYPE or med.MODALITY.VIEW whose parts exist, or the id of your own, got "${v.slice(0, 80)}"`,
    );
  }
  return { template: v };
}

/** A webview's reply id for request/response pairs; 0 when it sent none. */
function requestIdOf(o: Record<string, unknown>): number {
  return optInteger(o, 'requestId', 0, Number.MAX_SAFE_INTEGER) ?? 0;
}

/** The message as a record and its `type`; `from` names the webview in errors. */
function typedMessage(x: unknown, from: 'panel' | 'gallery'): { x: Record<string, unknown>; type: string } {
  if (!isRecord(x)) throw new ValidationError(`${from} message must be an object`);
  return { x, type: reqString(x, 'type') };
}

function unknownType(type: string, from: 'panel' | 'gallery'): ValidationError {
  return new ValidationError(`unknown ${from} message type "${type.slice(0, 80)}"`);
}

export function validateFromPanel(raw: unknown): FromPanel.Type {
  const { x, type } = typedMessage(raw, 'panel');
  switch (type) {
    case 'ready':
      return { type };
    case 'clearResults':
      return { type };
    case 'tokenize':
      return {
        type,
        field: oneOf(x, 'field', ['prompt', 'negativePrompt'] as const),
        requestId: requestIdOf(x),
        // The prompt as the model reads it: a template's words may be around it.
        text: textField(x, 'text', Math.max(PROMPT.maxWithTemplate, NEGATIVE_PROMPT.maxChars)),
      };
    case 'generate': {
      const settings = validatePanelSettings(x.settings);
      if (settings.prompt.trim() === '') throw new ValidationError('"prompt" must not be empty');
      return x.source === undefined ? { type, settings } : { type, settings, source: sourceField(x.source) };
    }
    case 'pickSource':
    case 'clearSource':
    case 'declareMedical':
      return { type };
    case 'dropSource':
      return { type, name: (optString(x, 'name') ?? '').slice(0, 200), dataBase64: base64Field(x, 'dataBase64', MAX_SOURCE_BASE64) };
    case 'dropUri': {
      const uri = reqString(x, 'uri');
      if (uri.length > 4096) throw new ValidationError('"uri" is longer than 4096 characters');
      return { type, uri };
    }
    case 'cancel':
      return { type, jobId: x.jobId === undefined ? undefined : reqId(x, 'jobId') };
    case 'imageAction':
      return { type, action: oneOf(x, 'action', IMAGE_ACTIONS), imageId: reqId(x, 'imageId') };
    case 'choice':
      return { type, requestId: requestIdOf(x), imageId: x.imageId === undefined || x.imageId === null ? undefined : reqId(x, 'imageId') };
    case 'translate': {
      const text = textField(x, 'text', TRANSLATE_MAX_CHARS);
      if (text.trim() === '') throw new ValidationError('"text" must not be empty');
      return { type, requestId: requestIdOf(x), text };
    }
    default:
      throw unknownType(type, 'panel');
  }
}

export function validateFromGallery(raw: unknown): FromGallery.Type {
  const { x, type } = typedMessage(raw, 'gallery');
  switch (type) {
    case 'ready':
      return { type };
    case 'query':
      return {
        type,
        requestId: requestIdOf(x),
        query: (optString(x, 'query') ?? '').slice(0, 500),
        offset: optInteger(x, 'offset', 0, 1e9) ?? 0,
        limit: optInteger(x, 'limit', 1, MAX_PAGE) ?? 60,
        filter: x.filter === undefined ? 'all' : oneOf(x, 'filter', GALLERY_FILTERS),
      };
    case 'thumbs': {
      const ids = x.ids;
      if (!Array.isArray(ids) || ids.length > MAX_THUMBS_PER_REQUEST) {
        throw new ValidationError(`"ids" must be an array of at most ${MAX_THUMBS_PER_REQUEST} ids`);
      }
      return { type, ids: ids.map((id, i) => reqId({ [`ids[${i}]`]: id }, `ids[${i}]`)) };
    }
    case 'action':
      return { type, action: oneOf(x, 'action', GALLERY_ACTIONS), id: reqId(x, 'id') };
    case 'cleanUp':
      return { type };
    case 'start':
      return { type, what: oneOf(x, 'what', GALLERY_STARTS) };
    default:
      throw unknownType(type, 'gallery');
  }
}
