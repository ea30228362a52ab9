// engine/import (EngineRequests.importImage): an image made elsewhere (a school server: A1111,
// ComfyUI, SwarmUI) is written by the engine as if it had made it: our infotext, the XMP AI
// label, the visible label for medical images, the confineTo check, an atomic write that never
// overwrites. The request is defined in protocol.ts; its shapes and validators live here so
// protocol.ts stays small. (Method names are one lowercase word: engine/import.)

import type { ContentDomain, GeneratedImage } from './protocol';
import { SEED } from './limits';
import { ValidationError, isRecord, optBoolean, optInteger, optString, reqString } from './validate';

/** Base64 text of at most this many characters (about 48 MB of image). */
export const IMPORT_MAX_BASE64 = 64 * 1024 * 1024;

export interface ImportImageParams {
  /** The image as the server sent it (PNG, JPEG or WebP), base64 without a data: prefix. */
  imageBase64: string;
  /** The A1111 `parameters` text to write: the server's own, or one built from the request. */
  infotext: string;
  /** The prompt (XMP description, and the file name with outDir). */
  prompt: string;
  seed: number;
  domain?: ContentDomain;
  /** The language of a medical image's visible label; default en. */
  labelLanguage?: 'en' | 'zh';
  /** Exactly this file, or a free name in outDir made from the prompt and seed. */
  outFile?: string;
  outDir?: string;
  /** The image must land inside this folder, by real paths (as engine/generate's confineTo). */
  confineTo?: string;
  overwrite?: boolean;
}

export function validateImportImageParams(x: unknown): ImportImageParams {
  if (!isRecord(x)) throw new ValidationError('importImage parameters must be an object');
  const imageBase64 = reqString(x, 'imageBase64');
  if (imageBase64.length > IMPORT_MAX_BASE64) throw new ValidationError(`"imageBase64" is over ${IMPORT_MAX_BASE64} characters; images that large are not imported`);
  const domain = optString(x, 'domain');
  if (domain !== undefined && !['general', 'education', 'medical'].includes(domain)) {
    throw new ValidationError(`domain must be general, education or medical, got "${domain}"`);
  }
  const outFile = optString(x, 'outFile');
  const outDir = optString(x, 'outDir');
  if ((outFile === undefined) === (outDir === undefined)) throw new ValidationError('give exactly one of "outFile" and "outDir"');
  const infotext = x.infotext;
  if (typeof infotext !== 'string') throw new ValidationError('"infotext" must be a string');
  const seed = optInteger(x, 'seed', SEED.min, SEED.max);
  if (seed === undefined) throw new ValidationError('"seed" is missing');
  return {
    imageBase64,
    infotext,
    prompt: typeof x.prompt === 'string' ? x.prompt : reqString(x, 'prompt'),
    seed,
    domain: domain as ContentDomain | undefined,
    labelLanguage: optString(x, 'labelLanguage') === 'zh' ? 'zh' : undefined,
    outFile,
    outDir,
    confineTo: optString(x, 'confineTo'),
    overwrite: optBoolean(x, 'overwrite'),
  };
}

export function validateImportImageResult(x: unknown, sent: ImportImageParams): GeneratedImage {
  if (!isRecord(x)) throw new ValidationError('importImage result must be an object');
  const int = (key: string, min: number): number => {
    const v = optInteger(x, key, min, Number.MAX_SAFE_INTEGER);
    if (v === undefined) throw new ValidationError(`"${key}" is missing`);
    return v;
  };
  const seed = int('seed', 0);
  if (seed !== sent.seed) throw new ValidationError(`reply is for seed ${seed}, expected ${sent.seed}`);
  return { path: reqString(x, 'path'), seed, width: int('width', 1), height: int('height', 1), infotext: optString(x, 'infotext') ?? '' };
}
