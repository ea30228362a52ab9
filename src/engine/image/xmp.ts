// XMP packet that labels an image as AI-generated the way platforms and photo tools look for it:
// IPTC Digital Source Type "trainedAlgorithmicMedia". In PNG, Adobe and exiftool read XMP from an
// uncompressed iTXt chunk with the keyword "XML:com.adobe.xmp".

export const XMP_KEYWORD = 'XML:com.adobe.xmp';
export const TRAINED_ALGORITHMIC_MEDIA = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';
export const CREATOR_TOOL_NAME = 'Course Illustrator';
export const TEACHING_STATEMENT = 'AI-generated teaching material';
export const MEDICAL_STATEMENT = 'AI-generated teaching material, not for diagnosis';

export interface XmpOptions {
  /** Written as dc:description. */
  prompt: string;
  /** App version, written as xmp:CreatorTool "Course Illustrator <version>". */
  version: string;
  /** A statement for people who reuse the image, e.g. TEACHING_STATEMENT (photoshop:Instructions). */
  statement?: string;
  /** ISO date-time; default now. */
  createDate?: string;
}

// XML 1.0 forbids most control characters even when escaped; drop them.
function xmlText(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function langAlt(tag: string, text: string): string {
  return `   <${tag}>\n    <rdf:Alt>\n     <rdf:li xml:lang="x-default">${xmlText(text)}</rdf:li>\n    </rdf:Alt>\n   </${tag}>\n`;
}

export function buildXmp(o: XmpOptions): string {
  const date = o.createDate ?? new Date().toISOString();
  const attrs = [
    `    xmlns:dc="http://purl.org/dc/elements/1.1/"`,
    `    xmlns:xmp="http://ns.adobe.com/xap/1.0/"`,
    `    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"`,
    `    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"`,
    `    Iptc4xmpExt:DigitalSourceType="${TRAINED_ALGORITHMIC_MEDIA}"`,
    `    xmp:CreatorTool="${xmlText(`${CREATOR_TOOL_NAME} ${o.version}`)}"`,
    `    xmp:CreateDate="${xmlText(date)}"`,
  ];
  if (o.statement) attrs.push(`    photoshop:Instructions="${xmlText(o.statement)}"`);
  return (
    `<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n` +
    `<x:xmpmeta xmlns:x="adobe:ns:meta/">\n` +
    ` <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n` +
    `  <rdf:Description rdf:about=""\n${attrs.join('\n')}>\n` +
    // The statement after the prompt: tools that show one description show both.
    langAlt('dc:description', o.statement ? `${o.prompt} (${o.statement})` : o.prompt) +
    `  </rdf:Description>\n` +
    ` </rdf:RDF>\n` +
    `</x:xmpmeta>\n` +
    `<?xpacket end="w"?>`
  );
}

function xmlUnescape(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[e];
  });
}

/**
 * A simple property's value in any of the RDF forms tools write: attribute (`p:Name="v"`),
 * element (`<p:Name>v</p:Name>`) or resource (`<p:Name rdf:resource="v"/>`). The namespace
 * prefix is not checked: writers choose their own.
 */
function readProperty(xmp: string, localName: string): string | undefined {
  const n = localName;
  // The packet comes from a file anyone can make: the regexes below would take time quadratic in
  // its length (a 1 MB packet of "<x:CreatorTool " repeated: minutes), so they only run on short
  // windows around the first few places that name the property.
  const around = windows(xmp, `:${n}`);
  const attr = firstMatch(around, new RegExp(`[\\s<][\\w.-]+:${n}\\s*=\\s*("([^"]*)"|'([^']*)')`));
  if (attr) return xmlUnescape((attr[2] ?? attr[3]).trim());
  const res = firstMatch(around, new RegExp(`<[\\w.-]+:${n}\\b[^>]*\\brdf:resource\\s*=\\s*("([^"]*)"|'([^']*)')`));
  if (res) return xmlUnescape((res[2] ?? res[3]).trim());
  const el = firstMatch(around, new RegExp(`<([\\w.-]+):${n}\\b[^>]*>([^<]*)</\\1:${n}>`));
  if (el) return xmlUnescape(el[2].trim());
  return undefined;
}

/** Property names looked at per packet, and the text kept before and after each. */
const MAX_OCCURRENCES = 8;
const BEFORE = 128;
const AFTER = 2048;

/** Short slices of `xmp` around its first occurrences of `needle`, in order. */
function windows(xmp: string, needle: string): string[] {
  const out: string[] = [];
  for (let from = 0; out.length < MAX_OCCURRENCES; ) {
    const i = xmp.indexOf(needle, from);
    if (i < 0) break;
    out.push(xmp.slice(Math.max(0, i - BEFORE), i + AFTER));
    from = i + needle.length;
  }
  return out;
}

function firstMatch(texts: readonly string[], re: RegExp): RegExpExecArray | undefined {
  for (const t of texts) {
    const m = re.exec(t);
    if (m) return m;
  }
  return undefined;
}

/** The IPTC DigitalSourceType URI, if the packet has one. */
export function parseXmpDigitalSourceType(xmp: string): string | undefined {
  return readProperty(xmp, 'DigitalSourceType');
}

export function parseXmpCreatorTool(xmp: string): string | undefined {
  return readProperty(xmp, 'CreatorTool');
}

/** True for trainedAlgorithmicMedia and its composite variant. */
export function isAiSourceType(uri: string | undefined): boolean {
  if (!uri) return false;
  const code = uri.replace(/\/+$/, '').split('/').pop() ?? '';
  return code === 'trainedAlgorithmicMedia' || code === 'compositeWithTrainedAlgorithmicMedia';
}
