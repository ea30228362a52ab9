// img2img uploads: base64 images from the request, checked and written into the job's private
// folder, where the engine reads them as --init-image and --mask. Paths never come from clients,
// and URLs are not fetched (A1111 fetches them only when an option allows it).

import { promises as fs } from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { fieldError } from './httpError';

/** Largest upload in pixels: 16 megapixels (4096 x 4096), far above SD v1.5's 512 x 512. */
export const MAX_UPLOAD_PIXELS = 4096 * 4096;
const FORMATS = ['png', 'jpeg', 'webp'];

export interface UploadedImages {
  initImage: string;
  mask?: string;
}

export async function writeUploads(dir: string, initB64: string, maskB64: string | undefined, invertMask: boolean): Promise<UploadedImages> {
  const init = await decodeImage(initB64, ['init_images', 0]);
  const initImage = path.join(dir, 'init.png');
  // Re-encoded as PNG (orientation applied): the engine then reads one simple, checked file.
  const initPng = await sharp(init.data, { limitInputPixels: MAX_UPLOAD_PIXELS }).autoOrient().png().toBuffer();
  await fs.writeFile(initImage, initPng);
  if (maskB64 === undefined) return { initImage };
  const mask = await decodeImage(maskB64, 'mask');
  const file = path.join(dir, 'mask.png');
  // The size after orientation, which the mask must match.
  const { width = init.width, height = init.height } = await sharp(initPng).metadata();
  await fs.writeFile(file, await maskPng(mask.data, width, height, invertMask));
  return { initImage, mask: file };
}

/**
 * The mask as A1111 reads it (processing.py create_binary_mask): the alpha channel when it has
 * one that is not fully opaque, else the greyscale picture; white repaints. A1111 resizes the mask
 * to the image; so does this, so a mask of another size still works.
 */
async function maskPng(data: Buffer, width: number, height: number, invert: boolean): Promise<Buffer> {
  const open = () => sharp(data, { limitInputPixels: MAX_UPLOAD_PIXELS });
  const img = open().autoOrient();
  const meta = await open().metadata();
  let grey: ReturnType<typeof sharp>;
  if (meta.hasAlpha && (await open().extractChannel('alpha').stats()).channels[0].min < 255) {
    grey = img.extractChannel('alpha');
  } else {
    grey = img.removeAlpha().greyscale();
  }
  let out = grey.resize(width, height, { fit: 'fill' });
  if (invert) out = out.negate({ alpha: false });
  return out.png().toBuffer();
}

async function decodeImage(b64: string, field: string | (string | number)[]): Promise<{ data: Buffer; width: number; height: number }> {
  if (/^https?:\/\//i.test(b64)) {
    throw fieldError(field, 'Images must be sent as base64 data; this server does not fetch URLs.', b64);
  }
  // A1111 accepts data URLs too: "data:image/png;base64,...".
  const payload = b64.startsWith('data:') ? b64.slice(b64.indexOf(',') + 1) : b64;
  const clean = payload.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(clean) || clean.length === 0) {
    throw fieldError(field, 'Not valid base64 image data; send a PNG, JPEG or WebP file encoded as base64.', b64);
  }
  const data = Buffer.from(clean, 'base64');
  let meta: Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>;
  try {
    meta = await sharp(data, { limitInputPixels: MAX_UPLOAD_PIXELS }).metadata();
  } catch (err) {
    throw fieldError(field, `The image can't be read (${(err instanceof Error ? err.message : String(err)).split('\n')[0]}); send a PNG, JPEG or WebP file.`, b64);
  }
  if (!meta.format || !FORMATS.includes(meta.format)) {
    throw fieldError(field, `Images must be PNG, JPEG or WebP, got ${meta.format ?? 'an unknown format'}.`, b64);
  }
  const { width = 0, height = 0 } = meta;
  if (width * height > MAX_UPLOAD_PIXELS || width < 1 || height < 1) {
    throw fieldError(field, `The image is ${width}x${height}; at most ${MAX_UPLOAD_PIXELS / 2 ** 20} megapixels are accepted. Scale it down first.`, b64);
  }
  return { data, width, height };
}
