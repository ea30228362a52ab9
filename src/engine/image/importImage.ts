// engine/import: writes an image a server made (A1111, ComfyUI, SwarmUI) the way the engine
// writes its own, so the course gets the same file whoever computed it: the infotext, the XMP AI
// label, the visible label for medical images, the confineTo check, an atomic write that never
// replaces a file unless asked. The server's own metadata chunks are dropped: the pixels are
// decoded and encoded again, and the infotext given (the server's or one built from the request)
// is what the file says.

import * as fs from 'fs';
import sharp from 'sharp';
import type { ImportImageParams } from '../../core/importProtocol';
import type { GeneratedImage } from '../../core/protocol';
import { SIZE } from '../../core/limits';
import { EngineError, asEngineError } from '../errors';
import { VERSION } from '../version';
import { withInfotextFields } from '../../core/infotext';
import { aiLabelsFor } from './label';
import { outputPathFor, writeGeneratedPng } from './writeImage';
import { buildXmp } from './xmp';

export async function importImage(p: ImportImageParams): Promise<GeneratedImage> {
  const bytes = Buffer.from(p.imageBase64, 'base64');
  let decoded: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    // Transparent pixels (a WebP or PNG with alpha) are laid on white, as a browser shows them.
    decoded = await sharp(bytes, { limitInputPixels: SIZE.max * SIZE.max * 4 })
      .flatten({ background: '#ffffff' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new EngineError('badInput', `The server sent an image that cannot be read (${err instanceof Error ? err.message : String(err)}); nothing was written. Try again, or ask whoever runs the server.`);
  }
  const { width, height, channels } = decoded.info;
  if (channels !== 3) throw new EngineError('internal', `decoded image has ${channels} channels, expected 3`);
  const dest = p.outFile ?? outputPathFor(p.outDir!, p.prompt, p.seed, (f) => fs.existsSync(f));
  const labels = aiLabelsFor(p.domain, p.labelLanguage);
  // A medical image says so in its parameters too, whatever the server wrote.
  const infotext = labels.infotext ? withInfotextFields(p.infotext, labels.infotext) : p.infotext;
  try {
    const file = await writeGeneratedPng({
      rgb: new Uint8Array(decoded.data.buffer, decoded.data.byteOffset, decoded.data.length),
      width,
      height,
      dest,
      overwrite: p.overwrite,
      infotext,
      xmp: buildXmp({ prompt: p.prompt, version: VERSION, statement: labels.statement }),
      label: labels.label,
      confineTo: p.confineTo,
    });
    return { path: file, seed: p.seed, width, height, infotext };
  } catch (err) {
    throw asEngineError(err);
  }
}
