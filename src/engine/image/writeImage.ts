// Writes a generated image: PNG with the A1111 `parameters` infotext and the XMP AI label, an
// optional visible label strip, written atomically and never over a user's file unless asked.

import { existsSync, promises as fsp } from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { isInside } from '../../core/destination';
import { imageFileName, nextFreeName } from '../../core/fileNames';
import { writeFileAtomic } from './atomicWrite';
import { labelStripSvg } from './label';
import { OutputError } from './outputError';
import { addTextChunks, TextChunkOptions } from './pngChunks';
import { XMP_KEYWORD } from './xmp';

export const PARAMETERS_KEYWORD = 'parameters';

export interface WriteGeneratedPngOptions {
  /** HxWx3 interleaved RGB bytes. */
  rgb: Uint8Array;
  width: number;
  height: number;
  dest: string;
  overwrite?: boolean;
  /** A1111 infotext, stored as the `parameters` text chunk. */
  infotext: string;
  /** XMP packet (see buildXmp), stored as iTXt "XML:com.adobe.xmp". */
  xmp: string;
  /** Visible text drawn in a strip across the bottom, e.g. MEDICAL_LABEL. */
  label?: string;
  /** The file must stay inside this folder, by real path (see checkOutputFolder). */
  confineTo?: string;
}

/** Encodes RGB bytes (plus the optional label strip) as a PNG without metadata. */
export async function encodePng(rgb: Uint8Array, width: number, height: number, label?: string): Promise<Buffer> {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`image size must be positive integers, got ${width}x${height}`);
  }
  if (rgb.length !== width * height * 3) {
    throw new Error(`rgb has ${rgb.length} bytes; a ${width}x${height} RGB image needs ${width * height * 3}`);
  }
  let img = sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.length), { raw: { width, height, channels: 3 } });
  if (label && label.trim() !== '') {
    const strip = labelStripSvg(label, width, height);
    img = sharp(await img.composite([{ input: strip.svg, left: 0, top: height - strip.height }]).removeAlpha().raw().toBuffer(), {
      raw: { width, height, channels: 3 },
    });
  }
  return img.png({ compressionLevel: 6, adaptiveFiltering: true }).toBuffer();
}

/** Adds the `parameters` and XMP chunks to an encoded PNG. */
export function addGenerationMetadata(png: Buffer, infotext: string, xmp: string): Buffer {
  const chunks: TextChunkOptions[] = [{ keyword: PARAMETERS_KEYWORD, text: infotext }];
  if (xmp) chunks.push({ keyword: XMP_KEYWORD, text: xmp, itxt: true });
  return addTextChunks(png, chunks);
}

/**
 * Refuses an output folder that is itself a symbolic link. The extension checks that the real
 * destination is inside the workspace before it asks for an image; this second check, where the
 * file is written, stops a folder swapped for a link meanwhile (or a caller that did not check)
 * from sending the image elsewhere. A folder given on the command line is refused the same way:
 * name the real folder.
 */
export async function checkOutputFolder(dest: string, confineTo?: string): Promise<void> {
  const dir = path.dirname(path.resolve(dest));
  const st = await fsp.lstat(dir).catch(() => undefined);
  if (st?.isSymbolicLink()) {
    const target = await fsp.realpath(dir).catch(() => fsp.readlink(dir).catch(() => '?'));
    throw new OutputError(
      `The output folder ${dir} is a symbolic link to ${target}; images are not written through symbolic links. ` +
        'Choose a folder that is not a link (in VS Code: courseIllustrator.imageFolder or markdown.copyFiles.destination).',
      dir,
      'ESYMLINK',
    );
  }
  if (confineTo === undefined) return;
  // A link further up the path (a linked folder inside the workspace) is followed here, by
  // real paths, as the extension did before it asked; this catches a link swapped in meanwhile.
  const root = await fsp.realpath(confineTo).catch(() => undefined);
  const real = await realPathOfDeepest(path.resolve(dest));
  if (!root || !isInside(root, real)) {
    throw new OutputError(
      `The image would be written to ${real}, which is outside ${root ?? confineTo} once symbolic links are followed; ` +
        'nothing was written. Choose a folder inside the workspace that is not reached through a link (courseIllustrator.imageFolder or markdown.copyFiles.destination).',
      dir,
      'EOUTSIDE',
    );
  }
}

/** The real path of the deepest part of `p` that exists, with the rest of `p` appended. */
async function realPathOfDeepest(p: string): Promise<string> {
  const rest: string[] = [];
  let cur = p;
  for (;;) {
    const real = await fsp.realpath(cur).catch(() => undefined);
    if (real !== undefined) return path.join(real, ...rest.reverse());
    const parent = path.dirname(cur);
    if (parent === cur) return p;
    rest.push(path.basename(cur));
    cur = parent;
  }
}

/** Encodes, labels and writes the image; returns the absolute path written. */
export async function writeGeneratedPng(o: WriteGeneratedPngOptions): Promise<string> {
  await checkOutputFolder(o.dest, o.confineTo);
  const png = addGenerationMetadata(await encodePng(o.rgb, o.width, o.height, o.label), o.infotext, o.xmp);
  return writeFileAtomic(o.dest, png, { overwrite: o.overwrite, what: 'Image' });
}

/**
 * A free path "<dir>/<slug>-<seed>.png" (or -2, -3 ...) for --out-dir. `exists` defaults to the
 * file system; the final write still refuses to replace a file that appears meanwhile.
 */
export function outputPathFor(
  dir: string,
  prompt: string,
  seed: number,
  exists: (p: string) => boolean = existsSync,
): string {
  const abs = path.resolve(dir);
  const name = nextFreeName(imageFileName(prompt, seed), (n) => exists(path.join(abs, n)));
  return path.join(abs, name);
}

export { OutputError };
