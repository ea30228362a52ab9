// Gallery thumbnails: the image scaled to fit a size x size box, written atomically.

import * as path from 'path';
import sharp from 'sharp';
import { ThumbnailResult } from '../../core/protocol';
import { writeFileAtomic } from './atomicWrite';
import { OutputError } from './outputError';

/**
 * Writes a thumbnail no larger than size x size (aspect kept, never enlarged). The format follows
 * dest's extension: .webp (smaller) or .png. An existing thumbnail is replaced: it is ours.
 */
export async function makeThumbnail(source: string, dest: string, size: number): Promise<ThumbnailResult> {
  if (!Number.isInteger(size) || size < 1 || size > 4096) throw new Error(`thumbnail size must be an integer 1-4096, got ${size}`);
  const ext = path.extname(dest).toLowerCase();
  if (ext !== '.webp' && ext !== '.png') throw new Error(`thumbnail ${dest} must end in .webp or .png`);
  let img = sharp(source, { failOn: 'error' })
    .rotate()
    .resize(size, size, { fit: 'inside', withoutEnlargement: true });
  img = ext === '.webp' ? img.webp({ quality: 80 }) : img.png({ compressionLevel: 9 });
  const out = await img.toBuffer({ resolveWithObject: true }).catch((e: unknown) => {
    const msg = e instanceof Error ? e.message : String(e);
    throw new OutputError(`Cannot make a thumbnail of ${path.resolve(source)}: ${msg}`, path.resolve(source));
  });
  const written = await writeFileAtomic(dest, out.data, { overwrite: true, what: 'Thumbnail' });
  return { path: written, width: out.info.width, height: out.info.height };
}
