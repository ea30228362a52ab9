// Reads what a PNG says about how it was made: A1111 infotext and the XMP AI label.

import { promises as fsp } from 'fs';
import * as path from 'path';
import { parseInfotext, VERSION_PREFIX } from '../../core/infotext';
import { PngInfoResult } from '../../core/protocol';
import { OutputError } from './outputError';
import { NotPngError, readPngSize, readTextChunks } from './pngChunks';
import { CREATOR_TOOL_NAME, isAiSourceType, parseXmpCreatorTool, parseXmpDigitalSourceType, XMP_KEYWORD } from './xmp';
import { PARAMETERS_KEYWORD } from './writeImage';

/** PngInfoResult from an in-memory PNG; `file` is only used in the result and messages. */
export function pngInfoFromBuffer(buf: Buffer, file: string): PngInfoResult {
  const { width, height } = readPngSize(buf, file);
  const texts = readTextChunks(buf, file);
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
  let buf: Buffer;
  try {
    buf = await fsp.readFile(abs);
  } catch (e) {
    const code = typeof e === 'object' && e && 'code' in e ? String((e as { code: unknown }).code) : undefined;
    if (code === 'ENOENT') throw new OutputError(`Image ${abs} does not exist.`, abs, code);
    if (code === 'EISDIR') throw new OutputError(`${abs} is a folder, not a PNG file.`, abs, code);
    throw new OutputError(`Cannot read ${abs}: ${e instanceof Error ? e.message : String(e)}`, abs, code);
  }
  try {
    return pngInfoFromBuffer(buf, abs);
  } catch (e) {
    if (e instanceof NotPngError) throw new OutputError(e.message, abs, 'NOTPNG');
    throw e;
  }
}
