// Where a generated image is written, decided like VS Code's own "copy files" feature:
// markdown.copyFiles.destination (glob -> destination pattern) when a glob matches the
// document, else courseIllustrator.imageFolder. Pure: paths are POSIX (vscode.Uri.path) and the
// folder listing comes through a small interface, so tests use an in-memory workspace.
//
// Policy: never overwrite (a taken name gets -2, -3 ...), never outside the document's
// workspace folder (or, for a file outside any folder, outside the document's own folder).

import * as path from 'path';
import { nextFreeName } from './fileNames';

export interface WorkspaceView {
  /** Names in a folder; [] when it does not exist yet. */
  readDirectory(folder: string): Promise<string[]>;
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

export interface Destination {
  folder: string;
  /** Absolute POSIX path of a file that does not exist yet. */
  file: string;
  source: 'markdown.copyFiles.destination' | 'courseIllustrator.imageFolder';
}

export class DestinationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DestinationError';
  }
}

export async function resolveDestination(input: DestinationInput, ws: WorkspaceView): Promise<Destination> {
  const { documentPath } = input;
  if (!path.posix.isAbsolute(documentPath)) throw new DestinationError(`The document path "${documentPath}" must be absolute.`);
  let source: Destination['source'] = 'courseIllustrator.imageFolder';
  let pattern: string | undefined;
  for (const [glob, dest] of Object.entries(input.copyFilesDestination ?? {})) {
    if (typeof dest !== 'string' || !dest.trim()) continue;
    if (expandGlob(glob, input.workspaceFolders ?? (input.workspaceFolder ? [input.workspaceFolder] : [])).some((g) => globToRegExp(g).test(documentPath))) {
      pattern = dest.trim();
      source = 'markdown.copyFiles.destination';
      break;
    }
  }
  if (pattern === undefined) {
    pattern = (input.imageFolder || 'images/${documentBaseName}/').trim();
    // imageFolder names a folder; a value without the trailing slash means the same.
    if (!pattern.includes('${fileName}') && !pattern.endsWith('/')) pattern += '/';
  }
  const wanted = resolvePattern(pattern, input);
  const root = input.workspaceFolder ?? path.posix.dirname(documentPath);
  if (!isInside(root, wanted)) {
    throw new DestinationError(
      `Images would be written to "${wanted}", outside the ${input.workspaceFolder ? 'workspace folder' : "document's folder"} "${root}". ` +
        `Change ${source === 'markdown.copyFiles.destination' ? 'markdown.copyFiles.destination' : 'courseIllustrator.imageFolder'} to a path inside it.`,
    );
  }
  const folder = path.posix.dirname(wanted);
  const taken = new Set((await ws.readDirectory(folder)).map((n) => n.toLowerCase()));
  // Lowercase comparison: on Windows and macOS "Cat.png" and "cat.png" are the same file.
  const name = nextFreeName(path.posix.basename(wanted), (n) => taken.has(n.toLowerCase()));
  return { folder, file: path.posix.join(folder, name), source };
}

export function isInside(root: string, p: string): boolean {
  const rel = path.posix.relative(path.posix.normalize(root), path.posix.normalize(p));
  return rel !== '' && !rel.startsWith('../') && rel !== '..' && !path.posix.isAbsolute(rel);
}

/** Expands the variables and returns an absolute POSIX file path. */
export function resolvePattern(pattern: string, input: DestinationInput): string {
  let dest = pattern;
  // Leading '/': relative to the workspace folder, as in VS Code.
  if (dest.startsWith('/')) dest = '${documentWorkspaceFolder}/' + dest.slice(1);
  if (dest.endsWith('/')) dest += '${fileName}';
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
  // ${name} or ${name/regex/replacement/}, like VS Code's snippet-style transforms.
  const out = dest.replace(/\$\{(\w+)(?:\/([^}]+?)\/([^}]*?)\/)?\}/g, (_m, name: string, re?: string, replacement?: string) => {
    const value = vars[name];
    if (value === undefined) return '';
    if (re !== undefined) {
      try {
        return value.replace(new RegExp(re), replacement ?? '');
      } catch {
        return value;
      }
    }
    return value;
  });
  return path.posix.normalize(path.posix.isAbsolute(out) ? out : path.posix.join(dir, out));
}

function expandGlob(glob: string, folders: readonly string[]): string[] {
  if (glob.startsWith('/')) return folders.map((f) => path.posix.join(f, glob));
  return glob.startsWith('**') ? [glob] : ['**/' + glob];
}

/** Glob to RegExp: ** (any path), * (within a segment), ?, [abc], {a,b}. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  let inGroup = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 1);
      if (close < 0) re += '\\[';
      else {
        re += '[' + glob.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\') + ']';
        i = close;
      }
    } else if (c === '{') {
      inGroup++;
      re += '(?:';
    } else if (c === '}' && inGroup) {
      inGroup--;
      re += ')';
    } else if (c === ',' && inGroup) re += '|';
    else re += c.replace(/[.+^$()|\\]/g, '\\$&');
  }
  return new RegExp('^' + re + '$');
}
