// Markdown image links for "Copy Markdown": the path relative to the document, with `/`
// separators on every OS and the characters Markdown would misread escaped.

import * as path from 'node:path';

/** Alt text from a prompt: no emphasis syntax, no brackets or line breaks, at most 100 characters. */
export function altFromPrompt(prompt: string): string {
  const plain = prompt
    .replace(/\\([()[\]])/g, '$1')
    .replace(/:\s*[+-]?\d*\.?\d+\s*\)/g, ')')
    .replace(/[()[\]<>{}]/g, ' ')
    .replace(/\s+/g, ' ')
    .replace(/ ([,;.])/g, '$1')
    .trim();
  if (plain.length <= 100) return plain;
  const cut = plain.slice(0, 100);
  const space = cut.lastIndexOf(' ');
  return (space > 60 ? cut.slice(0, space) : cut).replace(/[\s,;.]+$/, '');
}

/** Link target from a folder to a file: relative, posix separators, URL-escaped where Markdown needs it. */
export function relativeLink(fromFolder: string, file: string, p: typeof path = path): string {
  let rel = p.relative(fromFolder, file);
  if (p.sep === '\\') rel = rel.split('\\').join('/');
  return rel
    .split('/')
    .map((seg) => encodeURIComponent(seg).replace(/%2B/gi, '+').replace(/%40/g, '@').replace(/%2C/g, ','))
    .join('/');
}

export function markdownImage(documentPath: string | undefined, imagePath: string, alt: string, base?: string): string {
  const folder = documentPath ? path.dirname(documentPath) : base ?? path.dirname(imagePath);
  return `![${alt}](${relativeLink(folder, imagePath)})`;
}
