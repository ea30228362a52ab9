// Finds illustration requests ("stubs") and existing images in Markdown text. Pure: no vscode,
// no file system; positions are 0-based line + UTF-16 character offsets like VS Code's.
//
// Stubs:
//   ![a heart, cross-section]()          empty link: alt text is the prompt
//   ![a heart, cross-section](TODO)      same
//   <!-- illustrate: PROMPT | seed: 42 | size: 768x512 | steps: 25 | negative: ... | scheduler: ... -->
// A directive stays in the document; its image goes on the line below it (an image already
// there is the directive's image and gets replaced when it is generated again).
//
// One pass over the lines with cheap tests first, so a 5,000-line file stays fast.
// Fenced code blocks and inline code spans are skipped.

import { resolveSchedulerName } from './schedulerNames';

export interface TextRange {
  line: number;
  start: number;
  end: number;
}

export interface StubOptions {
  seed?: number;
  width?: number;
  height?: number;
  steps?: number;
  guidance?: number;
  negative?: string;
  scheduler?: string;
  /** Alt text when it should differ from the prompt. */
  alt?: string;
  /** A template id from templates.ts. */
  template?: string;
}

export interface StubDiagnostic {
  range: TextRange;
  message: string;
  severity: 'error' | 'warning';
}

export interface ImageStub {
  kind: 'empty-link' | 'directive';
  /** What the lens and the edit act on: the `![...]()` text, or the whole comment. */
  range: TextRange;
  prompt: string;
  alt: string;
  options: StubOptions;
  /** Directive only: the image line right below it, replaced on regeneration. */
  image?: MarkdownImage;
}

export interface MarkdownImage {
  range: TextRange;
  alt: string;
  /** The link target as written (still URL-encoded). */
  href: string;
  /** The link target decoded (%20 -> space), without a title. */
  path: string;
}

export interface ParseResult {
  stubs: ImageStub[];
  /** Images with a local, relative .png target (candidates for "Regenerate"). */
  images: MarkdownImage[];
  diagnostics: StubDiagnostic[];
}

export const DIRECTIVE_KEYS = ['seed', 'size', 'steps', 'guidance', 'negative', 'scheduler', 'alt', 'template'] as const;

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
// ![alt](target "title") on one line; alt may hold escaped brackets.
const IMAGE = /!\[((?:\\.|[^\]\\])*)\]\(\s*(<[^>]*>|[^\s)]*)(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g;
const DIRECTIVE = /<!--\s*illustrate\s*:(.*?)-->/gi;
const DIRECTIVE_START = /<!--\s*illustrate\s*:/i;

/** Blanks inline code spans (same length) so that `![x]()` inside backticks is not a stub. */
function blankInlineCode(line: string): string {
  if (!line.includes('`')) return line;
  return line.replace(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g, (m) => ' '.repeat(m.length));
}

function unescapeAlt(alt: string): string {
  return alt.replace(/\\([\\\[\]])/g, '$1').trim();
}

function decodeTarget(href: string): string {
  let t = href.trim();
  if (t.startsWith('<') && t.endsWith('>')) t = t.slice(1, -1);
  try {
    return decodeURI(t);
  } catch {
    return t;
  }
}

export function parseStubs(text: string, options: { schedulerNames?: (s: string) => boolean; templateIds?: readonly string[] } = {}): ParseResult {
  const lines = text.split(/\r?\n/);
  const result: ParseResult = { stubs: [], images: [], diagnostics: [] };
  let fence: string | undefined;
  let pendingDirective: ImageStub | undefined;
  for (let lineNo = 0; lineNo < lines.length; lineNo++) {
    const raw = lines[lineNo];
    const directiveAbove = pendingDirective;
    pendingDirective = undefined;
    const fenceMatch = FENCE.exec(raw);
    if (fence) {
      if (fenceMatch && fenceMatch[1][0] === fence[0] && fenceMatch[1].length >= fence.length && raw.trim() === fenceMatch[1]) fence = undefined;
      continue;
    }
    if (fenceMatch) {
      fence = fenceMatch[1];
      continue;
    }
    // Cheap filter: most lines have neither an image nor a comment.
    if (!raw.includes('![') && !raw.includes('<!--')) continue;
    const line = blankInlineCode(raw);

    if (line.includes('<!--')) {
      DIRECTIVE.lastIndex = 0;
      let found = false;
      for (let m = DIRECTIVE.exec(line); m; m = DIRECTIVE.exec(line)) {
        found = true;
        const range = { line: lineNo, start: m.index, end: m.index + m[0].length };
        const bodyStart = m.index + m[0].indexOf(':') + 1;
        const stub = parseDirective(m[1], range, bodyStart, result.diagnostics, options);
        if (stub) {
          result.stubs.push(stub);
          pendingDirective = stub;
        }
      }
      if (!found && DIRECTIVE_START.test(line)) {
        const start = line.search(DIRECTIVE_START);
        result.diagnostics.push({
          range: { line: lineNo, start, end: line.length },
          message: 'An illustrate comment must end on the same line with "-->".',
          severity: 'error',
        });
      }
    }

    if (line.includes('![')) {
      IMAGE.lastIndex = 0;
      for (let m = IMAGE.exec(line); m; m = IMAGE.exec(line)) {
        const range = { line: lineNo, start: m.index, end: m.index + m[0].length };
        const alt = unescapeAlt(m[1]);
        const target = m[2].trim();
        if (target === '' || target === '<>' || /^todo$/i.test(target)) {
          if (!alt) {
            result.diagnostics.push({
              range,
              message: 'Empty image stub: write the prompt between the brackets, like ![a labelled diagram of a plant cell]().',
              severity: 'warning',
            });
            continue;
          }
          result.stubs.push({ kind: 'empty-link', range, prompt: alt, alt, options: {} });
          continue;
        }
        const path = decodeTarget(target);
        const image: MarkdownImage = { range, alt, href: target, path };
        if (/\.png$/i.test(path) && !/^[a-z][a-z0-9+.-]*:/i.test(path)) {
          result.images.push(image);
          if (directiveAbove && lineNo === directiveAbove.range.line + 1 && !directiveAbove.image) directiveAbove.image = image;
        }
      }
    }
  }
  return result;
}

function parseDirective(
  body: string,
  range: TextRange,
  bodyStart: number,
  diagnostics: StubDiagnostic[],
  config: { schedulerNames?: (s: string) => boolean; templateIds?: readonly string[] },
): ImageStub | undefined {
  const parts = body.split('|');
  const prompt = parts[0].trim();
  const where = (text: string, offset: number): TextRange => ({ line: range.line, start: bodyStart + offset, end: bodyStart + offset + text.length });
  if (!prompt) {
    diagnostics.push({
      range,
      message: 'The illustrate comment has no prompt: <!-- illustrate: a labelled diagram of a plant cell | seed: 42 -->.',
      severity: 'error',
    });
    return undefined;
  }
  const options: StubOptions = {};
  let offset = parts[0].length + 1;
  for (const part of parts.slice(1)) {
    const partOffset = offset;
    offset += part.length + 1;
    const text = part.trim();
    if (!text) continue;
    const at = where(part, partOffset);
    const colon = text.indexOf(':');
    if (colon < 0) {
      diagnostics.push({ range: at, message: `"${text}" is not an option: write key: value (keys: ${DIRECTIVE_KEYS.join(', ')}).`, severity: 'error' });
      continue;
    }
    const key = text.slice(0, colon).trim().toLowerCase();
    const value = text.slice(colon + 1).trim();
    const problem = applyOption(options, key, value, config);
    if (problem) diagnostics.push({ range: at, message: problem, severity: key && (DIRECTIVE_KEYS as readonly string[]).includes(key) ? 'error' : 'warning' });
  }
  return { kind: 'directive', range, prompt, alt: options.alt ?? prompt, options };
}

function applyOption(
  options: StubOptions,
  key: string,
  value: string,
  config: { schedulerNames?: (s: string) => boolean; templateIds?: readonly string[] },
): string | undefined {
  const int = (min: number, max: number): number | undefined => {
    if (!/^\d+$/.test(value)) return undefined;
    const n = Number(value);
    return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
  };
  switch (key) {
    case 'seed': {
      const n = int(0, Number.MAX_SAFE_INTEGER);
      if (n === undefined) return `seed must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}, got "${value}".`;
      options.seed = n;
      return;
    }
    case 'size': {
      const m = /^(\d{2,4})\s*[x×]\s*(\d{2,4})$/i.exec(value);
      const w = m ? Number(m[1]) : NaN;
      const h = m ? Number(m[2]) : NaN;
      if (!m || w % 8 || h % 8 || w < 64 || h < 64 || w > 2048 || h > 2048) {
        return `size must be WIDTHxHEIGHT with multiples of 8 from 64 to 2048, like 768x512; got "${value}".`;
      }
      options.width = w;
      options.height = h;
      return;
    }
    case 'steps': {
      const n = int(1, 150);
      if (n === undefined) return `steps must be a whole number from 1 to 150, got "${value}".`;
      options.steps = n;
      return;
    }
    case 'guidance':
    case 'cfg': {
      const n = Number(value);
      if (!/^\d+(\.\d+)?$/.test(value) || n > 30) return `guidance must be a number from 0 to 30, got "${value}".`;
      options.guidance = n;
      return;
    }
    case 'negative':
      options.negative = value;
      return;
    case 'alt':
      if (!value) return 'alt must not be empty (leave it out to use the prompt).';
      options.alt = value;
      return;
    case 'scheduler': {
      const known = config.schedulerNames ?? ((s: string) => s.toLowerCase() === 'default' || resolveSchedulerName(s) !== undefined);
      if (!known(value)) return `Unknown scheduler "${value}" (try euler-a, dpmpp-2m-karras, ddim, pndm, lms, lcm).`;
      options.scheduler = value;
      return;
    }
    case 'template':
      if (config.templateIds && !config.templateIds.includes(value)) return `Unknown template "${value}" (known: ${config.templateIds.join(', ')}).`;
      options.template = value;
      return;
    default:
      return `Unknown option "${key}" (known: ${DIRECTIVE_KEYS.join(', ')}); it is ignored.`;
  }
}
