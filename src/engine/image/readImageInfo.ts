// Reads what a PNG says about how it was made: A1111 infotext and the XMP AI label. Only the
// metadata before the image data is read, from a regular file (see pngFile.ts), so a hostile
// "*.png" costs at most a few megabytes and milliseconds.

import * as path from 'path';
import { parseInfotext, VERSION_PREFIX } from '../../core/infotext';
import { PngInfoResult } from '../../core/protocol';
import { OutputError } from './outputError';
import { readPngMetadataPrefix } from './pngFile';
import { listMetadataChunks, NotPngError, TEXT_TYPES, decodeTextChunk, type PngText } from './pngChunks';
import { CREATOR_TOOL_NAME, isAiSourceType, parseXmpCreatorTool, parseXmpDigitalSourceType, XMP_KEYWORD } from './xmp';
import { PARAMETERS_KEYWORD } from './writeImage';

/**
 * PngInfoResult from an in-memory PNG, or its first bytes (everything before IDAT is enough);
 * `file` is only used in the result and messages.
 */
export function pngInfoFromBuffer(buf: Buffer, file: string): PngInfoResult {
  const chunks = listMetadataChunks(buf, file);
  const width = chunks[0].data.readUInt32BE(0);
  const height = chunks[0].data.readUInt32BE(4);
  const texts: PngText[] = [];
  for (const c of chunks) {
    if (!TEXT_TYPES.has(c.type)) continue;
    const t = decodeTextChunk(c);
    if (t) texts.push(t);
  }
  const parameters = texts.find((t) => t.keyword === PARAMETERS_KEYWORD)?.text;
  const xmp = texts.find((t) => t.keyword === XMP_KEYWORD)?.text;
  const result: PngInfoResult = { kind: 'png', path: file, width, height, aiGenerated: false, madeByCourseIllustrator: false };
  if (parameters !== undefined) {
    const parsed = parseInfotext(parameters);
    result.parameters = parameters;
    result.fields = parsed.fields;
    result.prompt = parsed.prompt;
    result.negativePrompt = parsed.negativePrompt;
  }
  const creator = xmp ? parseXmpCreatorTool(xmp) : undefined;
  result.aiGenerated = xmp ? isAiSourceType(parseXmpDigitalSourceType(xmp)) : false;
  const version = result.fields?.Version ?? '';
  result.madeByCourseIllustrator =
    (creator !== undefined && (creator === CREATOR_TOOL_NAME || creator.startsWith(`${CREATOR_TOOL_NAME} `))) ||
    version === VERSION_PREFIX ||
    version.startsWith(`${VERSION_PREFIX} `);
  return result;
}

export async function readPngInfo(file: string): Promise<PngInfoResult> {
  const abs = path.resolve(file);
  const { data } = await readPngMetadataPrefix(abs);
  try {
    return pngInfoFromBuffer(data, abs);
  } catch (e) {
    if (e instanceof NotPngError) throw new OutputError(e.message, abs, 'NOTPNG');
    throw e;
  }
}
