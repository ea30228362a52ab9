// What an image file says about how it was made, whatever its format: the A1111 parameters (PNG
// `parameters` text chunk; JPEG and WebP EXIF UserComment) and the XMP packet. The file is opened
// once, judged by its first bytes, and read only in its metadata parts, at most METADATA_CAP
// bytes (pngFile.ts, byteSource.ts): a hostile "*.jpg" costs what a hostile "*.png" does.

import type { ConvertFormat } from '../../core/convertProtocol';
import { bufferSource, fileSource } from './byteSource';
import { readUserComment } from './exif';
import { isJpeg, readJpegMetadata, type ContainerMetadata } from './jpegMeta';
import { METADATA_CAP, openRegularFile, readPngPrefixFrom } from './pngFile';
import { decodeTextChunk, listMetadataChunks, MAX_TEXT_BYTES, NotPngError, TEXT_TYPES } from './pngChunks';
import { isWebp, readWebpMetadata } from './webpMeta';
import { OutputError } from './outputError';
import { PARAMETERS_KEYWORD } from './writeImage';
import { XMP_KEYWORD } from './xmp';

export interface ImageFileMetadata {
  format: ConvertFormat;
  /** The absolute path. */
  path: string;
  /** 0 when the file does not say (a damaged JPEG or WebP). */
  width: number;
  height: number;
  /** The A1111 infotext, if any. */
  parameters?: string;
  xmp?: string;
}

/** PNG, JPEG or WebP by the first bytes; undefined for anything else. */
export function sniffImageFormat(head: Buffer): ConvertFormat | undefined {
  if (isJpeg(head)) return 'jpeg';
  if (isWebp(head)) return 'webp';
  if (head.length >= 4 && head.toString('latin1', 1, 4) === 'PNG') return 'png';
  return undefined;
}

/**
 * The metadata of a PNG from its first bytes (everything before IDAT is enough). Throws
 * NotPngError on data that is not a PNG.
 */
export function pngMetadataFromBuffer(buf: Buffer, file: string): ImageFileMetadata {
  const chunks = listMetadataChunks(buf, file);
  let parameters: string | undefined;
  let xmp: string | undefined;
  for (const c of chunks) {
    if (!TEXT_TYPES.has(c.type)) continue;
    const t = decodeTextChunk(c);
    if (t?.keyword === PARAMETERS_KEYWORD) parameters ??= t.text;
    if (t?.keyword === XMP_KEYWORD) xmp ??= t.text;
  }
  return { format: 'png', path: file, width: chunks[0].data.readUInt32BE(0), height: chunks[0].data.readUInt32BE(4), parameters, xmp };
}

function fromContainer(format: ConvertFormat, file: string, c: ContainerMetadata): ImageFileMetadata {
  const comment = c.exif ? readUserComment(c.exif) : undefined;
  // As PNG text chunks: more than MAX_TEXT_BYTES of text is not believed.
  const parameters = comment !== undefined && comment.length <= MAX_TEXT_BYTES ? comment : undefined;
  const xmp = c.xmp !== undefined && c.xmp.length <= MAX_TEXT_BYTES ? c.xmp : undefined;
  return { format, path: file, width: c.width, height: c.height, parameters, xmp };
}

/** In-memory version of readImageFileMetadata (tests, and images already read). */
export async function imageMetadataFromBuffer(buf: Buffer, file: string): Promise<ImageFileMetadata> {
  const format = sniffImageFormat(buf.subarray(0, 12));
  if (format === 'jpeg') return fromContainer(format, file, await readJpegMetadata(bufferSource(buf)));
  if (format === 'webp') return fromContainer(format, file, await readWebpMetadata(bufferSource(buf)));
  return pngMetadataFromBuffer(buf, file);
}

/**
 * Reads `file`'s metadata. OutputError (naming the file) when it is missing, not a regular file
 * or unreadable; NotPngError when it is no PNG, JPEG or WebP (read as a PNG, that says why).
 */
export async function readImageFileMetadata(file: string): Promise<ImageFileMetadata> {
  const { handle, size, abs } = await openRegularFile(file);
  try {
    const source = fileSource(handle, size, METADATA_CAP);
    const format = sniffImageFormat(await source.read(0, 12));
    if (format === 'jpeg') return fromContainer(format, abs, await readJpegMetadata(source));
    if (format === 'webp') return fromContainer(format, abs, await readWebpMetadata(source));
    return pngMetadataFromBuffer((await readPngPrefixFrom(handle, size, abs)).data, abs);
  } catch (e) {
    if (e instanceof OutputError || e instanceof NotPngError) throw e;
    const code = (e as { code?: unknown } | null)?.code;
    throw new OutputError(`Cannot read ${abs}: ${e instanceof Error ? e.message : String(e)}`, abs, typeof code === 'string' ? code : undefined);
  } finally {
    await handle.close().catch(() => undefined);
  }
}
