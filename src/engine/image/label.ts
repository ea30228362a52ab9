// The visible "AI-generated" label: a dark strip with white text across the bottom of the image,
// drawn from an SVG (rendered by sharp's librsvg with the system fonts) and scaled to the width.

import { ContentDomain } from '../../core/protocol';
import { TEACHING_STATEMENT } from './xmp';

export const MEDICAL_LABEL = 'AI-generated teaching image — not for diagnosis';

/**
 * What a domain adds to the image: medical images always carry the visible label; teaching
 * (education, medical) images carry the XMP statement.
 */
export function aiLabelsFor(domain: ContentDomain | undefined): { label?: string; statement?: string } {
  if (domain === 'medical') return { label: MEDICAL_LABEL, statement: TEACHING_STATEMENT };
  if (domain === 'education') return { statement: TEACHING_STATEMENT };
  return {};
}

const FONT_FAMILY = "'DejaVu Sans', sans-serif";
// DejaVu Sans averages a bit under 0.6 em per character for mixed text; the estimate errs wide
// so the text never overflows, and textLength below squeezes it if it still would.
const AVG_CHAR_EM = 0.6;

function escapeXml(s: string): string {
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface LabelStrip {
  svg: Buffer;
  height: number;
}

/** An SVG strip `width` pixels wide whose height follows the font size chosen to fit the text. */
export function labelStripSvg(text: string, width: number, imageHeight: number): LabelStrip {
  const chars = Math.max(1, [...text].length);
  const margin = Math.max(4, Math.round(width * 0.02));
  const fit = (width - 2 * margin) / (chars * AVG_CHAR_EM);
  // Readable but never more than a fifth of the image.
  const fontSize = Math.max(7, Math.min(fit, width / 20, imageHeight / 8));
  const height = Math.min(imageHeight, Math.max(10, Math.round(fontSize * 1.7)));
  const needed = chars * AVG_CHAR_EM * fontSize;
  const squeeze = needed > width - 2 * margin ? ` textLength="${width - 2 * margin}" lengthAdjust="spacingAndGlyphs"` : '';
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#000" fill-opacity="0.78"/>` +
    `<text x="${width / 2}" y="${height / 2}" fill="#fff" font-family="${FONT_FAMILY}" font-size="${fontSize.toFixed(1)}"` +
    ` text-anchor="middle" dominant-baseline="central"${squeeze}>${escapeXml(text)}</text>` +
    `</svg>`;
  return { svg: Buffer.from(svg, 'utf8'), height };
}
