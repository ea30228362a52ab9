// Where the English goes in the document once a stub's Chinese prompt was translated. Pure: no
// vscode (unit tests run it in plain Node).
//
//   <!-- illustrate: 植物细胞 | seed: 4 -->      ->  <!-- illustrate: 植物细胞 | prompt: plant cell | seed: 4 -->
//   <!-- illustrate: 细胞图 | prompt: 植物细胞 -->  ->  <!-- illustrate: 细胞图 | prompt: plant cell -->
//   ![植物细胞]()                                ->  <!-- illustrate: 植物细胞 | prompt: plant cell -->
//
// The Chinese stays the alt text and names the file; the English is what the model reads, and it
// stays in the document, where the teacher sees and can correct it. An empty-link stub becomes
// a directive (it has no place for a second prompt); keeping the link beside it would leave a
// second stub that still asks for a picture from the Chinese. The directive's image goes on the
// line below it, as the link's would have gone in its place.

import * as l10n from '@vscode/l10n';
import type { ImageStub, TextRange } from '../../core/stubs';

export interface StubEdit {
  /** What to replace: the stub's own range (the whole comment, or the `![...]()` text). */
  range: TextRange;
  newText: string;
}

const HEAD = /^<!--\s*illustrate\s*:/i;

/** The text the translation model gets for `stub`: what the model would read now. */
export function textToTranslate(stub: ImageStub): string {
  return stub.prompt;
}

/**
 * The edit that makes `english` the model's prompt of `stub`, whose line is `lineText`; a
 * sentence for the user when it cannot be written there.
 */
export function englishPromptEdit(lineText: string, stub: ImageStub, english: string): StubEdit | { problem: string } {
  const value = english.trim();
  if (!value) return { problem: l10n.t('The translation came back empty; write the English prompt by hand.') };
  // "|" separates a comment's options and "-->" ends it: neither can be inside a value.
  if (value.includes('|') || value.includes('-->')) {
    return { problem: l10n.t('The English prompt "{0}" contains "|" or "-->", which an illustrate comment cannot hold; write it by hand.', value) };
  }
  if (stub.kind === 'empty-link') {
    const alt = stub.alt.trim();
    if (alt.includes('|') || alt.includes('-->')) {
      return { problem: l10n.t('The alt text "{0}" contains "|" or "-->", which an illustrate comment cannot hold; write the comment by hand.', alt) };
    }
    return { range: stub.range, newText: `<!-- illustrate: ${alt} | prompt: ${value} -->` };
  }
  const comment = lineText.slice(stub.range.start, stub.range.end);
  const head = HEAD.exec(comment);
  if (!head || !comment.endsWith('-->')) return { problem: l10n.t('The illustrate comment changed; run the translation again.') };
  const parts = comment.slice(head[0].length, -3).split('|');
  const at = parts.findIndex((p, i) => i > 0 && p.slice(0, Math.max(0, p.indexOf(':'))).trim().toLowerCase() === 'prompt');
  if (at > 0) parts[at] = ` prompt: ${value} `;
  else parts[0] = `${parts[0].trimEnd()} | prompt: ${value} `;
  return { range: stub.range, newText: `${head[0]}${parts.join('|')}-->` };
}
