// A1111's `parameters` infotext: the text chunk A1111, ComfyUI importers, civitai and others read
// to show and re-use generation settings. Writer mirrors modules/processing.py create_infotext,
// reader mirrors modules/infotext_utils.py parse_generation_parameters (without A1111's default
// filling and Size-1/Size-2 splitting, so callers see exactly what the text says).

export type InfotextValue = string | number | boolean | undefined | null;

export interface InfotextInput {
  prompt: string;
  negativePrompt?: string;
  /** Ordered `Key: value` pairs; undefined, null and empty values are left out. */
  fields: [string, InfotextValue][];
}

export interface ParsedInfotext {
  prompt: string;
  negativePrompt: string;
  fields: Record<string, string>;
}

/** The `Version` value that marks our images, e.g. "course-illustrator 0.1.0". */
export function courseIllustratorVersion(version: string): string {
  return `course-illustrator ${version}`;
}

export const VERSION_PREFIX = 'course-illustrator';

/**
 * Python's json.dumps(text, ensure_ascii=False). JSON.stringify matches it for well-formed
 * strings: both escape `"` `\` and control characters the same way and leave other text as is.
 */
function pyJsonDumps(text: string): string {
  return JSON.stringify(text);
}

/** A1111's quote(): only values containing , : or a newline are written as JSON strings. */
export function quoteInfotextValue(text: string): string {
  if (!text.includes(',') && !text.includes('\n') && !text.includes(':')) return text;
  return pyJsonDumps(text);
}

/** A1111's unquote(): a value that looks like a JSON string is decoded, else kept as is. */
export function unquoteInfotextValue(text: string): string {
  if (text.length === 0 || text[0] !== '"' || text[text.length - 1] !== '"') return text;
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'string' ? v : text;
  } catch {
    return text;
  }
}

/** Numbers as Python's str() prints them for ints and ordinary floats (7, 7.5, 0.18215). */
function formatValue(v: string | number | boolean): string {
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`infotext value must be a finite number, got ${v}`);
    return String(v);
  }
  return v;
}

export function formatInfotext(p: InfotextInput): string {
  const pairs: string[] = [];
  for (const [key, raw] of p.fields) {
    if (raw === undefined || raw === null) continue;
    const value = formatValue(raw);
    if (value === '') continue;
    // A1111 writes a pair whose value equals its key as the bare key.
    pairs.push(key === value ? key : `${key}: ${quoteInfotextValue(value)}`);
  }
  const negative = p.negativePrompt ? `\nNegative prompt: ${p.negativePrompt}` : '';
  return pyStrip(`${p.prompt}${negative}\n${pairs.join(', ')}`);
}

// Python's whitespace (str.isspace, and \s in str patterns); JS's \s differs in a few code points.
function isPyWhitespace(c: number): boolean {
  return (
    (c >= 0x09 && c <= 0x0d) ||
    (c >= 0x1c && c <= 0x20) ||
    c === 0x85 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/** Python's str.strip() with no argument. */
function pyStrip(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isPyWhitespace(s.charCodeAt(a))) a++;
  while (b > a && isPyWhitespace(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

// Infotext comes from PNG files anyone can make, so it is parsed without regular expressions that
// could backtrack, and what is kept is bounded.
/** Longest infotext parsed (characters); the rest is ignored. Text chunks are capped at 1 MiB anyway. */
export const MAX_INFOTEXT_LENGTH = 1024 * 1024;
/** Most `Key: value` pairs kept from the last line. */
export const MAX_INFOTEXT_FIELDS = 1000;
/** Longest key kept; A1111's are a few words. */
export const MAX_INFOTEXT_KEY = 256;
/** Longest value kept; longer values are left out. */
export const MAX_INFOTEXT_VALUE = 64 * 1024;

const WORD = /^[\p{L}\p{N}_]$/u;

/** Python's \w for one code point (letters, digits, underscore; Unicode-aware). */
function isWordAt(s: string, i: number): [boolean, number] {
  const cp = s.codePointAt(i)!;
  const len = cp > 0xffff ? 2 : 1;
  if (cp < 0x80) return [(cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a) || cp === 0x5f, len];
  return [WORD.test(String.fromCodePoint(cp)), len];
}

function isLineTerminator(c: number): boolean {
  return c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029;
}

/**
 * A1111's re_param, `\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)`, applied like
 * re.findall, as a left-to-right scan that never looks at a character more than a few times.
 * The regex run by a backtracking engine takes time quadratic in the line length (a 1 MB line of
 * letters: many minutes); this gives the same pairs in linear time.
 */
function findParams(line: string): [string, string][] {
  const out: [string, string][] = [];
  const n = line.length;
  // closeFrom[k]: scanning a quoted body from k, the index of the closing quote, or -1 when the
  // body is cut short (end of line, or a backslash before a line break). Filled right to left
  // once, so every quoted value costs O(1).
  let closeFrom: Int32Array | undefined;
  const closingQuote = (k: number): number => {
    if (!closeFrom) {
      closeFrom = new Int32Array(n + 2).fill(-1);
      for (let j = n - 1; j >= 0; j--) {
        const c = line.charCodeAt(j);
        if (c === 0x22) closeFrom[j] = j;
        else if (c === 0x5c) closeFrom[j] = j + 1 < n && !isLineTerminator(line.charCodeAt(j + 1)) ? closeFrom[j + 2] : -1;
        else closeFrom[j] = closeFrom[j + 1];
      }
    }
    return k < n ? closeFrom[k] : -1;
  };
  let pos = 0;
  while (pos < n && out.length < MAX_INFOTEXT_FIELDS) {
    let j = pos;
    while (j < n && isPyWhitespace(line.charCodeAt(j))) j++;
    if (j >= n) break;
    const [first, firstLen] = isWordAt(line, j);
    if (!first) {
      pos = j + firstLen;
      continue;
    }
    // The key: a word character, then one or more of [\w \-/], then ":".
    let e = j + firstLen;
    while (e < n) {
      const c = line.charCodeAt(e);
      if (c === 0x20 || c === 0x2d || c === 0x2f) {
        e++;
        continue;
      }
      const [w, len] = isWordAt(line, e);
      if (!w) break;
      e += len;
    }
    if (e === j + firstLen || line.charCodeAt(e) !== 0x3a) {
      // No match can start anywhere before e: every start inside the run ends at the same e.
      pos = Math.max(e, j + firstLen);
      continue;
    }
    const key = line.slice(j, e);
    let v = e + 1;
    while (v < n && isPyWhitespace(line.charCodeAt(v))) v++;
    let value: string | undefined;
    if (line.charCodeAt(v) === 0x22) {
      const close = closingQuote(v + 1);
      // At least one character inside, then "," or the end of the line.
      if (close > v + 1 && (close + 1 === n || line.charCodeAt(close + 1) === 0x2c)) {
        value = line.slice(v, close + 1);
        pos = close + 2;
      }
    }
    if (value === undefined) {
      const comma = line.indexOf(',', v);
      const end = comma < 0 ? n : comma;
      value = line.slice(v, end);
      pos = end + 1;
    }
    if (key.length <= MAX_INFOTEXT_KEY && value.length <= MAX_INFOTEXT_VALUE) out.push([key, value]);
  }
  return out;
}

export function parseInfotext(text: string): ParsedInfotext {
  // Python's str.split("\n") splits on \n only; a \r stays and strip() removes it later.
  const lines = pyStrip(text.length > MAX_INFOTEXT_LENGTH ? text.slice(0, MAX_INFOTEXT_LENGTH) : text).split('\n');
  let lastLine = lines.pop() ?? '';
  if (findParams(lastLine).length < 3) {
    lines.push(lastLine);
    lastLine = '';
  }
  let prompt = '';
  let negativePrompt = '';
  let doneWithPrompt = false;
  for (let line of lines) {
    line = pyStrip(line);
    if (line.startsWith('Negative prompt:')) {
      doneWithPrompt = true;
      line = pyStrip(line.slice(16));
    }
    if (doneWithPrompt) negativePrompt += (negativePrompt === '' ? '' : '\n') + line;
    else prompt += (prompt === '' ? '' : '\n') + line;
  }
  const fields: Record<string, string> = {};
  for (const [k, v] of findParams(lastLine)) {
    fields[k] = v.length > 0 && v[0] === '"' && v[v.length - 1] === '"' ? unquoteInfotextValue(v) : v;
  }
  return { prompt, negativePrompt, fields };
}

/** "512x512" -> {width, height}; undefined when the text is not a size. */
export function parseSize(v: string | undefined): { width: number; height: number } | undefined {
  const m = v === undefined ? null : /^(\d+)x(\d+)$/.exec(v);
  return m ? { width: Number(m[1]), height: Number(m[2]) } : undefined;
}

export interface GenerationInfo {
  prompt: string;
  negativePrompt?: string;
  steps: number;
  /** A1111 sampler name, e.g. A1111_SAMPLER[name].sampler. */
  sampler: string;
  /** A1111 schedule type ("Karras"); left out when undefined. */
  scheduleType?: string;
  guidance: number;
  seed: number;
  width: number;
  height: number;
  /** First 10 hex digits of the model file's sha256, as A1111 prints it. */
  modelHash?: string;
  modelName?: string;
  /** img2img / inpainting strength, written as A1111's "Denoising strength" (a Python float: 0.6, 1.0). */
  denoisingStrength?: number;
  /** "CPU" for torch's CPU generator (what we reproduce); A1111 leaves out its GPU default. */
  rng?: string;
  /** App version; written as "Version: course-illustrator <version>". */
  version: string;
  /**
   * The LoRAs used, `name: shorthash, ...` (the engine's lora/loraSet.ts): A1111's Lora extension
   * adds it among the extension pairs, and the quotes its `:` and `,` call for come with it.
   */
  loraHashes?: string;
  /** Extra pairs (template, course...), written after RNG as A1111 writes extension pairs. */
  extra?: Record<string, string>;
}

/** Our standard infotext, in A1111's field order (create_infotext). */
export function generationInfotext(g: GenerationInfo): string {
  const fields: [string, InfotextValue][] = [
    ['Steps', g.steps],
    ['Sampler', g.sampler],
    ['Schedule type', g.scheduleType],
    ['CFG scale', g.guidance],
    ['Seed', g.seed],
    ['Size', `${g.width}x${g.height}`],
    ['Model hash', g.modelHash],
    // A1111 strips , and : from the model name rather than quoting it.
    ['Model', g.modelName?.replace(/[,:]/g, '')],
    // Between the model and RNG, as create_infotext orders it (A1111 writes it for img2img).
    ['Denoising strength', g.denoisingStrength === undefined ? undefined : pythonFloat(g.denoisingStrength)],
    ['RNG', g.rng ?? 'CPU'],
    ['Lora hashes', g.loraHashes],
    ...Object.entries(g.extra ?? {}),
    ['Version', courseIllustratorVersion(g.version)],
  ];
  return formatInfotext({ prompt: g.prompt, negativePrompt: g.negativePrompt, fields });
}

/** Python's str() of a float: 1.0 (not 1), 0.75, 1e-05. */
export function pythonFloat(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`infotext value must be a finite number, got ${v}`);
  if (Number.isInteger(v) && Math.abs(v) < 1e16) return v.toFixed(1);
  const abs = Math.abs(v);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e16)) {
    // Python: shortest digits, exponent with a sign and at least two digits (1e-05, 1.5e+16).
    const [mantissa, exp] = v.toExponential().split('e');
    const e = Number(exp);
    return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  return String(v);
}

/** The "Denoising strength" of parsed infotext fields, when it is a number from 0 to 1. */
export function parseDenoisingStrength(fields: Record<string, string>): number | undefined {
  const raw = fields['Denoising strength'];
  if (raw === undefined || raw.trim() === '') return undefined;
  const v = Number(raw);
  return Number.isFinite(v) && v >= 0 && v <= 1 ? v : undefined;
}

/**
 * `text` with `key: value` pairs added at the end of its parameters line (quoted as A1111 quotes
 * them), for infotext written elsewhere (a server's); keys it has already are left as they are.
 */
export function withInfotextFields(text: string, extra: Readonly<Record<string, string>>): string {
  const have = parseInfotext(text).fields;
  const add = Object.entries(extra).filter(([k]) => !(k in have));
  if (add.length === 0) return text;
  const pairs = add.map(([k, v]) => `${k}: ${quoteInfotextValue(v)}`).join(', ');
  const trimmed = text.replace(/\s+$/, '');
  return Object.keys(have).length ? `${trimmed}, ${pairs}` : `${trimmed}\n${pairs}`;
}
