// Markdown for "Copy Markdown": the same link format as the insert command (src/core/links.ts),
// so a copied link and an inserted one are identical.

import { imageMarkdown, relativeImageLink, toPosixPath } from '../../core/links';
import { withoutLoraTags } from '../../core/loraTags';
import { cleanPromptText } from '../../core/sanitize';

/**
 * Alt text from a prompt: no emphasis syntax, no brackets or line breaks, no control characters
 * or bidi overrides (the prompt may come from any PNG), at most 100 characters.
 */
export function altFromPrompt(prompt: string): string {
  const plain = withoutLoraTags(cleanPromptText(prompt))
    .replace(/\\([()[\]])/g, '$1')
    .replace(/:\s*[+-]?\d*\.?\d+\s*\)/g, ')')
    .replace(/\bBREAK\b/g, ' ')
    .replace(/[()[\]<>{}]/g, ' ')
    .replace(/\s+/g, ' ')
    .replace(/ ([,;.])/g, '$1')
    .trim();
  if (plain.length <= 100) return plain;
  const cut = plain.slice(0, 100);
  const space = cut.lastIndexOf(' ');
  return (space > 60 ? cut.slice(0, space) : cut).replace(/[\s,;.]+$/, '');
}

/**
 * `![alt](link)` with the link relative to the document; without a document, relative to `base`
 * (a workspace folder), as if the Markdown lived at its root.
 */
export function markdownImage(documentPath: string | undefined, imagePath: string, alt: string, base?: string): string {
  const image = toPosixPath(imagePath);
  const from = documentPath ? toPosixPath(documentPath) : `${toPosixPath(base ?? image.replace(/\/[^/]*$/, ''))}/README.md`;
  return imageMarkdown(alt, relativeImageLink(from, image));
}
