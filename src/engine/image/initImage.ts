// Reading the init image and the mask of an img2img or inpainting job as diffusers' load_image
// does (PIL: exif_transpose, then .convert("RGB")): orientation applied, 8-bit RGB, alpha dropped
// (not blended: the colour under a transparent pixel is what counts), greyscale repeated on the
// three channels. PNGs (8 and 16 bits, grey, grey + alpha, RGB, RGBA, palette) and JPEGs work, and
// whatever else sharp reads (WebP, TIFF...).
//
// Where this differs from PIL: 16-bit PNGs keep their high byte (PIL does the same for RGB; for a
// 16-bit greyscale PNG its "I;16" -> "RGB" conversion clips every value above 255 to white, which
// is never what the image shows); embedded ICC profiles are ignored, as PIL ignores them; JPEGs
// are decoded by libjpeg-turbo in both, with the same IDCT, so their pixels agree.

import { promises as fs } from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { badInput } from '../errors';

export interface RgbImage {
  width: number;
  height: number;
  /** Interleaved 8-bit RGB, row by row. */
  rgb: Uint8Array;
}

/** Larger images are refused before they are decoded (a 16k x 16k PNG is 800 MB of pixels). */
export const MAX_INPUT_PIXELS = 64 * 1024 * 1024;

/** The image at `file` as 8-bit RGB; `option` ("--init-image", "--mask") names it in errors. */
export async function readRgbImage(file: string, option: string): Promise<RgbImage> {
  const abs = path.resolve(file);
  let st;
  try {
    st = await fs.stat(abs);
  } catch {
    throw badInput(`${option} ${abs} does not exist; give the path of a PNG or JPEG image.`);
  }
  if (!st.isFile()) throw badInput(`${option} ${abs} is not a file; give the path of a PNG or JPEG image.`);
  try {
    const { data, info } = await sharp(abs, { autoOrient: true, ignoreIcc: true, limitInputPixels: MAX_INPUT_PIXELS })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
      throw new Error(`decoded to ${info.channels} channels`);
    }
    return { width: info.width, height: info.height, rgb: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (/pixel limit/i.test(msg)) {
      throw badInput(`${option} ${abs} is too large (more than ${MAX_INPUT_PIXELS / 1024 / 1024} megapixels); scale it down first.`);
    }
    throw badInput(`${option} ${abs} can't be read as an image (${msg.split('\n')[0]}); give a PNG or JPEG file.`);
  }
}

/** PIL's convert("L") of RGB: (R * 19595 + G * 38470 + B * 7471 + 0x8000) >> 16 (ITU-R 601-2 luma). */
export function rgbToLuma(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array(rgb.length / 3);
  for (let i = 0, j = 0; i < out.length; i++, j += 3) out[i] = (rgb[j] * 19595 + rgb[j + 1] * 38470 + rgb[j + 2] * 7471 + 0x8000) >>> 16;
  return out;
}
