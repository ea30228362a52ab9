// Glob matching without regular expressions, for patterns that come from settings
// (markdown.copyFiles.destination) and so may be hostile. Regex-compiling matchers (picomatch,
// minimatch) backtrack: "*a*a*a*a*a*a*b" against 80 "a"s takes seconds in both. Here a pattern
// is split into path segments; "**" segments are matched by dynamic programming over segments
// and each other segment by the two-pointer wildcard algorithm, so a match costs at most
// O(pattern length x path length) whatever the pattern.
//
// Syntax (the part of VS Code's and picomatch's globs that settings use): "/" separates
// segments, "*" any run of characters within a segment (dot files included, as VS Code passes
// { dot: true }), "?" one character, "**" as a whole segment any number of segments,
// "[abc]", "[a-z]", "[!a]" / "[^a]" one character of a class, "{a,b}" alternatives (nestable),
// "\x" a literal x. Anything else, "(", ")", "|", "+", "@", "!" included, is literal.
// Pure: no fs, no vscode.

export class GlobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GlobError';
  }
}

/** Longest pattern accepted, in characters. */
export const MAX_GLOB_LENGTH = 1024;
/** Most alternatives one pattern may expand to through {a,b} groups. */
export const MAX_GLOB_ALTERNATIVES = 64;
/** Longest path matched; longer paths never match (no file system allows them). */
export const MAX_GLOB_PATH = 8192;

type Token =
  | { t: 'char'; c: string }
  | { t: 'any' } // ?
  | { t: 'star' } // *
  | { t: 'class'; negate: boolean; ranges: [number, number][] };

/** A compiled segment: '**' or a token list. */
type Segment = '**' | Token[];

export type GlobMatcher = (path: string) => boolean;

/** Compiles a glob; throws GlobError for a pattern too long, too many alternatives or a bad class. */
export function compileGlob(glob: string): GlobMatcher {
  if (typeof glob !== 'string') throw new GlobError('a glob must be a string');
  if (glob.length > MAX_GLOB_LENGTH) throw new GlobError(`the glob is ${glob.length} characters long; at most ${MAX_GLOB_LENGTH} are allowed`);
  const alternatives = expandBraces(glob).map(compileAlternative);
  return (path: string) => {
    if (path.length > MAX_GLOB_PATH) return false;
    const segs = path.split('/');
    return alternatives.some((a) => matchSegments(a, segs));
  };
}

/** True when `path` matches `glob`; throws GlobError for an invalid glob. */
export function globMatches(glob: string, path: string): boolean {
  return compileGlob(glob)(path);
}

// ---------------------------------------------------------------- braces

/**
 * {a,b}c{d,e} -> acd, ace, bcd, bce. A "{" without a matching "}" (or without a comma at its
 * level) is literal, as in picomatch. Escapes are kept for the segment parser.
 */
function expandBraces(glob: string): string[] {
  let out = [''];
  let i = 0;
  while (i < glob.length) {
    const c = glob[i];
    if (c === '\\' && i + 1 < glob.length) {
      out = out.map((s) => s + glob.slice(i, i + 2));
      i += 2;
      continue;
    }
    if (c === '{') {
      const group = braceGroup(glob, i);
      if (group) {
        const expanded: string[] = [];
        for (const alt of group.parts) expanded.push(...expandBraces(alt));
        const next: string[] = [];
        for (const prefix of out) {
          for (const e of expanded) {
            next.push(prefix + e);
            if (next.length > MAX_GLOB_ALTERNATIVES) {
              throw new GlobError(`the glob expands to more than ${MAX_GLOB_ALTERNATIVES} alternatives through {…} groups`);
            }
          }
        }
        out = next;
        i = group.end + 1;
        continue;
      }
    }
    out = out.map((s) => s + c);
    i++;
  }
  return out;
}

/** The comma-separated parts of the {...} group opening at `open`, or undefined if it is not one. */
function braceGroup(glob: string, open: number): { parts: string[]; end: number } | undefined {
  let depth = 0;
  let inClass = false;
  const parts: string[] = [];
  let start = open + 1;
  for (let i = open; i < glob.length; i++) {
    const c = glob[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[' && glob.indexOf(']', i + 2) > 0) {
      inClass = true;
      if (glob[i + 1] === ']') i++;
      continue;
    }
    if (c === '{') {
      depth++;
      if (depth > 8) throw new GlobError('the glob nests {…} groups more than 8 deep');
    } else if (c === '}') {
      depth--;
      if (depth === 0) {
        parts.push(glob.slice(start, i));
        return parts.length > 1 ? { parts, end: i } : undefined;
      }
    } else if (c === ',' && depth === 1) {
      parts.push(glob.slice(start, i));
      start = i + 1;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------- segments

function compileAlternative(glob: string): Segment[] {
  const segs: Segment[] = [];
  let current: Token[] = [];
  let raw = '';
  const flush = () => {
    // "**" only as a whole segment; elsewhere it is the same as "*".
    if (raw === '**') {
      if (segs[segs.length - 1] !== '**') segs.push('**');
    } else segs.push(current);
    current = [];
    raw = '';
  };
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '/') {
      flush();
      continue;
    }
    raw += c;
    if (c === '\\' && i + 1 < glob.length) {
      current.push({ t: 'char', c: glob[++i] });
      raw += glob[i];
    } else if (c === '*') {
      if (current[current.length - 1]?.t !== 'star') current.push({ t: 'star' });
    } else if (c === '?') current.push({ t: 'any' });
    else if (c === '[') {
      const cls = parseClass(glob, i);
      if (cls) {
        current.push(cls.token);
        raw += glob.slice(i + 1, cls.end + 1);
        i = cls.end;
      } else current.push({ t: 'char', c });
    } else current.push({ t: 'char', c });
  }
  flush();
  return segs;
}

function parseClass(glob: string, open: number): { token: Token; end: number } | undefined {
  let i = open + 1;
  let negate = false;
  if (glob[i] === '!' || glob[i] === '^') {
    negate = true;
    i++;
  }
  const ranges: [number, number][] = [];
  let first = true;
  for (; i < glob.length; i++) {
    let c = glob[i];
    if (c === '/') return undefined;
    if (c === ']' && !first) return { token: { t: 'class', negate, ranges }, end: i };
    first = false;
    if (c === '\\' && i + 1 < glob.length) c = glob[++i];
    const lo = c.charCodeAt(0);
    let hi = lo;
    if (glob[i + 1] === '-' && i + 2 < glob.length && glob[i + 2] !== ']') {
      let d = glob[i + 2];
      i += 2;
      if (d === '\\' && i + 1 < glob.length) d = glob[++i];
      hi = d.charCodeAt(0);
      if (hi < lo) throw new GlobError(`the range "${c}-${d}" in [...] is out of order`);
    }
    ranges.push([lo, hi]);
  }
  return undefined;
}

function tokenMatches(tok: Token, ch: number): boolean {
  switch (tok.t) {
    case 'char':
      return tok.c.charCodeAt(0) === ch;
    case 'any':
      return true;
    case 'class': {
      const inside = tok.ranges.some(([lo, hi]) => ch >= lo && ch <= hi);
      return inside !== tok.negate;
    }
    default:
      return false;
  }
}

/** One segment against one path segment: greedy with one remembered star, O(p x s) at worst. */
function matchSegment(p: Token[], s: string): boolean {
  let pi = 0;
  let si = 0;
  let starP = -1;
  let starS = 0;
  while (si < s.length) {
    const tok = p[pi];
    if (tok !== undefined && tok.t !== 'star' && tokenMatches(tok, s.charCodeAt(si))) {
      pi++;
      si++;
    } else if (tok !== undefined && tok.t === 'star') {
      starP = pi++;
      starS = si;
    } else if (starP >= 0) {
      pi = starP + 1;
      si = ++starS;
    } else return false;
  }
  while (pi < p.length && p[pi].t === 'star') pi++;
  return pi === p.length;
}

/** Pattern segments against path segments; "**" spans zero or more segments. O(P x S) segment matches. */
function matchSegments(pattern: Segment[], path: string[]): boolean {
  // reach[j]: the pattern segments so far can consume exactly path[0..j).
  let reach = new Array<boolean>(path.length + 1).fill(false);
  reach[0] = true;
  for (const seg of pattern) {
    const next = new Array<boolean>(path.length + 1).fill(false);
    if (seg === '**') {
      let any = false;
      for (let j = 0; j <= path.length; j++) {
        any = any || reach[j];
        next[j] = any;
      }
    } else {
      for (let j = 0; j < path.length; j++) if (reach[j] && matchSegment(seg, path[j])) next[j + 1] = true;
    }
    reach = next;
    if (!reach.some(Boolean)) return false;
  }
  return reach[path.length];
}
