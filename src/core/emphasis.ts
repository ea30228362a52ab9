// AUTOMATIC1111's prompt emphasis syntax (modules/prompt_parser.py parse_prompt_attention), with the
// same quirks, so a prompt copied from A1111 gets the same per-token weights:
//   (x) x1.1, ((x)) x1.21, (x:1.3) x1.3, [x] /1.1, \( \) \[ \] \\ literal characters,
//   an unclosed bracket applies to the end of the prompt, an unmatched closer is plain text,
//   equal neighbouring weights merge, and "BREAK" (a whole word, outside brackets) starts a new
//   75-token window: it comes back as { text: 'BREAK', weight: -1 }.

export interface WeightedText {
  text: string;
  weight: number;
}

export interface EmphasisProblem {
  /** UTF-16 offsets into the prompt, end exclusive. */
  start: number;
  end: number;
  message: string;
}

// The alternatives of A1111's re_attention, in its order (first match wins at each position).
const ATTENTION = /\\\(|\\\)|\\\[|\\\]|\\\\|\\|\(|\[|:([+-]?[.\d]+)\)|\)|\]|[^\\()[\]:]+|:/gu;
// re_break: Python's \b and \s are Unicode-aware, JS's \b is not, hence the explicit word class.
const BREAK = /\s*(?<![\p{L}\p{N}\p{Mn}_])BREAK(?![\p{L}\p{N}\p{Mn}_])\s*/u;
const ROUND = 1.1;
const SQUARE = 1 / 1.1;

interface Entry {
  text: string;
  weight: number;
}

/** Splits a prompt into runs of text with their attention weight, exactly as A1111 does. */
export function parsePromptAttention(text: string): WeightedText[] {
  const res: Entry[] = [];
  const round: number[] = [];
  const square: number[] = [];
  const multiplyFrom = (start: number, by: number) => {
    for (let p = start; p < res.length; p++) res[p].weight *= by;
  };

  for (const m of text.matchAll(ATTENTION)) {
    const piece = m[0];
    const weight = m[1];
    if (piece.startsWith('\\')) {
      res.push({ text: piece.slice(1), weight: 1 });
    } else if (piece === '(') {
      round.push(res.length);
    } else if (piece === '[') {
      square.push(res.length);
    } else if (weight !== undefined && round.length > 0 && Number.isFinite(Number(weight))) {
      // A1111 would raise on a malformed number such as "1.2.3"; we keep the text literal instead.
      multiplyFrom(round.pop() as number, Number(weight));
    } else if (piece === ')' && round.length > 0) {
      multiplyFrom(round.pop() as number, ROUND);
    } else if (piece === ']' && square.length > 0) {
      multiplyFrom(square.pop() as number, SQUARE);
    } else {
      splitOnBreak(piece).forEach((part, i) => {
        if (i > 0) res.push({ text: 'BREAK', weight: -1 });
        res.push({ text: part, weight: 1 });
      });
    }
  }
  for (const pos of round) multiplyFrom(pos, ROUND);
  for (const pos of square) multiplyFrom(pos, SQUARE);

  if (res.length === 0) return [{ text: '', weight: 1 }];
  const merged: Entry[] = [res[0]];
  for (let i = 1; i < res.length; i++) {
    const last = merged[merged.length - 1];
    if (last.weight === res[i].weight) last.text += res[i].text;
    else merged.push(res[i]);
  }
  return merged;
}

function splitOnBreak(piece: string): string[] {
  const parts: string[] = [];
  let rest = piece;
  for (let m = BREAK.exec(rest); m; m = BREAK.exec(rest)) {
    parts.push(rest.slice(0, m.index));
    rest = rest.slice(m.index + m[0].length);
  }
  parts.push(rest);
  return parts;
}

/**
 * Places where the prompt probably does not mean what A1111 will read (for the UI to underline):
 * unclosed "(" or "[" (they weight everything up to the end), ")" or "]" without an opener (read as
 * text), "(x:w)" whose weight is not a number, a weight with no "(" before it, and a lone "\".
 */
export function validateEmphasis(text: string): EmphasisProblem[] {
  const problems: EmphasisProblem[] = [];
  const round: number[] = [];
  const square: number[] = [];
  for (const m of text.matchAll(ATTENTION)) {
    const piece = m[0];
    const at = m.index as number;
    const end = at + piece.length;
    if (piece === '\\') {
      problems.push({ start: at, end, message: 'a lone "\\" is dropped; write \\\\ for a backslash, or \\( \\) \\[ \\] for literal brackets' });
    } else if (piece === '(') {
      round.push(at);
    } else if (piece === '[') {
      square.push(at);
    } else if (m[1] !== undefined) {
      if (!Number.isFinite(Number(m[1]))) {
        problems.push({ start: at + 1, end: end - 1, message: `weight "${m[1]}" is not a number, e.g. (word:1.2)` });
      } else if (round.length === 0) {
        problems.push({ start: at, end, message: `"${piece}" has no "(" before it, so it is read as text` });
      } else {
        round.pop();
      }
    } else if (piece === ')') {
      if (round.length > 0) round.pop();
      else problems.push({ start: at, end, message: '")" has no matching "(" and is read as text (write \\) for a literal bracket)' });
    } else if (piece === ']') {
      if (square.length > 0) square.pop();
      else problems.push({ start: at, end, message: '"]" has no matching "[" and is read as text (write \\] for a literal bracket)' });
    }
  }
  for (const at of round) problems.push({ start: at, end: at + 1, message: '"(" is never closed: everything after it gets x1.1' });
  for (const at of square) problems.push({ start: at, end: at + 1, message: '"[" is never closed: everything after it gets /1.1' });
  return problems.sort((a, b) => a.start - b.start);
}
