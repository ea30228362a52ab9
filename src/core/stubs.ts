// Finds illustration requests ("stubs") and existing images in Markdown text. Pure: no vscode,
// no file system; positions are 0-based line + UTF-16 character offsets like VS Code's (lines
// end at \r\n, \r or \n, as in VS Code).
//
// Stubs:
//   ![a heart, cross-section]()          empty link: alt text is the prompt
//   ![a heart, cross-section](TODO)      same
//   <!-- illustrate: PROMPT | seed: 42 | size: 768x512 | steps: 25 | negative: ... | scheduler: ... -->
// A directive stays in the document; its image goes on the line below it (an image already
// there is the directive's image and gets replaced when it is generated again).
//
// The block structure comes from markdown-it (the parser behind VS Code's Markdown preview), so
// what counts as code or raw HTML is what the preview shows as such: nothing is found in fenced
// or indented code blocks, in <pre>/<script>/<style>/<textarea> blocks, or in HTML comments
// (other than our own directive); HTML blocks are searched for directives only. Inside
// paragraphs, headings and tables a hand-written scan finds code spans (skipped), comments
// (skipped), directives and images, with their columns.
//
// Every step is linear in the length of the text: the text is a document that was just opened,
// perhaps in restricted mode, perhaps with a 150 KB line, and the parse runs on the extension
// host. No regular expression here can backtrack over more than a bounded stretch, and every
// search that failed attempts could repeat is remembered (see scanUnit).

import * as l10n from '@vscode/l10n';
import MarkdownIt from 'markdown-it';
import { GUIDANCE, NEGATIVE_PROMPT, PROMPT, SEED, SIZE, STEPS, lengthProblem, sizeProblem } from './limits';
import { resolveSchedulerName } from './schedulerNames';
import { CONTENT_DOMAINS, isContentDomain } from './domain';
import { promptLanguageProblem } from './promptLanguage';
import { CONTENT_TYPES, LEVELS, MODALITIES, SUBJECTS, VIEWS } from './templateData';
import { type PromptTemplate, composeTemplateId, isTemplateId } from './templates';
import type { ContentDomain } from './protocol';
import type { GenerationSettings } from './generationSettings';

export interface TextRange {
  line: number;
  start: number;
  end: number;
}

/**
 * What a stub or directive asks for: the generation settings it may set (generationSettings.ts;
 * `negative:` is negativePrompt, `prompt:` is modelPrompt) and what only a stub has.
 */
export interface StubOptions extends Pick<GenerationSettings, 'seed' | 'width' | 'height' | 'steps' | 'guidance' | 'negativePrompt' | 'scheduler' | 'modelPrompt' | 'template' | 'fast'> {
  /** Alt text when it should differ from the prompt. */
  alt?: string;
  /** A declared content domain (domain.ts): `domain: medical` labels the image. */
  domain?: ContentDomain;
  /** `level:`, `subject:`, `type:` / `modality:`, `view:`: a composed template (templates.ts). */
  parts?: { level?: string; subject?: string; type?: string; modality?: string; view?: string };
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

export interface ParseOptions {
  schedulerNames?: (s: string) => boolean;
  templateIds?: readonly string[];
  /** The user's own templates (userTemplates.ts), known to `template:` besides the built-in ones. */
  templates?: readonly PromptTemplate[];
}

export const DIRECTIVE_KEYS = ['seed', 'size', 'steps', 'guidance', 'negative', 'scheduler', 'alt', 'prompt', 'template', 'level', 'subject', 'type', 'modality', 'view', 'domain', 'fast'] as const;

// ------------------------------------------------------------------ block structure

/** How the lines of a block are searched. */
const enum Mode {
  /** Paragraphs, headings, tables: code spans, comments, directives and images. */
  Markdown = 0,
  /** HTML blocks: directives only (the rest is raw HTML, not Markdown). */
  Html = 1,
  /** Code, <pre> and similar blocks: nothing. */
  Skip = 2,
}

let blockParser: MarkdownIt | undefined;

/** markdown-it as VS Code's preview sets it up (HTML on, tables), running the block rules only. */
function blocks(): MarkdownIt {
  if (!blockParser) {
    blockParser = new MarkdownIt('default', { html: true });
    // Inline content is scanned below, where columns are known; markdown-it's inline tokens carry none.
    blockParser.core.ruler.enableOnly(['normalize', 'block']);
  }
  return blockParser;
}

// HTML blocks whose content is not searched at all: <pre>, <script>, <style>, <textarea> (type 1),
// processing instructions, declarations and CDATA (types 3-5). A comment (type 2) starts "<!--".
const OPAQUE_HTML = /^[ \t]*(?:<(?:pre|script|style|textarea)(?:[\s>]|$)|<\?|<![^-])/i;

interface Unit {
  /** Lines first..end-1, searched together (a code span or a comment may cross lines). */
  end: number;
  mode: Mode;
}

/** Per first line, the blocks whose lines are searched as one; lines of no block are searched alone. */
function blockUnits(text: string, lineCount: number): Map<number, Unit> {
  const units = new Map<number, Unit>();
  for (const t of blocks().parse(text, {})) {
    if (!t.map) continue;
    const [first, end] = t.map;
    if (end <= first || first >= lineCount) continue;
    switch (t.type) {
      case 'fence':
      case 'code_block':
        units.set(first, { end, mode: Mode.Skip });
        break;
      case 'html_block':
        units.set(first, { end, mode: OPAQUE_HTML.test(t.content) ? Mode.Skip : Mode.Html });
        break;
      case 'inline':
        units.set(first, { end, mode: Mode.Markdown });
        break;
    }
  }
  return units;
}

// ------------------------------------------------------------------ parse

export function parseStubs(text: string, options: ParseOptions = {}): ParseResult {
  const result: ParseResult = { stubs: [], images: [], diagnostics: [] };
  // Cheap filter: a document without images or comments has nothing to find (no need to parse
  // its blocks); within one, only the blocks that have some are searched.
  if (!text.includes('![') && !text.includes('<!--')) return result;
  const lines = text.split(/\r\n|\r|\n/);
  const units = blockUnits(text, lines.length);
  const found: Found = { result, options, lastDirective: undefined };
  for (let line = 0; line < lines.length; ) {
    const unit = units.get(line);
    const end = Math.min(unit?.end ?? line + 1, lines.length);
    const mode = unit?.mode ?? Mode.Markdown;
    if (mode !== Mode.Skip) {
      const unitLines = end - line === 1 ? [lines[line]] : lines.slice(line, end);
      if (unitLines.some((l) => l.includes('![') || l.includes('<!--'))) scanUnit(unitLines, line, mode, found);
    }
    line = end;
  }
  return result;
}

interface Found {
  result: ParseResult;
  options: ParseOptions;
  /** The last directive found, for linking the image on the line below it. */
  lastDirective: ImageStub | undefined;
}

const BACKSLASH = 0x5c;
const BACKTICK = 0x60;
const LT = 0x3c;
const BANG = 0x21;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_PAREN = 0x28;
const CLOSE_PAREN = 0x29;
const NEWLINE = 0x0a;
const SPACE = 0x20;
const TAB = 0x09;
const DQUOTE = 0x22;
const SQUOTE = 0x27;
const COLON = 0x3a;

function isAsciiPunctuation(c: number): boolean {
  return (c >= 0x21 && c <= 0x2f) || (c >= 0x3a && c <= 0x40) || (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e);
}

function isSpaceOrTab(c: number): boolean {
  return c === SPACE || c === TAB;
}

/** JavaScript's \s for one UTF-16 code unit. */
function isWhitespace(c: number): boolean {
  if (c < 0x80) return c === SPACE || (c >= TAB && c <= 0x0d);
  return /\s/.test(String.fromCharCode(c));
}

/** Whitespace except line feeds (a directive's head stays on its line). */
function isInlineSpace(c: number): boolean {
  return c !== NEWLINE && isWhitespace(c);
}

/**
 * `find(from)`: the first index >= from where the search succeeds, or `s.length`. Remembers the
 * last answer: scans move left to right, so a later question from inside a stretch already
 * searched is answered at once, and every character is searched O(1) times in all.
 */
function forwardSearch(s: string, search: (from: number) => number): (from: number) => number {
  let lastFrom = Number.POSITIVE_INFINITY;
  let lastAt = -1;
  return (from) => {
    if (from >= lastFrom && from <= lastAt) return lastAt;
    const at = search(from);
    lastFrom = from;
    lastAt = at < 0 ? s.length : at;
    return lastAt;
  };
}

const DIRECTIVE_WORD = 'illustrate';

/**
 * One block's lines, joined with \n. A left-to-right scan: backslash escapes, code spans
 * (CommonMark: a run of n backticks up to the next run of exactly n), comments `<!-- ... -->`,
 * our directives (one line), and images `![alt](target "title")` (one line).
 */
function scanUnit(lines: string[], firstLine: number, mode: Mode, found: Found): void {
  const s = lines.length === 1 ? lines[0] : lines.join('\n');
  const n = s.length;
  const starts: number[] = [0];
  for (let k = 0; k < lines.length - 1; k++) starts.push(starts[k] + lines[k].length + 1);
  // The line (within the unit) of a position.
  const lineAt = (pos: number): number => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const lineEnd = (l: number): number => (l + 1 < starts.length ? starts[l + 1] - 1 : n);
  const range = (from: number, to: number): TextRange => {
    const l = lineAt(from);
    return { line: firstLine + l, start: from - starts[l], end: to - starts[l] };
  };

  const commentClose = forwardSearch(s, (from) => s.indexOf('-->', from));
  const nextGt = forwardSearch(s, (from) => s.indexOf('>', from));
  const nextDquote = forwardSearch(s, (from) => s.indexOf('"', from));
  const nextSquote = forwardSearch(s, (from) => s.indexOf("'", from));
  // End of a plain link target: the first whitespace or ")".
  const targetEnd = forwardSearch(s, (from) => {
    let k = from;
    while (k < n) {
      const c = s.charCodeAt(k);
      if (c === CLOSE_PAREN || isWhitespace(c)) break;
      k++;
    }
    return k;
  });

  // Backtick runs by length, for closing code spans; filled on the first backtick.
  let runs: Map<number, number[]> | undefined;
  const runIndex = new Map<number, number>();
  const closingRun = (length: number, after: number): number => {
    if (!runs) {
      runs = new Map();
      for (let k = 0; k < n; ) {
        if (s.charCodeAt(k) !== BACKTICK) {
          k++;
          continue;
        }
        let e = k;
        while (e < n && s.charCodeAt(e) === BACKTICK) e++;
        const list = runs.get(e - k);
        if (list) list.push(k);
        else runs.set(e - k, [k]);
        k = e;
      }
    }
    const list = runs.get(length);
    if (!list) return -1;
    let p = runIndex.get(length) ?? 0;
    while (p < list.length && list[p] < after) p++;
    runIndex.set(length, p);
    return p < list.length ? list[p] : -1;
  };

  // The closing "]" of an image's alt text: the first unescaped "]" on the line, or -1. Every
  // "![" before that "]" gets the same answer, so it is remembered.
  let altFrom = Number.POSITIVE_INFINITY;
  let altStop = -1;
  let altClose = -1;
  const altEnd = (from: number): number => {
    if (from >= altFrom && from <= altStop) return altClose;
    let k = from;
    while (k < n) {
      const c = s.charCodeAt(k);
      if (c === BACKSLASH && k + 1 < n && s.charCodeAt(k + 1) !== NEWLINE) k += 2;
      else if (c === CLOSE_BRACKET || c === NEWLINE) break;
      else k++;
    }
    altFrom = from;
    altStop = Math.min(k, n);
    altClose = k < n && s.charCodeAt(k) === CLOSE_BRACKET ? k : -1;
    return altClose;
  };
  // What follows a "]": `(target "title")` or not. Every "![" that ends at the same "]" gets the
  // same answer, so the last one is remembered.
  let linkAt = -1;
  let link: { target: string; end: number } | undefined;
  const linkAfter = (close: number): { target: string; end: number } | undefined => {
    if (close !== linkAt) {
      linkAt = close;
      link = parseLinkTail(close + 1);
    }
    return link;
  };
  const parseLinkTail = (open: number): { target: string; end: number } | undefined => {
    if (s.charCodeAt(open) !== OPEN_PAREN) return undefined;
    const stop = lineEnd(lineAt(open));
    let k = open + 1;
    while (k < stop && isSpaceOrTab(s.charCodeAt(k))) k++;
    let target: string;
    if (s.charCodeAt(k) === LT) {
      const gt = nextGt(k + 1);
      if (gt >= stop) return undefined;
      target = s.slice(k, gt + 1);
      k = gt + 1;
    } else {
      const e = Math.min(targetEnd(k), stop);
      target = s.slice(k, e);
      k = e;
    }
    const afterTarget = k;
    while (k < stop && isSpaceOrTab(s.charCodeAt(k))) k++;
    const q = s.charCodeAt(k);
    if (k > afterTarget && (q === DQUOTE || q === SQUOTE)) {
      const closeQuote = (q === DQUOTE ? nextDquote : nextSquote)(k + 1);
      if (closeQuote >= stop) return undefined;
      k = closeQuote + 1;
      while (k < stop && isSpaceOrTab(s.charCodeAt(k))) k++;
    }
    return s.charCodeAt(k) === CLOSE_PAREN ? { target, end: k + 1 } : undefined;
  };

  let i = 0;
  while (i < n) {
    if (mode === Mode.Html) {
      // Raw HTML: only comments matter (and among them, our directives).
      const at = s.indexOf('<!--', i);
      if (at < 0) break;
      i = comment(at);
      continue;
    }
    const c = s.charCodeAt(i);
    if (c === LT && s.startsWith('<!--', i)) {
      i = comment(i);
    } else if (c === BACKSLASH) {
      i += i + 1 < n && isAsciiPunctuation(s.charCodeAt(i + 1)) ? 2 : 1;
    } else if (c === BACKTICK) {
      let e = i;
      while (e < n && s.charCodeAt(e) === BACKTICK) e++;
      const close = closingRun(e - i, e);
      i = close < 0 ? e : close + (e - i);
    } else if (c === BANG && s.charCodeAt(i + 1) === OPEN_BRACKET) {
      i = image(i);
    } else {
      i++;
    }
  }

  /** At "<!--": a directive (returns the index after it) or another comment (skipped whole). */
  function comment(at: number): number {
    const bodyStart = directiveBody(at);
    if (bodyStart >= 0) {
      const stop = lineEnd(lineAt(at));
      const close = commentClose(bodyStart);
      if (close + 3 > stop) {
        const r = range(at, stop);
        found.result.diagnostics.push({ range: r, message: l10n.t('An illustrate comment must end on the same line with "-->".'), severity: 'error' });
        // The rest of the line belongs to the broken directive; the next line is searched again.
        return stop;
      }
      const r = range(at, close + 3);
      const stub = parseDirective(s.slice(bodyStart, close), r, r.start + (bodyStart - at), found.result.diagnostics, found.options);
      if (stub) {
        found.result.stubs.push(stub);
        found.lastDirective = stub;
      }
      return close + 3;
    }
    // CommonMark: "<!-->", "<!--->", or "<!--" up to the first "-->".
    const close = commentClose(at + 2);
    if (close < n) return close + 3;
    // Unclosed: in a paragraph "<!--" is text; an HTML block that starts one runs to the end.
    return mode === Mode.Html ? n : at + 1;
  }

  /** At "<!--": the index after "<!-- illustrate:" (spaces allowed around the word), or -1. */
  function directiveBody(at: number): number {
    let k = at + 4;
    while (k < n && isInlineSpace(s.charCodeAt(k))) k++;
    if (s.slice(k, k + DIRECTIVE_WORD.length).toLowerCase() !== DIRECTIVE_WORD) return -1;
    k += DIRECTIVE_WORD.length;
    while (k < n && isInlineSpace(s.charCodeAt(k))) k++;
    return s.charCodeAt(k) === COLON ? k + 1 : -1;
  }

  /** At "![": an image or a stub (returns the index after it), or not one (returns at + 2). */
  function image(at: number): number {
    const close = altEnd(at + 2);
    if (close < 0) return at + 2;
    const tail = linkAfter(close);
    if (!tail) return at + 2;
    const r = range(at, tail.end);
    addImage(r, s.slice(at + 2, close), tail.target, found);
    return tail.end;
  }
}

function addImage(range: TextRange, rawAlt: string, rawTarget: string, found: Found): void {
  const { result } = found;
  const alt = unescapeAlt(rawAlt);
  const target = rawTarget.trim();
  if (target === '' || target === '<>' || target.toLowerCase() === 'todo') {
    if (!alt) {
      result.diagnostics.push({
        range,
        message: l10n.t('Empty image stub: write the prompt between the brackets, like ![a labelled diagram of a plant cell]().'),
        severity: 'warning',
      });
      return;
    }
    const tooLong = lengthProblem(alt, PROMPT.maxChars);
    if (tooLong) {
      result.diagnostics.push({ range, message: l10n.t('The prompt {0}; shorten it.', tooLong), severity: 'error' });
      return;
    }
    result.stubs.push({ kind: 'empty-link', range, prompt: alt, alt, options: {} });
    const language = promptLanguageProblem(alt);
    if (language) result.diagnostics.push({ range, message: language, severity: 'warning' });
    return;
  }
  const path = decodeTarget(target);
  const image: MarkdownImage = { range, alt, href: target, path };
  if (/\.png$/i.test(path) && !/^[a-z][a-z0-9+.-]*:/i.test(path)) {
    result.images.push(image);
    const above = found.lastDirective;
    if (above && range.line === above.range.line + 1 && !above.image) above.image = image;
  }
}

function unescapeAlt(alt: string): string {
  return alt.replace(/\\([\\[\]])/g, '$1').trim();
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

// ------------------------------------------------------------------ directives

function parseDirective(body: string, range: TextRange, bodyStart: number, diagnostics: StubDiagnostic[], config: ParseOptions): ImageStub | undefined {
  const parts = body.split('|');
  const prompt = parts[0].trim();
  const where = (text: string, offset: number): TextRange => ({ line: range.line, start: bodyStart + offset, end: bodyStart + offset + text.length });
  if (!prompt) {
    diagnostics.push({
      range,
      message: l10n.t('The illustrate comment has no prompt: <!-- illustrate: a labelled diagram of a plant cell | seed: 42 -->.'),
      severity: 'error',
    });
    return undefined;
  }
  const tooLong = lengthProblem(prompt, PROMPT.maxChars);
  if (tooLong) {
    diagnostics.push({ range: where(parts[0], 0), message: l10n.t('The prompt {0}; shorten it.', tooLong), severity: 'error' });
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
      diagnostics.push({ range: at, message: l10n.t('"{0}" is not an option: write key: value (keys: {1}).', clip(text), DIRECTIVE_KEYS.join(', ')), severity: 'error' });
      continue;
    }
    const key = text.slice(0, colon).trim().toLowerCase();
    const value = text.slice(colon + 1).trim();
    const problem = applyOption(options, key, value, config);
    if (problem) diagnostics.push({ range: at, message: problem, severity: key && (DIRECTIVE_KEYS as readonly string[]).includes(key) ? 'error' : 'warning' });
  }
  if (options.parts && options.template === undefined) {
    const id = composeTemplateId(options.parts);
    if (id && isTemplateId(id)) options.template = id;
    else diagnostics.push({ range, message: l10n.t('type: needs subject: too (e.g. | level: high | subject: biology | type: labelled-diagram), or use template:.'), severity: 'warning' });
  }
  // With `prompt:` the comment's own text is what the reader sees (the alt text), in any language.
  const modelPrompt = options.modelPrompt ?? prompt;
  const language = promptLanguageProblem(modelPrompt);
  if (language) diagnostics.push({ range: where(options.modelPrompt ? body : parts[0], 0), message: language, severity: 'warning' });
  return { kind: 'directive', range, prompt: modelPrompt, alt: options.alt ?? prompt, options };
}

/** Values quoted in messages are cut: a message must stay readable whatever the document holds. */
function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

function applyOption(options: StubOptions, key: string, value: string, config: ParseOptions): string | undefined {
  const int = (min: number, max: number): number | undefined => {
    if (!/^\d+$/.test(value)) return undefined;
    const n = Number(value);
    return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
  };
  const got = `"${clip(value)}"`;
  switch (key) {
    case 'seed': {
      const n = int(SEED.min, SEED.max);
      if (n === undefined) return l10n.t('seed must be a whole number from {0} to {1}, got {2}.', SEED.min, SEED.max, got);
      options.seed = n;
      return;
    }
    case 'size': {
      const m = /^(\d{2,4})\s*[x×]\s*(\d{2,4})$/i.exec(value);
      const w = m ? Number(m[1]) : NaN;
      const h = m ? Number(m[2]) : NaN;
      if (!m || sizeProblem(w) || sizeProblem(h)) {
        return l10n.t('size must be WIDTHxHEIGHT with multiples of {0} from {1} to {2}, like 768x512; got {3}.', SIZE.multiple, SIZE.min, SIZE.max, got);
      }
      options.width = w;
      options.height = h;
      return;
    }
    case 'steps': {
      const n = int(STEPS.min, STEPS.max);
      if (n === undefined) return l10n.t('steps must be a whole number from {0} to {1}, got {2}.', STEPS.min, STEPS.max, got);
      options.steps = n;
      return;
    }
    case 'guidance':
    case 'cfg': {
      const n = Number(value);
      if (!/^\d+(\.\d+)?$/.test(value) || n < GUIDANCE.min || n > GUIDANCE.max) return l10n.t('guidance must be a number from {0} to {1}, got {2}.', GUIDANCE.min, GUIDANCE.max, got);
      options.guidance = n;
      return;
    }
    case 'negative': {
      const tooLong = lengthProblem(value, NEGATIVE_PROMPT.maxChars);
      if (tooLong) return l10n.t('negative {0}; shorten it.', tooLong);
      options.negativePrompt = value;
      return;
    }
    case 'prompt': {
      if (!value) return l10n.t('prompt must not be empty (leave it out to use the text before the first |).');
      const tooLong = lengthProblem(value, PROMPT.maxChars);
      if (tooLong) return l10n.t('prompt {0}; shorten it.', tooLong);
      options.modelPrompt = value;
      return;
    }
    case 'alt': {
      if (!value) return l10n.t('alt must not be empty (leave it out to use the prompt).');
      const tooLong = lengthProblem(value, PROMPT.maxChars);
      if (tooLong) return l10n.t('alt {0}; shorten it.', tooLong);
      options.alt = value;
      return;
    }
    case 'scheduler': {
      const known = config.schedulerNames ?? ((s: string) => s.toLowerCase() === 'default' || resolveSchedulerName(s) !== undefined);
      if (!known(value)) return l10n.t('Unknown scheduler {0} (try euler-a, dpmpp-2m-karras, ddim, pndm, lms, lcm).', got);
      options.scheduler = value;
      return;
    }
    case 'template':
      if (config.templateIds && !config.templateIds.includes(value) && !isTemplateId(value, config.templates)) {
        return l10n.t('Unknown template {0} (named ones: {1}; or compose one with level:, subject:, type: or modality:, view:).', got, config.templateIds.join(', '));
      }
      options.template = value;
      return;
    case 'level':
    case 'subject':
    case 'type':
    case 'modality':
    case 'view': {
      // Parts of a composed template (templates.ts): each checked against its list.
      const list = { level: LEVELS, subject: SUBJECTS, type: CONTENT_TYPES, modality: MODALITIES, view: VIEWS }[key];
      const found = list.find((c) => c.id === value.toLowerCase() || c.label.toLowerCase() === value.toLowerCase() || c.zh === value);
      if (!found) return l10n.t('Unknown {0} {1} (known: {2}).', key, got, list.map((c) => c.id).join(', '));
      options.parts = { ...options.parts, [key]: found.id };
      return;
    }
    case 'fast': {
      const v = value.toLowerCase();
      if (['yes', 'true', 'on'].includes(v)) options.fast = true;
      else if (['no', 'false', 'off'].includes(v)) options.fast = false;
      else return l10n.t('fast must be yes or no, got {0}.', got);
      return;
    }
    case 'domain': {
      const v = value.toLowerCase();
      if (!isContentDomain(v)) return l10n.t('domain must be {0}, got {1}.', CONTENT_DOMAINS.join(', '), got);
      options.domain = v;
      return;
    }
    default:
      return l10n.t('Unknown option "{0}" (known: {1}); it is ignored.', clip(key), DIRECTIVE_KEYS.join(', '));
  }
}
