// Which image files the course's Markdown documents use, for the gallery's "not linked from any
// document" filter and its clean-up. Pure: the extension feeds it document texts.
//
// A link is what the stub parser (stubs.ts) reads as an image: `![alt](path)`, with angle brackets
// and %-encoding, never inside code; resolved against the document's folder, a leading "/"
// against the workspace folder too. The parser does not read `<img src>`, reference-style images
// or links in code, so as a safety net an image whose file name a document mentions in any other
// way also counts as used: the clean-up moves files to the trash, and a teacher's HTML image must
// never be among them. A name is matched in any folder (same-named files are both kept).

import * as path from 'path';
import { toPosixPath } from './links';
import { parseStubs } from './stubs';

export interface MarkdownSource {
  /** The document's absolute path (OS or POSIX form). */
  path: string;
  text: string;
  /** The workspace folder holding it: where a link starting with "/" starts, as in VS Code's preview. */
  root?: string;
}

export interface DocumentImages {
  /** Keys (imageKey) of the PNG files it links as Markdown images. */
  links: string[];
  /** File names (lower case) it mentions other than in those links. */
  names: string[];
}

/**
 * The key a file is compared by: POSIX, normalized, lower case. Folding case on every platform
 * can only make a link match more files, so it errs towards keeping an image.
 */
export function imageKey(p: string): string {
  return path.posix.normalize(toPosixPath(p)).toLowerCase();
}

function fileNameOf(p: string): string {
  return (p.split(/[\\/]/).pop() ?? p).toLowerCase();
}

/** decodeURIComponent where it can; %-sequences it cannot decode stay as written. */
function decodeLoosely(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s.replace(/(?:%[0-9a-fA-F]{2})+/g, (m) => {
      try {
        return decodeURIComponent(m);
      } catch {
        return m;
      }
    });
  }
}

/** The paths a link target may mean: as the parser decoded it, fully decoded, with "\" as "/". */
function targetVariants(parsedPath: string, href: string): string[] {
  const raw = href.trim().replace(/^<(.*)>$/, '$1');
  const out = new Set<string>([parsedPath, decodeLoosely(raw)]);
  for (const p of [...out]) if (p.includes('\\')) out.add(p.replace(/\\/g, '/'));
  return [...out];
}

// What ends a file name when read backwards from ".png": quotes, brackets, markup, separators.
const NAME_STOP = /["'<>()[\]{}|*=:;,`\n\r\t/\\]/;
const MAX_NAME = 255;

/** Every mention of a *.png file name in the text, decoded, lower case, with how often it occurs. */
export function mentionedNames(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  const re = /\.png(?![A-Za-z0-9_])/gi;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const window = text.slice(Math.max(0, m.index - MAX_NAME), m.index);
    let start = window.length;
    while (start > 0 && !NAME_STOP.test(window[start - 1])) start--;
    for (const n of nameCandidates(decodeLoosely(window.slice(start)))) counts.set(n, (counts.get(n) ?? 0) + 1);
  }
  return counts;
}

/**
 * The file names a mention may mean, lower case with ".png": "see heart cells" (before ".png")
 * may name "see heart cells.png", "heart cells.png" or "cells.png", so every start after a space counts.
 */
function nameCandidates(stemText: string): Set<string> {
  const stem = stemText.slice(Math.max(stemText.lastIndexOf('/'), stemText.lastIndexOf('\\')) + 1);
  const names = new Set<string>();
  for (let k = 0; k < stem.length; k++) {
    if (k > 0 && stem[k - 1] !== ' ') continue;
    const name = stem.slice(k).trim().toLowerCase();
    if (name) names.add(`${name}.png`);
  }
  return names;
}

/** The images one document links, and the names it mentions in ways the parser does not read. */
export function imagesOfDocument(doc: MarkdownSource): DocumentImages {
  const docPath = toPosixPath(doc.path);
  const dir = path.posix.dirname(docPath);
  const root = doc.root === undefined ? undefined : toPosixPath(doc.root);
  const links = new Set<string>();
  const linkedNames = new Map<string, number>();
  for (const image of parseStubs(doc.text).images) {
    const variants = targetVariants(image.path, image.href);
    for (const v of variants) {
      if (v.startsWith('/')) {
        links.add(imageKey(v));
        if (root !== undefined) links.add(imageKey(path.posix.join(root, v)));
      } else {
        links.add(imageKey(path.posix.join(dir, v)));
      }
    }
    // Counted as a mention would count it, so that the link's own text is not an extra mention.
    const decoded = variants[variants.length - 1];
    for (const name of nameCandidates(decoded.replace(/\.png$/i, ''))) linkedNames.set(name, (linkedNames.get(name) ?? 0) + 1);
  }
  // A name mentioned more often than the parser found links to it is used some other way.
  const names: string[] = [];
  for (const [name, n] of mentionedNames(doc.text)) if (n > (linkedNames.get(name) ?? 0)) names.push(name);
  return { links: [...links], names };
}

export interface ImageUse {
  /** Documents (their paths as given) that link the image. */
  linkedFrom: readonly string[];
  /** Documents that mention its file name in some other way (HTML, reference, code). */
  namedIn: readonly string[];
}

const NONE: readonly string[] = [];

/** Links of every Markdown document in the workspace, kept per document so one edit costs one parse. */
export class ImageLinkIndex {
  private readonly docs = new Map<string, { path: string; images: DocumentImages }>();
  private byLink: Map<string, string[]> | undefined;
  private byName: Map<string, string[]> | undefined;

  get size(): number {
    return this.docs.size;
  }

  /** Adds or replaces a document; false when its links and names did not change. */
  set(doc: MarkdownSource): boolean {
    const images = imagesOfDocument(doc);
    const key = imageKey(doc.path);
    const old = this.docs.get(key)?.images;
    this.docs.set(key, { path: doc.path, images });
    if (old && sameList(old.links, images.links) && sameList(old.names, images.names)) return false;
    this.invalidate();
    return true;
  }

  /** Forgets a document; true when it was known. */
  delete(docPath: string): boolean {
    const removed = this.docs.delete(imageKey(docPath));
    if (removed) this.invalidate();
    return removed;
  }

  /** Forgets every document under a folder (a deleted folder fires one event). */
  deleteUnder(folder: string): number {
    const prefix = imageKey(folder).replace(/\/?$/, '/');
    let n = 0;
    for (const key of [...this.docs.keys()]) {
      if (key.startsWith(prefix)) {
        this.docs.delete(key);
        n++;
      }
    }
    if (n) this.invalidate();
    return n;
  }

  clear(): void {
    this.docs.clear();
    this.invalidate();
  }

  /** Which documents link or name the image at `imagePath`. */
  use(imagePath: string): ImageUse {
    this.build();
    return {
      linkedFrom: this.byLink?.get(imageKey(imagePath)) ?? NONE,
      namedIn: this.byName?.get(fileNameOf(imagePath)) ?? NONE,
    };
  }

  /** True when no document links the image or mentions its file name. */
  isUnused(imagePath: string): boolean {
    const u = this.use(imagePath);
    return u.linkedFrom.length === 0 && u.namedIn.length === 0;
  }

  private invalidate(): void {
    this.byLink = undefined;
    this.byName = undefined;
  }

  /** The reverse maps, built once per change (linear in the number of links), not per question. */
  private build(): void {
    if (this.byLink && this.byName) return;
    const byLink = new Map<string, string[]>();
    const byName = new Map<string, string[]>();
    const add = (m: Map<string, string[]>, k: string, doc: string) => {
      const list = m.get(k);
      if (!list) m.set(k, [doc]);
      else if (list[list.length - 1] !== doc) list.push(doc);
    };
    for (const { path: doc, images } of this.docs.values()) {
      for (const k of images.links) add(byLink, k, doc);
      for (const n of images.names) add(byName, n, doc);
    }
    this.byLink = byLink;
    this.byName = byName;
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
