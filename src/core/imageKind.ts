// What kind of image some bytes are, from their first bytes: the formats the engine reads as an
// init image or a mask. Pure: the panel's host side checks dropped bytes with it before writing.

export type ImageKind = 'png' | 'jpeg' | 'webp';

export const IMAGE_EXTENSIONS: Record<ImageKind, string> = { png: '.png', jpeg: '.jpg', webp: '.webp' };

/** Extensions of files offered as a source image (open dialog, explorer menu, image links). */
export const SOURCE_IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'webp'] as const;

export function imageKind(bytes: Uint8Array): ImageKind | undefined {
  const at = (i: number, ...b: number[]) => b.every((v, k) => bytes[i + k] === v);
  if (bytes.length >= 8 && at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'png';
  if (bytes.length >= 3 && at(0, 0xff, 0xd8, 0xff)) return 'jpeg';
  // RIFF....WEBP
  if (bytes.length >= 12 && at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return 'webp';
  return undefined;
}

/** True when a path's extension is one of SOURCE_IMAGE_EXTENSIONS. */
export function isSourceImagePath(p: string): boolean {
  const m = /\.([A-Za-z0-9]+)$/.exec(p);
  return !!m && (SOURCE_IMAGE_EXTENSIONS as readonly string[]).includes(m[1].toLowerCase());
}
