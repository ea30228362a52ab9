// Validators for what the engine sends back. The engine is another process (maybe another
// version): a malformed reply becomes a clear 'badReply' error instead of undefined later.

import type {
  GenerateResult,
  GeneratedImage,
  InfoResult,
  QueueEvent,
  LogEvent,
  ModelComponentInfo,
  StageTimings,
  StatusResult,
  ThumbnailResult,
  TokenizeResult,
} from '../../core/protocol';
import { PROVIDER_NAMES } from '../../core/protocol';
import { ValidationError, isRecord, optBoolean, optInteger, optNumber, optString, reqString } from '../../core/validate';
import { isOneOf } from '../util/oneOf';

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

export function validateStatus(x: unknown): StatusResult {
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

export function validateGenerateResult(x: unknown, jobId: string): GenerateResult {
  const o = rec(x, 'generate result');
  if (!Array.isArray(o.images) || o.images.length === 0) throw new ValidationError('"images" must be a non-empty list');
  const replyJob = optString(o, 'jobId') ?? jobId;
  if (replyJob !== jobId) throw new ValidationError(`reply is for job ${replyJob}, expected ${jobId}`);
  return {
    jobId,
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

export function validateQueueEvent(x: unknown): QueueEvent {
  const o = rec(x, 'queue event');
  return { jobId: reqString(o, 'jobId'), position: reqInt(o, 'position') };
}

export function validateLogEvent(x: unknown): LogEvent {
  const o = rec(x, 'log event');
  const level = optString(o, 'level') ?? 'info';
  return { level: isOneOf(LOG_LEVELS, level) ? level : 'info', message: String(o.message ?? '') };
}

export function validateCancelResult(x: unknown): { cancelled: boolean } {
  const o = rec(x, 'cancel result');
  if (typeof o.cancelled !== 'boolean') throw new ValidationError(`cancel result: "cancelled" must be true or false, got ${JSON.stringify(o.cancelled)}`);
  return { cancelled: o.cancelled };
}
