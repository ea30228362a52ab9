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
const PY_WS = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const RE_STRIP = new RegExp(`^[${PY_WS}]+|[${PY_WS}]+$`, 'gu');

/** Python's str.strip() with no argument. */
function pyStrip(s: string): string {
  return s.replace(RE_STRIP, '');
}

// re_param from infotext_utils.py; Python's \w is Unicode-aware for str patterns.
const RE_PARAM = new RegExp(
  `[${PY_WS}]*([\\p{L}\\p{N}_][\\p{L}\\p{N}_ \\-/]+):[${PY_WS}]*("(?:\\\\.|[^\\\\"])+"|[^,]*)(?:,|$)`,
  'gu',
);

function findParams(line: string): [string, string][] {
  const out: [string, string][] = [];
  RE_PARAM.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = RE_PARAM.exec(line)) !== null) {
    out.push([m[1], m[2]]);
    // Python's findall steps past empty matches; avoid looping on one.
    if (m[0].length === 0) RE_PARAM.lastIndex++;
  }
  return out;
}

export function parseInfotext(text: string): ParsedInfotext {
  // Python's str.split("\n") splits on \n only; a \r stays and strip() removes it later.
  const lines = pyStrip(text).split('\n');
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
  /** "CPU" for torch's CPU generator (what we reproduce); A1111 leaves out its GPU default. */
  rng?: string;
  /** App version; written as "Version: course-illustrator <version>". */
  version: string;
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
    ['RNG', g.rng ?? 'CPU'],
    ...Object.entries(g.extra ?? {}),
    ['Version', courseIllustratorVersion(g.version)],
  ];
  return formatInfotext({ prompt: g.prompt, negativePrompt: g.negativePrompt, fields });
}
