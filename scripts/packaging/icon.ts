// The Marketplace icon (package.json "icon": media/icon.png, 128×128): media/icon.svg, the
// activity bar's line drawing in currentColor, drawn white on a coloured rounded square, so it
// reads on light and dark galleries alike. Made at packaging time, so it never drifts from the SVG.

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';

export const ICON_SIZE = 128;
/** The galleryBanner colour in package.json, so icon and banner match. */
export const ICON_BACKGROUND = '#1f4e79';

export async function writeIcon(svgFile: string, pngFile: string): Promise<void> {
  const svg = await fs.readFile(svgFile, 'utf8');
  const inner = /<svg[^>]*>([\s\S]*)<\/svg>/.exec(svg)?.[1];
  if (!inner) throw new Error(`${svgFile} is not an <svg> file: cannot make the icon from it.`);
  const attrs = /<svg([^>]*)>/.exec(svg)?.[1] ?? '';
  const viewBox = /viewBox="([^"]+)"/.exec(attrs)?.[1] ?? '0 0 24 24';
  // The glyph fills 80 of the 128 pixels, centred; the stroke keeps the SVG's own width.
  const drawn = `<svg xmlns="http://www.w3.org/2000/svg" width="${ICON_SIZE}" height="${ICON_SIZE}" viewBox="0 0 ${ICON_SIZE} ${ICON_SIZE}">
  <rect width="${ICON_SIZE}" height="${ICON_SIZE}" rx="24" fill="${ICON_BACKGROUND}"/>
  <svg x="24" y="24" width="80" height="80" viewBox="${viewBox}" fill="none" stroke="#ffffff" stroke-width="1.5" stroke-linecap="round" stroke-linejoin="round">${inner.replace(/currentColor/g, '#ffffff')}</svg>
</svg>`;
  await fs.mkdir(path.dirname(pngFile), { recursive: true });
  await sharp(Buffer.from(drawn)).resize(ICON_SIZE, ICON_SIZE).png({ compressionLevel: 9 }).toFile(pngFile);
}
