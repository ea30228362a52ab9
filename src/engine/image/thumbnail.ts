// Gallery thumbnails: the image scaled to fit a size x size box, written atomically. The source
// is any file in the workspace, so it is read like untrusted input: a regular file only (not a
// link to a device), of bounded size, and its declared width and height are checked before
// anything is decoded.

import * as path from 'path';
import sharp from 'sharp';
import { ThumbnailResult } from '../../core/protocol';
import { writeFileAtomic } from './atomicWrite';
import { OutputError } from './outputError';
import { isPng } from './pngChunks';
import { openRegularFile } from './pngFile';

/** Largest side decoded, in pixels. */
export const MAX_DECODE_SIDE = 8192;
/** Most pixels decoded (64 Mpx: 256 MB as RGBA). */
export const MAX_DECODE_PIXELS = 64 * 1024 * 1024;
/** Largest source file read. */
export const MAX_SOURCE_BYTES = 128 * 1024 * 1024;

/** Throws OutputError for a size that would not be decoded. */
export function checkDecodeSize(width: number, height: number, file: string): void {
  if (!(width >= 1 && height >= 1) || width > MAX_DECODE_SIDE || height > MAX_DECODE_SIDE || width * height > MAX_DECODE_PIXELS) {
    throw new OutputError(
      `Image ${file} declares ${width}x${height} pixels; images over ${MAX_DECODE_SIDE} pixels a side or ${MAX_DECODE_PIXELS / (1024 * 1024)} megapixels are not decoded.`,
      file,
      'TOOLARGE',
    );
  }
}

/**
 * Writes a thumbnail no larger than size x size (aspect kept, never enlarged). The format follows
 * dest's extension: .webp (smaller) or .png. An existing thumbnail is replaced: it is ours.
 */
export async function makeThumbnail(source: string, dest: string, size: number): Promise<ThumbnailResult> {
  if (!Number.isInteger(size) || size < 1 || size > 4096) throw new Error(`thumbnail size must be an integer 1-4096, got ${size}`);
  const ext = path.extname(dest).toLowerCase();
  if (ext !== '.webp' && ext !== '.png') throw new Error(`thumbnail ${dest} must end in .webp or .png`);
  const data = await readImageFile(source);
  const abs = path.resolve(source);
  const fail = (e: unknown): never => {
    if (e instanceof OutputError) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    throw new OutputError(`Cannot make a thumbnail of ${abs}: ${msg}`, abs);
  };
  // PNG: IHDR is the first chunk, its width and height at bytes 16-23; checked before sharp looks.
  if (isPng(data) && data.length >= 24 && data.toString('latin1', 12, 16) === 'IHDR') {
    checkDecodeSize(data.readUInt32BE(16), data.readUInt32BE(20), abs);
  }
  const input = () => sharp(data, { failOn: 'error', limitInputPixels: MAX_DECODE_PIXELS });
  // Other formats: the header says the size without decoding.
  const meta = await input().metadata().catch(fail);
  checkDecodeSize(meta.width ?? 0, meta.height ?? 0, abs);
  let img = input().rotate().resize(size, size, { fit: 'inside', withoutEnlargement: true });
  img = ext === '.webp' ? img.webp({ quality: 80 }) : img.png({ compressionLevel: 9 });
  const out = await img.toBuffer({ resolveWithObject: true }).catch(fail);
  const written = await writeFileAtomic(dest, out.data, { overwrite: true, what: 'Thumbnail' });
  return { path: written, width: out.info.width, height: out.info.height };
}

/** The whole source, read from one descriptor after checking it is a regular file of bounded size. */
export async function readImageFile(source: string): Promise<Buffer> {
  const { handle, size, abs } = await openRegularFile(source);
  try {
    if (size > MAX_SOURCE_BYTES) {
      throw new OutputError(`Image ${abs} is ${Math.round(size / (1024 * 1024))} MB; images over ${MAX_SOURCE_BYTES / (1024 * 1024)} MB are not decoded.`, abs, 'TOOLARGE');
    }
    const buf = Buffer.alloc(size);
    let got = 0;
    while (got < size) {
      const { bytesRead } = await handle.read(buf, got, size - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buf.subarray(0, got);
  } finally {
    await handle.close().catch(() => undefined);
  }
}
