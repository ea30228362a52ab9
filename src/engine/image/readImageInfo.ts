// Reads what an image says about how it was made: A1111 infotext and the XMP AI label, from a
// PNG's text chunks or a JPEG's / WebP's EXIF UserComment and XMP (ours from engine/convert, or
// A1111's). Only the metadata parts are read, from a regular file (see fileMetadata.ts), so a
// hostile "*.png" or "*.jpg" costs at most a few megabytes and milliseconds. The result keeps
// kind 'png' whatever the format: it is the image kind of engine/info's reply.

import * as path from 'path';
import { parseInfotext, VERSION_PREFIX } from '../../core/infotext';
import { PngInfoResult } from '../../core/protocol';
import { imageMetadataFromBuffer, readImageFileMetadata, type ImageFileMetadata } from './fileMetadata';
import { OutputError } from './outputError';
import { NotPngError } from './pngChunks';
import { CREATOR_TOOL_NAME, isAiSourceType, parseXmpCreatorTool, parseXmpDigitalSourceType } from './xmp';

/** The info of an image from its metadata. */
export function infoFromMetadata(m: ImageFileMetadata): PngInfoResult {
  const result: PngInfoResult = { kind: 'png', path: m.path, width: m.width, height: m.height, aiGenerated: false, madeByCourseIllustrator: false };
  if (m.parameters !== undefined) {
    const parsed = parseInfotext(m.parameters);
    result.parameters = m.parameters;
    result.fields = parsed.fields;
    result.prompt = parsed.prompt;
    result.negativePrompt = parsed.negativePrompt;
  }
  const creator = m.xmp ? parseXmpCreatorTool(m.xmp) : undefined;
  result.aiGenerated = m.xmp ? isAiSourceType(parseXmpDigitalSourceType(m.xmp)) : false;
  const version = result.fields?.Version ?? '';
  result.madeByCourseIllustrator =
    (creator !== undefined && (creator === CREATOR_TOOL_NAME || creator.startsWith(`${CREATOR_TOOL_NAME} `))) ||
    version === VERSION_PREFIX ||
    version.startsWith(`${VERSION_PREFIX} `);
  return result;
}

/**
 * The info of an in-memory image (PNG, JPEG or WebP), or of a PNG's first bytes (everything
 * before IDAT is enough); `file` is only used in the result and messages.
 */
export async function imageInfoFromBuffer(buf: Buffer, file: string): Promise<PngInfoResult> {
  return infoFromMetadata(await imageMetadataFromBuffer(buf, file));
}

/** engine/info on an image file: PNG, JPEG or WebP. */
export async function readImageInfo(file: string): Promise<PngInfoResult> {
  try {
    return infoFromMetadata(await readImageFileMetadata(file));
  } catch (e) {
    if (e instanceof NotPngError) throw new OutputError(e.message, path.resolve(file), 'NOTPNG');
    throw e;
  }
}

/** The name engine.ts and older tests call it by; JPEG and WebP are read too. */
export const readPngInfo = readImageInfo;
