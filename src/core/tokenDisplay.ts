// What the prompt box shows under it: a CLIP token counter like A1111's ("31/75", "90/150") and
// the problems in A1111 emphasis syntax, with character positions so the webview can point at them.

import type { EmphasisProblem, TokenInfo } from './webviewMessages';

/** Tokens in one CLIP window, without bos/eos. */
export const WINDOW_TOKENS = 75;

/**
 * The counter text: count over the capacity of the windows in use. Long prompts are encoded in
 * 75-token windows (A1111 style), so 90 tokens show as "90/150", not as an error.
 */
export function formatTokenCount(count: number, windows?: number): TokenInfo {
  const c = Math.max(0, Math.floor(count));
  const needed = Math.max(1, Math.ceil(c / WINDOW_TOKENS));
  const w = Math.max(needed, windows ?? 1);
  return { count: c, windows: w, text: `${c}/${w * WINDOW_TOKENS}`, over: c > WINDOW_TOKENS };
}

const WEIGHT_RE = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$/;

/**
 * A small check of A1111 emphasis syntax: `(a)`, `[a]`, `(a:1.3)`, `\(` for a literal bracket.
 * Reports unclosed and unmatched brackets, mismatched pairs, empty groups, and `(a:b)` whose weight
 * is not a number (A1111 would silently read that as text). Positions are UTF-16 offsets.
 */
export function checkEmphasis(text: string): EmphasisProblem[] {
  const problems: EmphasisProblem[] = [];
  const stack: { ch: '(' | '['; at: number }[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') {
      i++; // escaped character is literal
      continue;
    }
    if (ch === '(' || ch === '[') {
      stack.push({ ch, at: i });
    } else if (ch === ')' || ch === ']') {
      const want = ch === ')' ? '(' : '[';
      const open = stack.pop();
      if (!open) {
        problems.push({ start: i, end: i + 1, message: `"${ch}" has no matching "${want}" (write \\${ch} for a literal bracket)` });
        continue;
      }
      if (open.ch !== want) {
        problems.push({ start: open.at, end: i + 1, message: `"${open.ch}" is closed by "${ch}"` });
        continue;
      }
      const inner = text.slice(open.at + 1, i);
      if (inner.trim() === '') {
        problems.push({ start: open.at, end: i + 1, message: `empty "${open.ch}${ch}" group` });
        continue;
      }
      const colon = inner.lastIndexOf(':');
      if (ch === ')' && colon >= 0 && !/[()[\]]/.test(inner.slice(colon))) {
        const weight = inner.slice(colon + 1);
        const start = open.at + 1 + colon + 1;
        if (!WEIGHT_RE.test(weight)) {
          problems.push({ start, end: i, message: `weight "${weight.trim()}" is not a number, e.g. (word:1.2)` });
        } else if (Number(weight) < 0 || Number(weight) > 3) {
          problems.push({ start, end: i, message: `weight ${Number(weight)} is outside 0..3 and will distort the image` });
        }
      }
    }
  }
  for (const open of stack) {
    const close = open.ch === '(' ? ')' : ']';
    problems.push({ start: open.at, end: open.at + 1, message: `"${open.ch}" is never closed with "${close}"` });
  }
  return problems.sort((a, b) => a.start - b.start);
}

/** Short human text for the ETA, e.g. "12 s", "1 min 05 s". */
export function formatEta(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${String(s % 60).padStart(2, '0')} s`;
}
