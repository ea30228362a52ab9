// The engine protocol: JSON-RPC over stdio between the extension host (client) and the
// engine child process (server). Pure types, validators and the typed requests and
// notifications (`EngineRequests`, `EngineNotifications`, see rpc.ts) both ends use; no transport
// here, so the webviews and tests can share it. Every message that crosses a process boundary is
// validated on arrival: params by the engine, replies and notifications by the extension.

import { BATCH, LORA, loraMultiplierProblem } from './limits';
import { SchedulerName } from './schedulerNames';
import {
  ValidationError,
  isOneOf,
  isRecord,
  optBoolean,
  optInteger,
  optNumber,
  optString,
  reqString,
} from './validate';

export const PROTOCOL_VERSION = 1;

export const PROVIDER_NAMES = ['cpu', 'webgpu', 'cuda', 'dml', 'coreml'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/** How the engine runs models; fixed for the life of an engine process. */
export interface EngineOptions {
  /** Intra-op threads; default: the physical core count. */
  threads?: number;
  provider?: ProviderName;
  /** Release each of text encoder, UNet and VAE right after its stage; guidance runs as two batch-1 UNet calls. */
  lowMemory?: boolean;
  /**
   * Keep every model session loaded between stages and jobs. Default: on for GPU providers; off
   * on the CPU, where one session is alive at a time (SD v1.5 then fits in about 4 GB).
   */
  keepSessions?: boolean;
  /**
   * The UNet's weights on the CPU. 'full' (the default): float32, diffusers' numbers. 'compact':
   * the MatMul weights as 8-bit blocks (0.7 GB less memory; images differ slightly). 'int8': the
   * convolutions in 8 bits too, activation ranges measured on the model (about half the UNet's
   * time; images differ more). Both are made from the model on first use and cached.
   */
  unetWeights?: UnetWeights;
}

export const UNET_WEIGHTS = ['full', 'compact', 'int8'] as const;
export type UnetWeights = (typeof UNET_WEIGHTS)[number];

/** Content domain; medical images always carry a visible "AI-generated" label. */
export type ContentDomain = 'general' | 'education' | 'medical';

export interface GenerateParams {
  /** Model folder in the diffusers ONNX layout. */
  model: string;
  prompt: string;
  negativePrompt?: string;
  /** Missing: a random seed, always reported back. Image i of a batch uses seed + i. */
  seed?: number;
  steps?: number;
  guidance?: number;
  width?: number;
  height?: number;
  /** Our name, an A1111 name or a diffusers class name; default: the model's scheduler_config. */
  scheduler?: string;
  batch?: number;
  /** A1111 emphasis syntax `(word:1.3)`; default true. */
  promptWeighting?: boolean;
  /** Exactly this file (only with batch 1). */
  outFile?: string;
  /** Or a folder where names are made from the prompt and seed. */
  outDir?: string;
  /**
   * The image must land inside this folder, compared by real paths (symbolic links resolved)
   * when it is written: the extension sends the document's workspace folder.
   */
  confineTo?: string;
  /** Replace an existing file instead of failing / picking a new name. */
  overwrite?: boolean;
  /** Send a cheap latent preview every N steps (0 or missing: none). */
  previewEvery?: number;
  /**
   * A TAESD folder (vae_decoder/model.onnx) to decode previews with; missing: the linear
   * latent-to-RGB approximation. One that cannot load gives a warning and the approximation.
   */
  previewDecoder?: string;
  /**
   * Decode the final image with previewDecoder (TAESD) instead of the model's VAE: a draft in
   * about a second instead of 15 s on a CPU, close to the full decode but not diffusers' image.
   */
  draft?: boolean;
  /** Write the final latents (before 1/scaling_factor) as a .npy float32 file. */
  saveLatents?: string;
  domain?: ContentDomain;
  /** The language of a medical image's visible label (the document's, core/domain.ts); default en. */
  labelLanguage?: 'en' | 'zh';
  /** Extra infotext pairs (template name, course, ...). */
  extraParameters?: Record<string, string>;
  /**
   * img2img / inpainting: the image to start from (a path the engine reads: PNG, JPEG). Without
   * width/height the output takes its size, rounded down to a multiple of 8.
   */
  initImage?: string;
  /** How much of the init image is changed, 0 to 1 (limits.ts STRENGTH); default 0.8, 1 with a mask. */
  strength?: number;
  /** Inpainting: a mask the size of the init image, white where it is repainted, black where it is kept. */
  mask?: string;
  /** LoRA files (.safetensors, kohya or PEFT keys) and their multipliers, besides the prompt's `<lora:NAME:MULT>` tags (limits.ts LORA). */
  loras?: { path: string; multiplier: number }[];
  /** Folders where `<lora:NAME>` finds NAME.safetensors, searched in order. */
  loraDirs?: string[];
}

export interface StageTimings {
  /** Session creation for this job; 0 when the sessions were warm. */
  loadMs: number;
  textEncoderMs: number;
  /** One entry per UNet step (all images). */
  unetStepMs: number[];
  /** The VAE decoder's runs. */
  vaeMs: number;
  /** The VAE encoder's run (img2img, inpainting); absent or 0 for text to image. */
  vaeEncodeMs?: number;
  saveMs: number;
  totalMs: number;
  /** Sum of time spent inside session.run. */
  sessionRunMs: number;
}

export interface GeneratedImage {
  path: string;
  seed: number;
  width: number;
  height: number;
  /** The A1111 `parameters` text written into the PNG. */
  infotext: string;
}

export interface GenerateResult {
  jobId: string;
  images: GeneratedImage[];
  timings: StageTimings;
  /** Prompt tokens without bos/eos (after emphasis parsing when it is on). */
  tokenCount: number;
  scheduler: SchedulerName;
  warnings: string[];
}

export interface ProgressEvent {
  jobId: string;
  /** 0-based index of the image in the batch. */
  image: number;
  images: number;
  /** Steps done, 1-based, and the number of UNet steps per image. */
  step: number;
  total: number;
  elapsedMs: number;
  etaMs: number;
  stage: 'load' | 'encode' | 'denoise' | 'decode' | 'save';
  /** Small PNG made from the latents without the VAE, base64. */
  preview?: { width: number; height: number; pngBase64: string };
}

export interface QueueEvent {
  jobId: string;
  /** 0 = running, n = n jobs ahead. */
  position: number;
}

export interface LogEvent {
  level: 'info' | 'warn' | 'error';
  message: string;
}

export interface TokenizeParams {
  model: string;
  text: string;
  promptWeighting?: boolean;
}

export interface TokenizeResult {
  /** The 77 ids the text encoder receives for the first window, padded as diffusers pads. */
  inputIds: number[];
  /** Prompt tokens without bos/eos. */
  count: number;
  /** 75-token windows used (at least 1). */
  windows: number;
  maxLength: number;
}

export interface InfoParams {
  path: string;
}

export interface ModelComponentInfo {
  name: string;
  file: string;
  bytes: number;
  inputs: { name: string; type: string; dims: (number | string)[] }[];
  outputs: { name: string; type: string; dims: (number | string)[] }[];
}

export interface ModelInfoResult {
  kind: 'model';
  path: string;
  components: ModelComponentInfo[];
  scheduler?: string;
  vaeScaleFactor: number;
  problems: string[];
}

export interface PngInfoResult {
  kind: 'png';
  path: string;
  width: number;
  height: number;
  /** The A1111 `parameters` chunk, if any. */
  parameters?: string;
  /** Parsed infotext pairs. */
  fields?: Record<string, string>;
  prompt?: string;
  negativePrompt?: string;
  /** True when XMP says IPTC trainedAlgorithmicMedia. */
  aiGenerated: boolean;
  madeByCourseIllustrator: boolean;
}

export type InfoResult = ModelInfoResult | PngInfoResult;

export interface ThumbnailParams {
  source: string;
  dest: string;
  size: number;
}

export interface ThumbnailResult {
  path: string;
  width: number;
  height: number;
}

export interface StatusResult {
  pid: number;
  protocolVersion: number;
  loadedModels: string[];
  queued: number;
  running?: string;
  provider: ProviderName;
  threads: number;
}

export interface CancelParams {
  jobId: string;
}

export interface CancelResult {
  /** False when the engine had no such job (not sent yet, or already done). */
  cancelled: boolean;
}

/** Application error codes carried in JSON-RPC error replies (`data.kind` repeats them as text). */
export const ErrorCodes = {
  badInput: 1001,
  modelError: 1002,
  outputError: 1003,
  cancelled: -32800, // LSP's RequestCancelled, which vscode-jsonrpc uses too
  internal: 1099,
} as const;

export function validateEngineOptions(x: unknown): EngineOptions {
  if (!isRecord(x)) throw new ValidationError('engine options must be an object');
  const provider = optString(x, 'provider');
  if (provider !== undefined && !(PROVIDER_NAMES as readonly string[]).includes(provider)) {
    throw new ValidationError(`provider must be one of ${PROVIDER_NAMES.join(', ')}, got "${provider}"`);
  }
  const threads = optInteger(x, 'threads', 1, 1024);
  const unetWeights = optString(x, 'unetWeights');
  if (unetWeights !== undefined && !(UNET_WEIGHTS as readonly string[]).includes(unetWeights)) {
    throw new ValidationError(`unetWeights must be one of ${UNET_WEIGHTS.join(', ')}, got "${unetWeights}"`);
  }
  return {
    provider: provider as ProviderName | undefined,
    threads,
    lowMemory: optBoolean(x, 'lowMemory'),
    keepSessions: optBoolean(x, 'keepSessions'),
    unetWeights: unetWeights as UnetWeights | undefined,
  };
}

export function validateGenerateParams(x: unknown): GenerateParams & { jobId: string } {
  if (!isRecord(x)) throw new ValidationError('generate parameters must be an object');
  const extra = x.extraParameters;
  if (extra !== undefined && (!isRecord(extra) || Object.values(extra).some((v) => typeof v !== 'string'))) {
    throw new ValidationError('extraParameters must map names to strings');
  }
  const domain = optString(x, 'domain');
  if (domain !== undefined && !['general', 'education', 'medical'].includes(domain)) {
    throw new ValidationError(`domain must be general, education or medical, got "${domain}"`);
  }
  const labelLanguage = optString(x, 'labelLanguage');
  if (labelLanguage !== undefined && labelLanguage !== 'en' && labelLanguage !== 'zh') {
    throw new ValidationError(`labelLanguage must be en or zh, got "${labelLanguage.slice(0, 20)}"`);
  }
  return {
    jobId: reqString(x, 'jobId'),
    model: reqString(x, 'model'),
    prompt: typeof x.prompt === 'string' ? x.prompt : reqString(x, 'prompt'),
    negativePrompt: optString(x, 'negativePrompt'),
    seed: optInteger(x, 'seed', 0, Number.MAX_SAFE_INTEGER),
    steps: optInteger(x, 'steps', -1e9, 1e9),
    guidance: optNumber(x, 'guidance'),
    width: optInteger(x, 'width', -1e9, 1e9),
    height: optInteger(x, 'height', -1e9, 1e9),
    scheduler: optString(x, 'scheduler'),
    batch: optInteger(x, 'batch', BATCH.min, BATCH.max),
    promptWeighting: optBoolean(x, 'promptWeighting'),
    outFile: optString(x, 'outFile'),
    outDir: optString(x, 'outDir'),
    confineTo: optString(x, 'confineTo'),
    overwrite: optBoolean(x, 'overwrite'),
    previewEvery: optInteger(x, 'previewEvery', 0, 1e6),
    previewDecoder: optString(x, 'previewDecoder'),
    draft: optBoolean(x, 'draft'),
    saveLatents: optString(x, 'saveLatents'),
    domain: domain as ContentDomain | undefined,
    labelLanguage: labelLanguage as GenerateParams['labelLanguage'],
    extraParameters: extra as Record<string, string> | undefined,
    initImage: optString(x, 'initImage'),
    strength: optNumber(x, 'strength'),
    mask: optString(x, 'mask'),
    loras: optLoras(x),
    loraDirs: optStringList(x, 'loraDirs', LORA.maxDirs),
  };
}

function optLoras(x: Record<string, unknown>): GenerateParams['loras'] {
  const v = x.loras;
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new ValidationError('loras must be a list of { path, multiplier }');
  if (v.length > LORA.maxCount) throw new ValidationError(`loras has ${v.length} entries; at most ${LORA.maxCount} LoRAs are allowed`);
  return v.map((e: unknown, i) => {
    if (!isRecord(e)) throw new ValidationError(`loras[${i}] must be an object { path, multiplier }`);
    const multiplier = optNumber(e, 'multiplier') ?? LORA.multiplier.default;
    const problem = loraMultiplierProblem(multiplier);
    if (problem) throw new ValidationError(`loras[${i}].multiplier ${problem}, got ${multiplier}`);
    return { path: reqString(e, 'path'), multiplier };
  });
}

function optStringList(x: Record<string, unknown>, key: string, max: number): string[] | undefined {
  const v = x[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw new ValidationError(`${key} must be a list of strings`);
  if (v.length > max) throw new ValidationError(`${key} has ${v.length} entries; at most ${max} are allowed`);
  return v as string[];
}

export function validateTokenizeParams(x: unknown): TokenizeParams {
  if (!isRecord(x)) throw new ValidationError('tokenize parameters must be an object');
  return {
    model: reqString(x, 'model'),
    text: typeof x.text === 'string' ? x.text : reqString(x, 'text'),
    promptWeighting: optBoolean(x, 'promptWeighting'),
  };
}

export function validateProgressEvent(x: unknown): ProgressEvent {
  if (!isRecord(x)) throw new ValidationError('progress must be an object');
  const stage = reqString(x, 'stage');
  if (!['load', 'encode', 'denoise', 'decode', 'save'].includes(stage)) {
    throw new ValidationError(`unknown progress stage "${stage}"`);
  }
  let preview: ProgressEvent['preview'];
  if (x.preview !== undefined) {
    if (!isRecord(x.preview)) throw new ValidationError('preview must be an object');
    preview = {
      width: optInteger(x.preview, 'width', 1, 1 << 16) ?? 0,
      height: optInteger(x.preview, 'height', 1, 1 << 16) ?? 0,
      pngBase64: reqString(x.preview, 'pngBase64'),
    };
  }
  return {
    jobId: reqString(x, 'jobId'),
    image: optInteger(x, 'image', 0, 1e6) ?? 0,
    images: optInteger(x, 'images', 1, 1e6) ?? 1,
    step: optInteger(x, 'step', 0, 1e9) ?? 0,
    total: optInteger(x, 'total', 0, 1e9) ?? 0,
    elapsedMs: optNumber(x, 'elapsedMs') ?? 0,
    etaMs: optNumber(x, 'etaMs') ?? 0,
    stage: stage as ProgressEvent['stage'],
    preview,
  };
}

function params(x: unknown): Record<string, unknown> {
  if (!isRecord(x)) throw new ValidationError('parameters must be an object');
  return x;
}

export function validateInfoParams(x: unknown): InfoParams {
  return { path: reqString(params(x), 'path') };
}

export function validateThumbnailParams(x: unknown): ThumbnailParams {
  const r = params(x);
  return { source: reqString(r, 'source'), dest: reqString(r, 'dest'), size: optInteger(r, 'size', 16, 2048) ?? 256 };
}

export function validateCancelParams(x: unknown): CancelParams {
  return { jobId: reqString(params(x), 'jobId') };
}

/** Requests without parameters accept whatever comes (vscode-jsonrpc may send none). */
export function noParams(): Record<string, never> {
  return {};
}

// ---- replies and notifications from the engine. The engine is another process (maybe another
// version): a malformed reply becomes a clear error instead of undefined later. ----

const LOG_LEVELS: readonly LogEvent['level'][] = ['info', 'warn', 'error'];

function rec(x: unknown, what: string): Record<string, unknown> {
  if (!isRecord(x)) throw new ValidationError(`${what} must be an object`);
  return x;
}

function reqInt(o: Record<string, unknown>, key: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = optInteger(o, key, min, max);
  if (v === undefined) throw new ValidationError(`"${key}" is missing`);
  return v;
}

function reqNum(o: Record<string, unknown>, key: string): number {
  const v = optNumber(o, key);
  if (v === undefined) throw new ValidationError(`"${key}" is missing`);
  return v;
}

function strings(x: unknown, key: string): string[] {
  if (x === undefined) return [];
  if (!Array.isArray(x) || x.some((s) => typeof s !== 'string')) throw new ValidationError(`"${key}" must be a list of strings`);
  return x as string[];
}

export function validateStatusResult(x: unknown): StatusResult {
  const o = rec(x, 'status');
  const provider = reqString(o, 'provider');
  if (!isOneOf(PROVIDER_NAMES, provider)) throw new ValidationError(`unknown provider "${provider}"`);
  return {
    pid: reqInt(o, 'pid', 1),
    protocolVersion: reqInt(o, 'protocolVersion'),
    loadedModels: strings(o.loadedModels, 'loadedModels'),
    queued: optInteger(o, 'queued', 0, 1e9) ?? 0,
    running: optString(o, 'running'),
    provider,
    threads: optInteger(o, 'threads', 0, 4096) ?? 0,
  };
}

function validateTimings(x: unknown): StageTimings {
  const o = rec(x, 'timings');
  const steps = o.unetStepMs ?? [];
  if (!Array.isArray(steps) || steps.some((n) => typeof n !== 'number')) throw new ValidationError('"unetStepMs" must be a list of numbers');
  return {
    loadMs: reqNum(o, 'loadMs'),
    textEncoderMs: optNumber(o, 'textEncoderMs') ?? 0,
    unetStepMs: steps as number[],
    vaeMs: optNumber(o, 'vaeMs') ?? 0,
    vaeEncodeMs: optNumber(o, 'vaeEncodeMs') ?? 0,
    saveMs: optNumber(o, 'saveMs') ?? 0,
    totalMs: reqNum(o, 'totalMs'),
    sessionRunMs: optNumber(o, 'sessionRunMs') ?? 0,
  };
}

function validateImage(x: unknown): GeneratedImage {
  const o = rec(x, 'image');
  return {
    path: reqString(o, 'path'),
    seed: reqInt(o, 'seed'),
    width: reqInt(o, 'width', 1),
    height: reqInt(o, 'height', 1),
    infotext: optString(o, 'infotext') ?? '',
  };
}

/** The reply to the generate request `sent`: it must be about the same job. */
export function validateGenerateResult(x: unknown, sent: { jobId: string }): GenerateResult {
  const o = rec(x, 'generate result');
  if (!Array.isArray(o.images) || o.images.length === 0) throw new ValidationError('"images" must be a non-empty list');
  const replyJob = optString(o, 'jobId') ?? sent.jobId;
  if (replyJob !== sent.jobId) throw new ValidationError(`reply is for job ${replyJob}, expected ${sent.jobId}`);
  return {
    jobId: sent.jobId,
    images: o.images.map(validateImage),
    timings: validateTimings(o.timings),
    tokenCount: optInteger(o, 'tokenCount', 0, 1e6) ?? 0,
    scheduler: reqString(o, 'scheduler') as GenerateResult['scheduler'],
    warnings: strings(o.warnings, 'warnings'),
  };
}

export function validateTokenizeResult(x: unknown): TokenizeResult {
  const o = rec(x, 'tokenize result');
  if (!Array.isArray(o.inputIds) || o.inputIds.some((n) => !Number.isInteger(n))) throw new ValidationError('"inputIds" must be a list of integers');
  return {
    inputIds: o.inputIds as number[],
    count: reqInt(o, 'count'),
    windows: optInteger(o, 'windows', 0, 1e6) ?? 1,
    maxLength: optInteger(o, 'maxLength', 0, 1e6) ?? 77,
  };
}

export function validateInfoResult(x: unknown): InfoResult {
  const o = rec(x, 'info result');
  const kind = reqString(o, 'kind');
  if (kind === 'png') {
    let fields: Record<string, string> | undefined;
    if (o.fields !== undefined) {
      const f = rec(o.fields, 'fields');
      fields = {};
      for (const [k, v] of Object.entries(f)) fields[k] = String(v);
    }
    return {
      kind: 'png',
      path: reqString(o, 'path'),
      width: optInteger(o, 'width', 0, 1 << 20) ?? 0,
      height: optInteger(o, 'height', 0, 1 << 20) ?? 0,
      parameters: optString(o, 'parameters'),
      fields,
      prompt: optString(o, 'prompt'),
      negativePrompt: optString(o, 'negativePrompt'),
      aiGenerated: optBoolean(o, 'aiGenerated') ?? false,
      madeByCourseIllustrator: optBoolean(o, 'madeByCourseIllustrator') ?? false,
    };
  }
  if (kind === 'model') {
    if (!Array.isArray(o.components)) throw new ValidationError('"components" must be a list');
    return {
      kind: 'model',
      path: reqString(o, 'path'),
      components: o.components.map((c) => {
        const r = rec(c, 'component');
        return { name: reqString(r, 'name'), file: optString(r, 'file') ?? '', bytes: optNumber(r, 'bytes') ?? 0, inputs: Array.isArray(r.inputs) ? (r.inputs as ModelComponentInfo['inputs']) : [], outputs: Array.isArray(r.outputs) ? (r.outputs as ModelComponentInfo['outputs']) : [] };
      }),
      scheduler: optString(o, 'scheduler'),
      vaeScaleFactor: optNumber(o, 'vaeScaleFactor') ?? 8,
      problems: strings(o.problems, 'problems'),
    };
  }
  throw new ValidationError(`unknown info kind "${kind}"`);
}

export function validateThumbnailResult(x: unknown): ThumbnailResult {
  const o = rec(x, 'thumbnail result');
  return { path: reqString(o, 'path'), width: reqInt(o, 'width', 1), height: reqInt(o, 'height', 1) };
}

export function validateCancelResult(x: unknown): CancelResult {
  const o = rec(x, 'cancel result');
  if (typeof o.cancelled !== 'boolean') throw new ValidationError(`cancel result: "cancelled" must be true or false, got ${JSON.stringify(o.cancelled)}`);
  return { cancelled: o.cancelled };
}

/** engine/shutdown answers nothing (null on the wire). */
export function noResult(): void {
  return undefined;
}

export function validateQueueEvent(x: unknown): QueueEvent {
  const o = rec(x, 'queue event');
  return { jobId: reqString(o, 'jobId'), position: reqInt(o, 'position') };
}

/** Lenient: a log line is shown whatever its level says. */
export function validateLogEvent(x: unknown): LogEvent {
  const o = rec(x, 'log event');
  const level = optString(o, 'level') ?? 'info';
  return { level: isOneOf(LOG_LEVELS, level) ? level : 'info', message: String(o.message ?? '') };
}
