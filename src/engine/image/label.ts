// The visible "AI-generated" label: a dark strip with white text across the bottom of the image,
// drawn from an SVG (rendered by sharp's librsvg with the system fonts) and scaled to the width.

import { AI_LABEL_FIELD, AI_LABEL_MEDICAL, type LabelLanguage, MEDICAL_LABEL_TEXT } from '../../core/domain';
import { ContentDomain } from '../../core/protocol';
import { MEDICAL_STATEMENT, TEACHING_STATEMENT } from './xmp';

export const MEDICAL_LABEL = MEDICAL_LABEL_TEXT.en;

export interface AiLabels {
  /** The visible strip's text. */
  label?: string;
  /** For XMP (photoshop:Instructions, and after the prompt in dc:description). */
  statement?: string;
  /** Pairs for the infotext, so the parameters say it too and a regenerated image keeps it. */
  infotext?: Record<string, string>;
}

/**
 * What a domain adds to the image: medical images always carry the visible label (in the
 * document's language), the statement "not for diagnosis" in XMP and an infotext field; teaching
 * (education) images carry the XMP statement.
 */
export function aiLabelsFor(domain: ContentDomain | undefined, lang: LabelLanguage = 'en'): AiLabels {
  if (domain === 'medical') return { label: MEDICAL_LABEL_TEXT[lang], statement: MEDICAL_STATEMENT, infotext: { [AI_LABEL_FIELD]: AI_LABEL_MEDICAL } };
  if (domain === 'education') return { statement: TEACHING_STATEMENT };
  return {};
}

// DejaVu Sans for Latin text; for Chinese whichever CJK font the system has (Windows, macOS and
// Linux names), fontconfig picking per glyph.
const FONT_FAMILY = "'DejaVu Sans', 'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', 'PingFang SC', 'WenQuanYi Micro Hei', sans-serif";
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

/** Width of a line in ems: a CJK character is about one em, twice a Latin one. */
function lineEms(line: string): number {
  return [...line].reduce((n, c) => n + (/[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]/.test(c) ? 1 : AVG_CHAR_EM), 0);
}

/**
 * An SVG strip `width` pixels wide whose height follows the font size chosen to fit the text;
 * one line per line of `text` (a Chinese label comes with its English line, readable even where
 * the system has no Chinese font).
 */
export function labelStripSvg(text: string, width: number, imageHeight: number): LabelStrip {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const widest = Math.max(1, ...lines.map(lineEms));
  const margin = Math.max(4, Math.round(width * 0.02));
  const fit = (width - 2 * margin) / widest;
  // Readable but never more than a fifth of the image.
  const fontSize = Math.max(7, Math.min(fit, width / 20, imageHeight / (8 * lines.length)));
  const lineHeight = fontSize * 1.35;
  const height = Math.min(imageHeight, Math.max(10, Math.round(lineHeight * lines.length + fontSize * 0.35)));
  const top = (height - lineHeight * lines.length) / 2 + lineHeight / 2;
  const texts = lines.map((line, i) => {
    const squeeze = lineEms(line) * fontSize > width - 2 * margin ? ` textLength="${width - 2 * margin}" lengthAdjust="spacingAndGlyphs"` : '';
    return `<text x="${width / 2}" y="${(top + i * lineHeight).toFixed(1)}" fill="#fff" font-family="${FONT_FAMILY}" font-size="${fontSize.toFixed(1)}"` +
      ` text-anchor="middle" dominant-baseline="central"${squeeze}>${escapeXml(line)}</text>`;
  });
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#000" fill-opacity="0.78"/>` +
    texts.join('') +
    `</svg>`;
  return { svg: Buffer.from(svg, 'utf8'), height };
}
