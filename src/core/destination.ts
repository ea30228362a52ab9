// Where a generated image is written, decided like VS Code's own "copy files" feature:
// markdown.copyFiles.destination (glob -> destination pattern) when a glob matches the
// document, else courseIllustrator.imageFolder. Pure: paths are POSIX (vscode.Uri.path) and the
// file system is asked through a small interface, so tests use an in-memory workspace.
//
// Policy: never overwrite (a taken name gets -2, -3 ...), never outside the document's
// workspace folder (or, for a file outside any folder, outside the document's own folder):
// checked on the path as written and, when the view can resolve symbolic links, on the real
// path too, so a symlinked folder cannot carry images out of the workspace.
//
// Settings are workspace content and may be hostile: globs are matched without regular
// expressions (core/glob.ts), ${var/regex/replacement/} transforms reject regexes that can
// backtrack exponentially and run under a time limit, and backslashes in the settings are path
// separators on every OS (on Windows "..\..\" climbs out; here it is "../../" and is refused).

import * as path from 'path';
import * as vm from 'vm';
import { nextFreeName } from './fileNames';
import { compileGlob, GlobError } from './glob';

export interface WorkspaceView {
  /** Names in a folder; [] when it does not exist yet. */
  readDirectory(folder: string): Promise<string[]>;
  /**
   * `p` with every symbolic link resolved (like fs.realpath); undefined when nothing exists at
   * `p`. Throws for a link that cannot be resolved (dangling, looping, unreadable). Without it,
   * containment is checked on path strings only.
   */
  realPath?(p: string): Promise<string | undefined>;
}

export interface DestinationInput {
  /** Absolute POSIX path of the Markdown file. */
  documentPath: string;
  /** Absolute POSIX path of the document's workspace folder, if it is in one. */
  workspaceFolder?: string;
  /** All workspace folders, for globs anchored with a leading '/'. */
  workspaceFolders?: readonly string[];
  /** markdown.copyFiles.destination */
  copyFilesDestination?: Readonly<Record<string, string>>;
  /** courseIllustrator.imageFolder */
  imageFolder: string;
  /** Wanted file name, like "plant-cell-42.png". */
  fileName: string;
  now?: Date;
}

export type DestinationSetting = 'markdown.copyFiles.destination' | 'courseIllustrator.imageFolder';

export interface Destination {
  folder: string;
  /** Absolute POSIX path of a file that does not exist yet. */
  file: string;
  source: DestinationSetting;
  /** Problems with settings that were skipped (an invalid glob): worth telling the user. */
  warnings?: string[];
}

export class DestinationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DestinationError';
  }
}

/** A problem in one pattern, before the setting is known; resolveDestination names the setting. */
class PatternError extends Error {}

/** copyFiles entries looked at; a settings file with more is cut short (with a warning). */
const MAX_GLOB_ENTRIES = 256;

export async function resolveDestination(input: DestinationInput, ws: WorkspaceView): Promise<Destination> {
  const { documentPath } = input;
  if (!path.posix.isAbsolute(documentPath)) throw new DestinationError(`The document path "${documentPath}" must be absolute.`);
  const warnings: string[] = [];
  let source: DestinationSetting = 'courseIllustrator.imageFolder';
  let pattern: string | undefined;
  const folders = input.workspaceFolders ?? (input.workspaceFolder ? [input.workspaceFolder] : []);
  const entries = Object.entries(input.copyFilesDestination ?? {});
  if (entries.length > MAX_GLOB_ENTRIES) {
    warnings.push(`markdown.copyFiles.destination has ${entries.length} entries; only the first ${MAX_GLOB_ENTRIES} are used.`);
  }
  for (const [glob, dest] of entries.slice(0, MAX_GLOB_ENTRIES)) {
    if (typeof dest !== 'string' || !dest.trim()) continue;
    let matches: boolean;
    try {
      matches = expandGlob(glob, folders).some((g) => compileGlob(g)(documentPath));
    } catch (e) {
      if (!(e instanceof GlobError)) throw e;
      // An entry that cannot be read must not stop generation for documents it is not about.
      warnings.push(`The markdown.copyFiles.destination glob "${clip(glob)}" is ignored: ${e.message}. Fix or remove it in your settings.`);
      continue;
    }
    if (matches) {
      pattern = dest.trim();
      source = 'markdown.copyFiles.destination';
      break;
    }
  }
  let setting = pattern;
  if (pattern === undefined) {
    pattern = setting = (input.imageFolder || 'images/${documentBaseName}/').trim();
    // imageFolder names a folder; a value without the trailing slash (or backslash) means the same.
    if (!pattern.includes('${fileName}') && !/[/\\]$/.test(pattern)) pattern += '/';
  }
  let wanted: string;
  try {
    wanted = resolvePattern(pattern, input);
  } catch (e) {
    if (!(e instanceof PatternError)) throw e;
    throw new DestinationError(`The ${source} setting "${clip(setting ?? pattern)}" cannot be used: ${e.message}. Change ${source} in your settings.`);
  }
  const root = input.workspaceFolder ?? path.posix.dirname(documentPath);
  const where = input.workspaceFolder ? 'workspace folder' : "document's folder";
  const fix = `Change ${source} to a path inside it${source === 'courseIllustrator.imageFolder' ? ' (a leading "/" means the workspace folder, e.g. "/images/${documentBaseName}/")' : ''}.`;
  if (!isInside(root, wanted)) {
    throw new DestinationError(`Images would be written to "${wanted}", outside the ${where} "${root}". ${fix}`);
  }
  const folder = path.posix.dirname(wanted);
  const taken = new Set((await ws.readDirectory(folder)).map((n) => n.toLowerCase()));
  // Lowercase comparison: on Windows and macOS "Cat.png" and "cat.png" are the same file.
  const name = nextFreeName(path.posix.basename(wanted), (n) => taken.has(n.toLowerCase()));
  const file = path.posix.join(folder, name);
  if (ws.realPath) {
    let realRoot: string;
    let realFile: string;
    try {
      realRoot = await realPathOf(root, ws.realPath.bind(ws));
      realFile = await realPathOf(file, ws.realPath.bind(ws));
    } catch (e) {
      throw new DestinationError(
        `Cannot tell where images for "${documentPath}" would be written: ${e instanceof Error ? e.message : String(e)}. ` +
          `Fix the symbolic link or change ${source}.`,
      );
    }
    if (!isInside(realRoot, realFile)) {
      throw new DestinationError(
        `Images would be written to "${file}", which a symbolic link makes "${realFile}": outside the ${where} "${root}"` +
          `${realRoot !== root ? ` ("${realRoot}")` : ''}. Nothing is written through symbolic links that leave the workspace. ${fix}`,
      );
    }
  }
  return warnings.length ? { folder, file, source, warnings } : { folder, file, source };
}

function clip(s: string, n = 120): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

/**
 * The real path of `p`: the deepest part of it that exists with its symbolic links resolved,
 * followed by the rest (which the writer will create as real folders). `p` must be normalized.
 */
export async function realPathOf(p: string, realPath: (p: string) => Promise<string | undefined>): Promise<string> {
  const rest: string[] = [];
  let cur = p;
  for (;;) {
    const real = await realPath(cur);
    if (real !== undefined) return rest.length ? path.posix.join(real, ...rest.reverse()) : real;
    const parent = path.posix.dirname(cur);
    if (parent === cur) return p;
    rest.push(path.posix.basename(cur));
    cur = parent;
  }
}

/**
 * True when `p` is strictly inside `root`. With "\" read as a separator too (Windows), and for
 * POSIX paths (starting with "/") also with "/" as the only separator, so "..\" can climb out
 * under neither reading. Drive letters compare case-insensitively.
 */
export function isInside(root: string, p: string): boolean {
  const slashes = (s: string) => s.replace(/\\/g, '/');
  return insidePosix(slashes(root), slashes(p)) && (!root.startsWith('/') || insidePosix(root, p));
}

function insidePosix(root: string, p: string): boolean {
  const drive = (s: string) => s.replace(/^(\/?)([A-Za-z]):(?=\/|$)/, (_m, slash: string, letter: string) => `${slash}${letter.toLowerCase()}:`);
  // Another drive is another first segment, so it comes out as "../..".
  const rel = path.posix.relative(drive(path.posix.normalize(root)), drive(path.posix.normalize(p)));
  return rel !== '' && !rel.startsWith('../') && rel !== '..' && !path.posix.isAbsolute(rel);
}

/** Expands the variables and returns an absolute POSIX file path. Throws PatternError for a bad pattern. */
export function resolvePattern(pattern: string, input: DestinationInput): string {
  // Backslashes written in the setting are separators, on every OS.
  let dest = pattern;
  // Leading '/': relative to the workspace folder, as in VS Code.
  if (dest.startsWith('/') || dest.startsWith('\\')) dest = '${documentWorkspaceFolder}/' + dest.slice(1);
  if (dest.endsWith('/') || dest.endsWith('\\')) dest += '${fileName}';
  const doc = input.documentPath;
  const dir = path.posix.dirname(doc);
  const fileName = path.posix.basename(doc);
  const ext = path.posix.extname(doc);
  const ws = input.workspaceFolder ?? dir;
  const now = input.now ?? new Date();
  const vars: Record<string, string> = {
    documentDirName: dir,
    documentRelativeDirName: path.posix.relative(ws, dir) || '.',
    documentFileName: fileName,
    documentBaseName: fileName.slice(0, fileName.length - ext.length),
    documentExtName: ext.replace('.', ''),
    documentFilePath: doc,
    documentRelativeFilePath: path.posix.relative(ws, doc),
    documentWorkspaceFolder: ws,
    fileName: input.fileName,
    fileExtName: path.posix.extname(input.fileName).replace('.', ''),
    unixTime: String(now.getTime()),
    isoTime: now.toISOString(),
  };
  let out = '';
  for (const part of parseTemplate(dest)) {
    if (part.kind === 'text') out += part.text.replace(/\\/g, '/');
    else {
      const value = Object.prototype.hasOwnProperty.call(vars, part.name) ? vars[part.name] : undefined;
      if (value === undefined) continue;
      out += part.transform ? applyTransform(value, part.transform).replace(/\\/g, '/') : value;
    }
  }
  return path.posix.normalize(path.posix.isAbsolute(out) ? out : path.posix.join(dir, out));
}

// ---------------------------------------------------------------- ${name} and ${name/re/fmt/flags}

interface Transform {
  regex: string;
  replacement: string;
  flags: string;
}

type TemplatePart = { kind: 'text'; text: string } | { kind: 'var'; name: string; transform?: Transform };

const MAX_PATTERN_LENGTH = 2048;
const MAX_TRANSFORMS = 16;
const MAX_REGEX_LENGTH = 256;
/** Longest value a transform is applied to; document paths are far shorter. */
const MAX_TRANSFORM_INPUT = 4096;
/** Wall-clock bound for one transform, whatever its regex does. */
export const TRANSFORM_TIMEOUT_MS = 100;

/** Splits a destination pattern into text and ${...} parts, in one left-to-right pass. */
function parseTemplate(s: string): TemplatePart[] {
  if (s.length > MAX_PATTERN_LENGTH) throw new PatternError(`it is ${s.length} characters long; at most ${MAX_PATTERN_LENGTH} are allowed`);
  const parts: TemplatePart[] = [];
  let transforms = 0;
  let i = 0;
  while (i < s.length) {
    const open = s.indexOf('${', i);
    if (open < 0) {
      parts.push({ kind: 'text', text: s.slice(i) });
      break;
    }
    if (open > i) parts.push({ kind: 'text', text: s.slice(i, open) });
    let k = open + 2;
    while (k < s.length && /\w/.test(s[k])) k++;
    const name = s.slice(open + 2, k);
    if (name && s[k] === '}') {
      parts.push({ kind: 'var', name });
      i = k + 1;
      continue;
    }
    if (name && s[k] === '/') {
      if (++transforms > MAX_TRANSFORMS) throw new PatternError(`it has more than ${MAX_TRANSFORMS} \${…/…/…/} transforms`);
      const re = readDelimited(s, k + 1);
      const fmt = re && readDelimited(s, re.end + 1);
      let f = fmt ? fmt.end + 1 : -1;
      while (fmt && f < s.length && /[a-z]/.test(s[f])) f++;
      if (!re || !fmt || s[f] !== '}') throw new PatternError(`"\${${name}/" is not closed like \${${name}/regex/replacement/}`);
      const flags = s.slice(fmt.end + 1, f);
      if (!/^[gims]*$/.test(flags) || new Set(flags).size !== flags.length) {
        throw new PatternError(`"${flags}" are not transform options; use g, i, m or s`);
      }
      parts.push({ kind: 'var', name, transform: { regex: re.text, replacement: fmt.text, flags } });
      i = f + 1;
      continue;
    }
    // Not a variable ("${" followed by something else): kept as written.
    parts.push({ kind: 'text', text: '${' });
    i = open + 2;
  }
  return parts;
}

/** Text up to the next unescaped "/" from `start` ("\/" is a slash; other escapes are kept). */
function readDelimited(s: string, start: number): { text: string; end: number } | undefined {
  let text = '';
  for (let i = start; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length) {
      text += s[i + 1] === '/' ? '/' : c + s[i + 1];
      i++;
    } else if (c === '/') return { text, end: i };
    else text += c;
  }
  return undefined;
}

/**
 * Why a regex may backtrack without bound, or undefined: backreferences, and a repeated group
 * that itself contains a repetition ((a+)+, (a|b*)*, (?:x{2,})+). Other slow cases (like
 * (a|a)*) are caught by the time limit.
 */
export function unsafeRegexReason(re: string): string | undefined {
  if (re.length > MAX_REGEX_LENGTH) return `the regular expression is ${re.length} characters long; at most ${MAX_REGEX_LENGTH} are allowed`;
  // Each open group: does it contain a quantifier?
  const groups: boolean[] = [];
  let last: 'none' | 'atom' | 'quantifiedGroup' | 'group' = 'none';
  for (let i = 0; i < re.length; i++) {
    const c = re[i];
    if (c === '\\') {
      const n = re[i + 1];
      if (n !== undefined && /[1-9]/.test(n)) return `backreferences like \\${n} are not allowed`;
      if (n === 'k' && re[i + 2] === '<') return 'named backreferences (\\k<name>) are not allowed';
      i++;
      last = 'atom';
    } else if (c === '[') {
      for (i++; i < re.length && re[i] !== ']'; i++) if (re[i] === '\\') i++;
      last = 'atom';
    } else if (c === '(') {
      groups.push(false);
      if (re[i + 1] === '?') {
        // (?: (?= (?! (?<= (?<! (?<name>
        const m = /^\?(?::|=|!|<=|<!|<[A-Za-z_$][\w$]*>)/.exec(re.slice(i + 1, i + 1 + 40));
        if (m) i += m[0].length;
      }
      last = 'none';
    } else if (c === ')') {
      const inner = groups.pop() ?? false;
      last = inner ? 'quantifiedGroup' : 'group';
      if (inner && groups.length) groups[groups.length - 1] = true;
    } else if (c === '*' || c === '+' || c === '?' || (c === '{' && /^\{\d+(,\d*)?\}/.test(re.slice(i, i + 24)))) {
      if (last === 'none') continue; // a syntax error, reported by the RegExp constructor
      let bounded = c === '?';
      if (c === '{') {
        const q = /^\{(\d+)(,(\d*))?\}/.exec(re.slice(i, i + 24))!;
        bounded = q[2] === undefined || (q[3] !== '' && Number(q[3]) <= 1);
        i += q[0].length - 1;
      }
      if (!bounded && last === 'quantifiedGroup') {
        return 'a repeated group contains a repetition itself (like (a+)+), which can take forever; simplify it';
      }
      if (re[i + 1] === '?') i++; // lazy
      if (groups.length) groups[groups.length - 1] = true;
      last = 'none';
    } else {
      last = 'atom';
    }
  }
  return undefined;
}

let sandbox: { context: vm.Context; script: vm.Script } | undefined;

/** value.replace(re, replacement), stopped after TRANSFORM_TIMEOUT_MS. */
function boundedReplace(value: string, re: RegExp, replacement: string): string {
  sandbox ??= { context: vm.createContext(Object.create(null)), script: new vm.Script('args.value.replace(args.re, args.replacement)') };
  sandbox.context.args = { value, re, replacement };
  try {
    return String(sandbox.script.runInContext(sandbox.context, { timeout: TRANSFORM_TIMEOUT_MS }));
  } finally {
    sandbox.context.args = undefined;
  }
}

function applyTransform(value: string, t: Transform): string {
  const why = unsafeRegexReason(t.regex);
  if (why) throw new PatternError(`in the transform "/${clip(t.regex, 60)}/": ${why}`);
  let re: RegExp;
  try {
    re = new RegExp(t.regex, t.flags);
  } catch (e) {
    throw new PatternError(`"/${clip(t.regex, 60)}/" is not a valid regular expression (${e instanceof Error ? e.message : String(e)})`);
  }
  if (value.length > MAX_TRANSFORM_INPUT) throw new PatternError(`a value to transform is ${value.length} characters long; at most ${MAX_TRANSFORM_INPUT} are allowed`);
  try {
    return boundedReplace(value, re, t.replacement);
  } catch (e) {
    const err = e as { code?: unknown; message?: unknown };
    if (err?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT' || /timed out/i.test(String(err?.message))) {
      throw new PatternError(`the transform "/${clip(t.regex, 60)}/" took longer than ${TRANSFORM_TIMEOUT_MS} ms and was stopped; simplify the regular expression`);
    }
    throw new PatternError(`the transform "/${clip(t.regex, 60)}/" failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function expandGlob(glob: string, folders: readonly string[]): string[] {
  if (glob.startsWith('/')) return folders.map((f) => path.posix.join(f, glob));
  return glob.startsWith('**') ? [glob] : ['**/' + glob];
}

/** True when the glob (VS Code syntax, see core/glob.ts) matches the path; throws GlobError for an invalid glob. */
export function matchesGlob(glob: string, p: string): boolean {
  return compileGlob(glob)(p);
}
