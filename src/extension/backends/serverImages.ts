// The images a server sent, written into the course by the local engine (engine/import):
// the server's own infotext when it sent one (A1111), else one built from the request, in the
// same A1111 form the engine writes, so "Show Parameters" and "Regenerate" work the same.

import * as fs from 'fs';
import { generationInfotext } from '../../core/infotext';
import { DEFAULTS } from '../../core/limits';
import type { GenerateParams, GenerateResult, GeneratedImage } from '../../core/protocol';
import { A1111_SAMPLER, type SchedulerName } from '../../core/schedulerNames';
import { VERSION } from '../../engine/version';
import * as l10n from '@vscode/l10n';
import { isEngineError, EngineError } from '../engine/engineError';
import type { BackendDeps, ServerKind } from './generationBackend';
import { SERVER_NAMES } from './generationBackend';

export interface ServerImage {
  /** The image file's bytes, base64 (PNG, JPEG or WebP). */
  base64: string;
  seed: number;
  /** The server's A1111 infotext for it, if it sent one. */
  infotext?: string;
}

export interface ServerJob {
  kind: ServerKind;
  /** The checkpoint the server used, for the infotext's `Model`. */
  modelName?: string;
  scheduler: SchedulerName;
  /** When the job was started (Date.now()). */
  started: number;
  warnings: string[];
}

/** Writes every image (removing those already written if one fails) and makes the GenerateResult. */
export async function writeServerImages(deps: BackendDeps, params: GenerateParams, jobId: string, job: ServerJob, images: ServerImage[]): Promise<GenerateResult> {
  if (images.length === 0) throw new EngineError('badReply', l10n.t('The {0} server at {1} finished without an image. Its log may say why; try again.', SERVER_NAMES[job.kind], deps.url));
  const written: GeneratedImage[] = [];
  const saveStarted = Date.now();
  try {
    for (const image of images) {
      const size = imageSize(Buffer.from(image.base64.slice(0, 64), 'base64')) ?? { width: params.width ?? DEFAULTS.width, height: params.height ?? DEFAULTS.height };
      const infotext = image.infotext ? withExtra(image.infotext, params.extraParameters) : builtInfotext(params, job, image.seed, size);
      const one = images.length === 1 && params.outFile !== undefined;
      written.push(
        await deps.importImage({
          imageBase64: image.base64,
          infotext,
          prompt: params.prompt,
          seed: image.seed,
          domain: params.domain,
          labelLanguage: params.labelLanguage,
          ...(one ? { outFile: params.outFile } : { outDir: params.outDir ?? pathDir(params.outFile) }),
          confineTo: params.confineTo,
          overwrite: params.overwrite,
        }),
      );
    }
  } catch (e) {
    // As the engine does for its own jobs: a failed job leaves no file behind.
    for (const w of written) fs.rmSync(w.path, { force: true });
    if (isEngineError(e) && e.kind === 'outputError') throw e;
    throw isEngineError(e) ? new EngineError(e.kind, l10n.t('The server made the image, but it could not be written here: {0}', e.message)) : e;
  }
  const totalMs = Date.now() - job.started;
  return {
    jobId,
    images: written,
    timings: { loadMs: 0, textEncoderMs: 0, unetStepMs: [], vaeMs: 0, saveMs: Date.now() - saveStarted, totalMs, sessionRunMs: 0 },
    tokenCount: 0,
    scheduler: job.scheduler,
    warnings: job.warnings,
  };
}

function pathDir(file: string | undefined): string {
  if (!file) throw new EngineError('badInput', 'The job names neither outFile nor outDir.');
  return file.replace(/[\\/][^\\/]*$/, '');
}

/** Our infotext for an image whose server sent none (ComfyUI, SwarmUI). */
export function builtInfotext(params: GenerateParams, job: ServerJob, seed: number, size: { width: number; height: number }): string {
  const names = A1111_SAMPLER[job.scheduler];
  return generationInfotext({
    prompt: params.prompt,
    negativePrompt: params.negativePrompt,
    steps: params.steps ?? DEFAULTS.steps,
    sampler: names.sampler,
    scheduleType: names.schedule,
    guidance: params.guidance ?? DEFAULTS.guidance,
    seed,
    width: size.width,
    height: size.height,
    modelName: job.modelName,
    denoisingStrength: params.initImage ? (params.strength ?? (params.mask ? 1 : 0.8)) : undefined,
    version: VERSION,
    // The server's noise, not the engine's: the same seed here gives other pixels.
    extra: { Server: SERVER_NAMES[job.kind], ...params.extraParameters },
  });
}

/** The server's infotext with our extra pairs (template...) added to its last line, when it lacks them. */
export function withExtra(infotext: string, extra: Record<string, string> | undefined): string {
  const pairs = Object.entries(extra ?? {}).filter(([k]) => !new RegExp(`(^|, )${k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `, 'm').test(infotext));
  if (pairs.length === 0) return infotext;
  const add = pairs.map(([k, v]) => `${k}: ${/[,:\n]/.test(v) ? JSON.stringify(v) : v}`).join(', ');
  return `${infotext.trimEnd()}, ${add}`;
}

/** Width and height from a PNG's IHDR; undefined for other formats. */
export function imageSize(head: Buffer): { width: number; height: number } | undefined {
  if (head.length < 24 || head.readUInt32BE(0) !== 0x89504e47 || head.subarray(12, 16).toString('latin1') !== 'IHDR') return undefined;
  return { width: head.readUInt32BE(16), height: head.readUInt32BE(20) };
}
