// Markdown image links: relative, '/'-separated, with the characters that would end or break a
// link target percent-encoded. Pure string work on POSIX-style paths (vscode.Uri.path).

import * as path from 'path';

/** Encodes what breaks a Markdown link target; keeps letters (also non-ASCII) readable. */
export function encodeLinkPath(p: string): string {
  return p.replace(/[%\s()<>[\]#?"'`\\]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}

/**
 * The link from a Markdown file to an image, both absolute POSIX paths (uri.path):
 * "images/intro/heart%20cells.png". Always '/' separators, never absolute.
 */
export function relativeImageLink(documentPath: string, imagePath: string): string {
  let rel = path.posix.relative(path.posix.dirname(documentPath), imagePath);
  if (!rel) rel = path.posix.basename(imagePath);
  return rel.split('/').map(encodeLinkPath).join('/');
}

/** Alt text on one line with brackets and backslashes escaped. */
export function escapeAlt(alt: string): string {
  return alt
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/([\\[\]])/g, '\\$1');
}

export function imageMarkdown(alt: string, link: string): string {
  return `![${escapeAlt(alt)}](${link})`;
}

/** Converts an OS path to the POSIX form used here ("C:\\a\\b" -> "/C:/a/b"). */
export function toPosixPath(p: string): string {
  if (!/^[a-zA-Z]:[\\/]/.test(p) && !p.includes('\\')) return p;
  const s = p.replace(/\\/g, '/');
  return /^[a-zA-Z]:\//.test(s) ? '/' + s : s;
}
