// The models/* part of the engine protocol: list, pull (download from the Hugging Face hub),
// verify and remove models in the model store. The download runs in the engine child process;
// the extension host only shows progress. Pure types, validators, the typed requests
// (`ModelsRequests`, see rpc.ts) and display helpers (no node imports), so the extension, the
// engine, the CLI and tests share them.

import { formatBytes, formatDurationWords } from './format';
import { notificationType, requestType } from './rpc';
import { ValidationError, isOneOf, isRecord, optBoolean, optInteger, optNumber, optString, reqString } from './validate';

/** The Hugging Face hub, used when neither a setting nor HF_ENDPOINT names a mirror. */
export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';

/**
 * The hub endpoint in use: the setting (courseIllustrator.hubEndpoint, --endpoint), else
 * HF_ENDPOINT, else the Hugging Face hub; trimmed, without a trailing slash. Not checked here:
 * the engine refuses one that is not an http(s) URL (hub/hub.ts resolveEndpoint).
 */
export function hubEndpoint(setting: string | undefined, envEndpoint: string | undefined): string {
  return (setting?.trim() || envEndpoint?.trim() || DEFAULT_HUB_ENDPOINT).replace(/\/+$/, '');
}

/** Where a pull downloads from: the Hugging Face hub (or a mirror of it), or ModelScope (modelscope.cn). */
export const MODEL_SOURCES = ['huggingface', 'modelscope'] as const;
export type ModelSourceName = (typeof MODEL_SOURCES)[number];

/** ModelScope's site, used when a ModelScope pull names no endpoint. */
export const DEFAULT_MODELSCOPE_ENDPOINT = 'https://www.modelscope.cn';

/** What a failure was, so a front end can offer the right fix (a token box, a folder picker...). */
export const MODEL_ERROR_CODES = [
  'unauthorized', // 401/403: gated or private repo, missing or bad token
  'notFound', // 404: wrong repo, revision or file
  'hashMismatch', // bytes received twice and both differ from the hub's sha256
  'truncated', // the connection kept closing before the end of a file
  'diskFull', // not enough free space (checked first) or ENOSPC while writing
  'offline', // DNS failure, connection refused, no route
  'redirectLoop', // too many redirects
  'stalled', // no bytes for too long
  'cancelled',
  'busy', // another process is downloading the same model
  'http', // any other HTTP status
  'badInput', // unknown model id, bad repo name, bad store path
  'io', // local file system problems other than a full disk
] as const;
export type ModelErrorCode = (typeof MODEL_ERROR_CODES)[number];

/** JSON-RPC error code for models errors; `data: { code: ModelErrorCode }` says which. */
export const MODELS_ERROR_CODE = 1010;

/** A whole pipeline, a preview decoder (TAESD), a LoRA (the fast mode's LCM-LoRA), or a translation model (zh→en for prompts). */
export type ModelKind = 'pipeline' | 'vae' | 'lora' | 'translation';
export const MODEL_KINDS: readonly ModelKind[] = ['pipeline', 'vae', 'lora', 'translation'];

/** One catalogue entry as the front ends show it. */
export interface CatalogueSummary {
  id: string;
  title: string;
  repo: string;
  revision: string;
  kind: ModelKind;
  approxBytes: number;
  /** The first-run choice. */
  default: boolean;
  notes: string;
  /** The same model on ModelScope (owner/name[@revision]), when the catalogue knows one. */
  modelscope?: string;
}

/** A model in the store (complete: the folder only exists once every file was verified). */
export interface InstalledModel {
  id: string;
  path: string;
  title: string;
  repo: string;
  revision: string;
  /** The commit the files came from (the revision resolved at download time). */
  commit: string;
  kind: ModelKind;
  bytes: number;
  files: number;
  installedAt: string;
  /** Set for catalogue models. */
  catalogueId?: string;
  /** Bytes the engine stored beside the files for this computer (its Winograd weights), when there are any; removed with the model. */
  preparedBytes?: number;
}

/** A download that stopped before the end; pulling the same model again resumes it. */
export interface PartialDownload {
  id: string;
  repo: string;
  revision: string;
  bytesDone: number;
  bytesTotal: number;
}

export interface ModelsListParams {
  /** The model store; default: $COURSE_ILLUSTRATOR_MODELS or ~/.cache/course-illustrator/models. */
  store?: string;
}

export interface ModelsListResult {
  store: string;
  installed: InstalledModel[];
  partial: PartialDownload[];
  catalogue: CatalogueSummary[];
}

export interface ModelsPullParams {
  /** Echoed in every models/progress notification of this pull. */
  operationId: string;
  /** A catalogue id, or a hub repo `owner/name` with an optional `@revision`. */
  model: string;
  store?: string;
  /** Where to download from (default huggingface). A catalogue id needs a ModelScope repo in the catalogue for modelscope. */
  source?: ModelSourceName;
  /**
   * The chosen source's endpoint: for huggingface the hub or a mirror (default HF_ENDPOINT or
   * DEFAULT_HUB_ENDPOINT, see hubEndpoint); for modelscope DEFAULT_MODELSCOPE_ENDPOINT.
   */
  endpoint?: string;
  /**
   * Hugging Face hub token (sent as `Authorization: Bearer`); never logged, and never sent to
   * ModelScope (a ModelScope pull uses the engine's MODELSCOPE_API_TOKEN, if any). Default: the
   * engine's HF_TOKEN / HUGGING_FACE_HUB_TOKEN.
   */
  token?: string;
  /** http(s) proxy URL; default: HTTPS_PROXY / HTTP_PROXY. */
  proxy?: string;
  /** Files downloaded at the same time (1-8, default 3). */
  parallel?: number;
  /** Only for a repo (not a catalogue id): globs of files to fetch. */
  include?: string[];
  exclude?: string[];
}

export interface ModelsPullResult {
  model: InstalledModel;
  /** True when the model was there already and nothing was fetched. */
  alreadyInstalled: boolean;
  /** Bytes fetched by this call and bytes reused from earlier partial downloads. */
  downloadedBytes: number;
  resumedBytes: number;
  elapsedMs: number;
}

export interface ModelsVerifyParams {
  operationId?: string;
  id: string;
  store?: string;
}

export interface ModelsVerifyResult {
  id: string;
  path: string;
  ok: boolean;
  files: number;
  /** One line per problem, each naming the file. */
  problems: string[];
}

export interface ModelsRemoveParams {
  id: string;
  store?: string;
}

export interface ModelsRemoveResult {
  id: string;
  path: string;
  /** False when there was nothing (no model, no partial download) to remove. */
  removed: boolean;
}

export type ModelsPhase = 'resolving' | 'listing' | 'downloading' | 'converting' | 'verifying' | 'installing' | 'done';

/** models/import: an SD 1.x single-file checkpoint made a model of the store (engine/checkpoint/). */
export interface ModelsImportParams {
  /** Echoed in every models/progress notification (phase "converting": filesDone/filesTotal count tensors). */
  operationId: string;
  /** Absolute path of the .safetensors checkpoint. */
  file: string;
  /** An installed model id or a model folder whose ONNX graphs are filled; default: sd15-onnx. */
  base?: string;
  /** The new model's id; default: from the file name. */
  name?: string;
  store?: string;
}

export interface ModelsImportResult {
  model: InstalledModel;
  /** The base model folder. */
  base: string;
  checkpoint: { file: string; bytes: number; sha256: string; dtypes: string[] };
  tensors: number;
  ignoredTensors: number;
  /** What the check run did, one line per component. */
  verified: string[];
  elapsedMs: number;
}

export interface ModelsProgress {
  operationId: string;
  id: string;
  phase: ModelsPhase;
  /** File being transferred or hashed (the most recent one when several run in parallel). */
  file?: string;
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  /** Recent transfer speed (bytes/s), 0 when unknown. */
  bytesPerSecond: number;
  /** Seconds left at the recent speed; -1 when unknown. */
  etaSeconds: number;
  /** A retry or other event worth showing, e.g. "connection dropped, resuming in 2 s". */
  message?: string;
}

// ---- validators (every message that crosses the process boundary is checked on arrival) ----

function optStringArray(o: Record<string, unknown>, key: string): string[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new ValidationError(`"${key}" must be a list of non-empty strings`);
  }
  return v as string[];
}

function params(x: unknown, what: string): Record<string, unknown> {
  if (x === undefined || x === null) return {};
  if (!isRecord(x)) throw new ValidationError(`${what} parameters must be an object`);
  return x;
}

export function validateModelsListParams(x: unknown): ModelsListParams {
  const o = params(x, 'models/list');
  return { store: optString(o, 'store') || undefined };
}

function optSource(o: Record<string, unknown>): ModelSourceName | undefined {
  const v = optString(o, 'source') || undefined;
  if (v !== undefined && !(MODEL_SOURCES as readonly string[]).includes(v)) {
    throw new ValidationError(`"source" must be ${MODEL_SOURCES.join(' or ')}, got "${v.slice(0, 40)}"`);
  }
  return v as ModelSourceName | undefined;
}

export function validateModelsPullParams(x: unknown): ModelsPullParams {
  const o = params(x, 'models/pull');
  return {
    operationId: reqString(o, 'operationId'),
    model: reqString(o, 'model'),
    store: optString(o, 'store') || undefined,
    source: optSource(o),
    endpoint: optString(o, 'endpoint') || undefined,
    token: optString(o, 'token') || undefined,
    proxy: optString(o, 'proxy') || undefined,
    parallel: optInteger(o, 'parallel', 1, 8),
    include: optStringArray(o, 'include'),
    exclude: optStringArray(o, 'exclude'),
  };
}

export function validateModelsVerifyParams(x: unknown): ModelsVerifyParams {
  const o = params(x, 'models/verify');
  return { operationId: optString(o, 'operationId') || undefined, id: reqString(o, 'id'), store: optString(o, 'store') || undefined };
}

export function validateModelsRemoveParams(x: unknown): ModelsRemoveParams {
  const o = params(x, 'models/remove');
  return { id: reqString(o, 'id'), store: optString(o, 'store') || undefined };
}

export function validateModelsImportParams(x: unknown): ModelsImportParams {
  const o = params(x, 'models/import');
  return {
    operationId: reqString(o, 'operationId'),
    file: reqString(o, 'file'),
    base: optString(o, 'base') || undefined,
    name: optString(o, 'name') || undefined,
    store: optString(o, 'store') || undefined,
  };
}

const PHASES: readonly ModelsPhase[] = ['resolving', 'listing', 'downloading', 'converting', 'verifying', 'installing', 'done'];

function num(o: Record<string, unknown>, key: string, min = 0): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new ValidationError(`"${key}" must be a number >= ${min}`);
  return v;
}

export function validateModelsProgress(x: unknown): ModelsProgress {
  if (!isRecord(x)) throw new ValidationError('models/progress must be an object');
  const phase = reqString(x, 'phase') as ModelsPhase;
  if (!PHASES.includes(phase)) throw new ValidationError(`unknown models/progress phase "${phase}"`);
  return {
    operationId: reqString(x, 'operationId'),
    id: reqString(x, 'id'),
    phase,
    file: optString(x, 'file'),
    filesDone: num(x, 'filesDone'),
    filesTotal: num(x, 'filesTotal'),
    bytesDone: num(x, 'bytesDone'),
    bytesTotal: num(x, 'bytesTotal'),
    bytesPerSecond: num(x, 'bytesPerSecond'),
    etaSeconds: num(x, 'etaSeconds', -1),
    message: optString(x, 'message'),
  };
}

function modelKind(o: Record<string, unknown>): ModelKind {
  const kind = reqString(o, 'kind');
  if (!isOneOf(MODEL_KINDS, kind)) throw new ValidationError(`unknown model kind "${kind}"`);
  return kind;
}

function validateInstalled(x: unknown): InstalledModel {
  if (!isRecord(x)) throw new ValidationError('installed model must be an object');
  const kind = modelKind(x);
  return {
    id: reqString(x, 'id'),
    path: reqString(x, 'path'),
    title: reqString(x, 'title'),
    repo: reqString(x, 'repo'),
    revision: reqString(x, 'revision'),
    commit: reqString(x, 'commit'),
    kind,
    bytes: num(x, 'bytes'),
    files: num(x, 'files'),
    installedAt: reqString(x, 'installedAt'),
    catalogueId: optString(x, 'catalogueId'),
    preparedBytes: optNumber(x, 'preparedBytes'),
  };
}

export function validateModelsListResult(x: unknown): ModelsListResult {
  if (!isRecord(x)) throw new ValidationError('models/list result must be an object');
  const list = (key: string): unknown[] => {
    const v = x[key];
    if (!Array.isArray(v)) throw new ValidationError(`models/list result "${key}" must be a list`);
    return v;
  };
  return {
    store: reqString(x, 'store'),
    installed: list('installed').map(validateInstalled),
    partial: list('partial').map((p) => {
      if (!isRecord(p)) throw new ValidationError('partial download must be an object');
      return { id: reqString(p, 'id'), repo: reqString(p, 'repo'), revision: reqString(p, 'revision'), bytesDone: num(p, 'bytesDone'), bytesTotal: num(p, 'bytesTotal') };
    }),
    catalogue: list('catalogue').map((c) => {
      if (!isRecord(c)) throw new ValidationError('catalogue entry must be an object');
      const kind = modelKind(c);
      return {
        id: reqString(c, 'id'),
        title: reqString(c, 'title'),
        repo: reqString(c, 'repo'),
        revision: reqString(c, 'revision'),
        kind,
        approxBytes: num(c, 'approxBytes'),
        default: optBoolean(c, 'default') ?? false,
        notes: optString(c, 'notes') ?? '',
        modelscope: optString(c, 'modelscope') || undefined,
      };
    }),
  };
}

export function validateModelsPullResult(x: unknown): ModelsPullResult {
  if (!isRecord(x)) throw new ValidationError('models/pull result must be an object');
  return {
    model: validateInstalled(x.model),
    alreadyInstalled: optBoolean(x, 'alreadyInstalled') ?? false,
    downloadedBytes: num(x, 'downloadedBytes'),
    resumedBytes: num(x, 'resumedBytes'),
    elapsedMs: num(x, 'elapsedMs'),
  };
}

export function validateModelsVerifyResult(x: unknown): ModelsVerifyResult {
  if (!isRecord(x)) throw new ValidationError('models/verify result must be an object');
  const problems = x.problems;
  if (!Array.isArray(problems) || problems.some((p) => typeof p !== 'string')) {
    throw new ValidationError('models/verify result "problems" must be a list of strings');
  }
  return { id: reqString(x, 'id'), path: reqString(x, 'path'), ok: optBoolean(x, 'ok') ?? false, files: num(x, 'files'), problems: problems as string[] };
}

export function validateModelsImportResult(x: unknown): ModelsImportResult {
  if (!isRecord(x)) throw new ValidationError('models/import result must be an object');
  const c = x.checkpoint;
  if (!isRecord(c)) throw new ValidationError('models/import result "checkpoint" must be an object');
  const strings = (v: unknown, key: string): string[] => {
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw new ValidationError(`models/import result "${key}" must be a list of strings`);
    return v as string[];
  };
  return {
    model: validateInstalled(x.model),
    base: reqString(x, 'base'),
    checkpoint: { file: reqString(c, 'file'), bytes: num(c, 'bytes'), sha256: reqString(c, 'sha256'), dtypes: strings(c.dtypes, 'checkpoint.dtypes') },
    tensors: num(x, 'tensors'),
    ignoredTensors: num(x, 'ignoredTensors'),
    verified: strings(x.verified, 'verified'),
    elapsedMs: num(x, 'elapsedMs'),
  };
}

export function validateModelsRemoveResult(x: unknown): ModelsRemoveResult {
  if (!isRecord(x)) throw new ValidationError('models/remove result must be an object');
  return { id: reqString(x, 'id'), path: reqString(x, 'path'), removed: optBoolean(x, 'removed') ?? false };
}

// ---- the models/* requests and notification, each defined once for both ends ----

export const ModelsRequests = {
  list: requestType('models/list', validateModelsListParams, validateModelsListResult),
  pull: requestType('models/pull', validateModelsPullParams, validateModelsPullResult),
  verify: requestType('models/verify', validateModelsVerifyParams, validateModelsVerifyResult),
  remove: requestType('models/remove', validateModelsRemoveParams, validateModelsRemoveResult),
  import: requestType('models/import', validateModelsImportParams, validateModelsImportResult),
};

export const ModelsNotifications = {
  /** Engine -> client while a pull, an import or a verify with an operationId runs. */
  progress: notificationType('models/progress', validateModelsProgress),
};

// ---- display helpers shared by the CLI and the extension ----

/** "1.2 GB of 4.3 GB, 12.5 MB/s, 4 min 08 s left" */
export function formatProgress(p: ModelsProgress): string {
  const parts = [`${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`];
  if (p.bytesPerSecond > 0) parts.push(`${formatBytes(p.bytesPerSecond)}/s`);
  const eta = formatDurationWords(p.etaSeconds * 1000);
  if (eta && p.phase === 'downloading') parts.push(`${eta} left`);
  return parts.join(', ');
}
