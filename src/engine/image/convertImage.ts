// engine/convert: one of our images written again as PNG, JPEG or WebP, with what it says about
// itself: the A1111 parameters (JPEG, WebP: EXIF UserComment as A1111 writes it, see exif.ts;
// PNG: the `parameters` chunk) and the XMP packet with the AI label and the "not for diagnosis"
// statement. The visible medical label is in the pixels and comes along by itself. Written as
// engine/generate writes: the confineTo check, atomically, never over a file unless asked.

import * as path from 'path';
import sharp from 'sharp';
import { DEFAULT_QUALITY, type ConvertParams, type ConvertResult } from '../../core/convertProtocol';
import { EngineError, asEngineError } from '../errors';
import { writeFileAtomic } from './atomicWrite';
import { buildUserCommentExif } from './exif';
import { imageMetadataFromBuffer, type ImageFileMetadata } from './fileMetadata';
import { insertJpegExif } from './jpegMeta';
import { NotPngError, addTextChunks, type TextChunkOptions } from './pngChunks';
import { MAX_DECODE_PIXELS, readImageFile } from './thumbnail';
import { insertWebpExif } from './webpMeta';
import { PARAMETERS_KEYWORD, checkOutputFolder } from './writeImage';
import { XMP_KEYWORD } from './xmp';

/**
 * The longest parameters a JPEG can carry: UTF-16 in one APP1 segment of 65533 bytes, less the
 * "Exif\0\0" header, the TIFF block around the value (44 bytes) and "UNICODE\0".
 */
export const JPEG_MAX_PARAMETERS = Math.floor((0xffff - 2 - 6 - 44 - 8) / 2);

/** The whole source, read once from a regular file of bounded size (thumbnail.ts), and its metadata. */
async function readSource(source: string): Promise<{ data: Buffer; meta: ImageFileMetadata }> {
  try {
    const data = await readImageFile(source);
    return { data, meta: await imageMetadataFromBuffer(data, path.resolve(source)) };
  } catch (err) {
    if (err instanceof NotPngError) throw new EngineError('badInput', `${source} is not a PNG, JPEG or WebP image; nothing was written. Choose an image made by Course Illustrator.`);
    throw asEngineError(err);
  }
}

async function encode(p: ConvertParams, source: Buffer, meta: ImageFileMetadata): Promise<{ data: Buffer; width: number; height: number }> {
  // From the bytes already read, not the path: the file checked is the file converted.
  let img = sharp(source, { failOn: 'error', limitInputPixels: MAX_DECODE_PIXELS }).toColourspace('srgb');
  if (p.format === 'jpeg') {
    // JPEG has no alpha: transparent pixels are laid on white, as a browser shows them.
    img = img.flatten({ background: '#ffffff' }).jpeg({ quality: p.quality ?? DEFAULT_QUALITY.jpeg });
  } else if (p.format === 'webp') {
    img = img.webp(p.lossless ? { lossless: true } : { quality: p.quality ?? DEFAULT_QUALITY.webp });
  } else {
    img = img.png({ compressionLevel: 6, adaptiveFiltering: true });
  }
  // PNG gets its XMP as the iTXt chunk writeImage.ts writes, below.
  if (meta.xmp && p.format !== 'png') img = img.withXmp(meta.xmp);
  try {
    const { data, info } = await img.toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  } catch (err) {
    throw new EngineError('badInput', `${meta.path} cannot be read as an image (${err instanceof Error ? err.message : String(err)}); nothing was written.`);
  }
}

/** The encoded image with the parameters (and, for PNG, the XMP) put in. */
function withParameters(data: Buffer, format: ConvertParams['format'], meta: ImageFileMetadata): Buffer {
  if (format === 'png') {
    const chunks: TextChunkOptions[] = [];
    if (meta.parameters !== undefined) chunks.push({ keyword: PARAMETERS_KEYWORD, text: meta.parameters });
    if (meta.xmp) chunks.push({ keyword: XMP_KEYWORD, text: meta.xmp, itxt: true });
    return chunks.length > 0 ? addTextChunks(data, chunks) : data;
  }
  if (meta.parameters === undefined) return data;
  const exif = buildUserCommentExif(meta.parameters);
  return format === 'jpeg' ? insertJpegExif(data, exif) : insertWebpExif(data, exif);
}

/** `overwriteHint`: how the caller's user allows replacing a file (the CLI: --overwrite). */
export async function convertImage(p: ConvertParams, overwriteHint = 'choose another name, or send "overwrite": true'): Promise<ConvertResult> {
  const { data: source, meta } = await readSource(p.source);
  if (p.format === 'jpeg' && meta.parameters !== undefined && meta.parameters.length > JPEG_MAX_PARAMETERS) {
    throw new EngineError(
      'badInput',
      `The parameters of ${meta.path} are ${meta.parameters.length} characters; a JPEG holds at most ${JPEG_MAX_PARAMETERS}. Save it as PNG or WebP instead; nothing was written.`,
    );
  }
  try {
    await checkOutputFolder(p.dest, p.confineTo);
    const { data, width, height } = await encode(p, source, meta);
    const bytes = withParameters(data, p.format, meta);
    const file = await writeFileAtomic(p.dest, bytes, { overwrite: p.overwrite, what: 'Image', overwriteHint });
    return { path: file, bytes: bytes.length, format: p.format, width, height };
  } catch (err) {
    throw asEngineError(err);
  }
}
