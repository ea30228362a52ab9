// engine/convert (EngineRequests.convert): a copy of one of our images in another format (PNG,
// JPEG, WebP) that keeps what the picture says about itself: the A1111 parameters (EXIF
// UserComment in JPEG and WebP, as A1111 writes them) and the XMP AI label. The shapes and
// validators live here, both ends share them (the engine does the work, in its process with sharp).

import { ValidationError, isOneOf, isRecord, optBoolean, optInteger, optString, reqString } from './validate';

export const CONVERT_FORMATS = ['png', 'jpeg', 'webp'] as const;
export type ConvertFormat = (typeof CONVERT_FORMATS)[number];

/** The quality used when none is given: small enough for slides and LMS uploads, no visible loss. */
export const DEFAULT_QUALITY: Readonly<Record<'jpeg' | 'webp', number>> = { jpeg: 90, webp: 90 };

export interface ConvertParams {
  /** The image to convert: PNG (ours), or a JPEG or WebP written by engine/convert. */
  source: string;
  /** The file to write; its extension must match `format` (.png, .jpg/.jpeg, .webp). */
  dest: string;
  format: ConvertFormat;
  /** 1-100, JPEG and lossy WebP only; default DEFAULT_QUALITY. */
  quality?: number;
  /** WebP only: lossless instead of lossy. */
  lossless?: boolean;
  /** The image must land inside this folder, by real paths (as engine/generate's confineTo). */
  confineTo?: string;
  /** Replace an existing file; default false (refused, naming the file). */
  overwrite?: boolean;
}

export interface ConvertResult {
  /** The absolute path written. */
  path: string;
  /** The size of the written file. */
  bytes: number;
  format: ConvertFormat;
  width: number;
  height: number;
}

const EXTENSIONS: Readonly<Record<ConvertFormat, readonly string[]>> = { png: ['.png'], jpeg: ['.jpg', '.jpeg'], webp: ['.webp'] };

/** The format a file name asks for by its extension (any case), or undefined. */
export function formatOfFileName(name: string): ConvertFormat | undefined {
  const dot = name.lastIndexOf('.');
  const ext = dot < 0 ? '' : name.slice(dot).toLowerCase();
  return CONVERT_FORMATS.find((f) => EXTENSIONS[f].includes(ext));
}

export function validateConvertParams(x: unknown): ConvertParams {
  if (!isRecord(x)) throw new ValidationError('convert parameters must be an object');
  const source = reqString(x, 'source');
  const dest = reqString(x, 'dest');
  const format = reqString(x, 'format');
  if (!isOneOf(CONVERT_FORMATS, format)) throw new ValidationError(`"format" must be png, jpeg or webp, got "${format}"`);
  if (formatOfFileName(dest) !== format) {
    throw new ValidationError(`"dest" must end in ${EXTENSIONS[format].join(' or ')} for format ${format}, got "${dest}"; rename it or choose the matching format`);
  }
  const quality = optInteger(x, 'quality', 1, 100);
  const lossless = optBoolean(x, 'lossless');
  if (lossless !== undefined && format !== 'webp') throw new ValidationError(`"lossless" is for webp only; leave it out for ${format}`);
  if (quality !== undefined && (format === 'png' || lossless)) {
    throw new ValidationError(`"quality" is for JPEG and lossy WebP; leave it out for ${format === 'png' ? 'png (always lossless)' : 'lossless webp'}`);
  }
  return { source, dest, format, quality, lossless, confineTo: optString(x, 'confineTo'), overwrite: optBoolean(x, 'overwrite') };
}

export function validateConvertResult(x: unknown, sent: ConvertParams): ConvertResult {
  if (!isRecord(x)) throw new ValidationError('convert result must be an object');
  const format = reqString(x, 'format');
  if (format !== sent.format) throw new ValidationError(`convert result is ${format}, expected ${sent.format}`);
  const int = (key: string, min: number): number => {
    const v = optInteger(x, key, min, Number.MAX_SAFE_INTEGER);
    if (v === undefined) throw new ValidationError(`convert result: "${key}" is missing`);
    return v;
  };
  return { path: reqString(x, 'path'), bytes: int('bytes', 1), format: sent.format, width: int('width', 1), height: int('height', 1) };
}
