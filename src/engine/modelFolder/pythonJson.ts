// Python's json module writes Infinity, -Infinity and NaN as bare words (allow_nan=True), and
// diffusers' configs contain them (e.g. DPMSolver's lambda_min_clipped: -Infinity). JSON.parse
// rejects those words, so they are turned into numbers here, outside string literals only.

import { randomUUID } from 'crypto';

const SENTINEL = '\u0000py-number:';

export function parsePythonJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (first) {
    // The words become marked strings that the reviver turns into numbers. The mark must not be
    // something the file could write itself (a string "\u0000py-number:NaN" in a config would
    // otherwise come back as a number), so it carries a random tag the file cannot know.
    const mark = `${SENTINEL}${randomUUID()}:`;
    let out = '';
    let i = 0;
    let changed = false;
    while (i < text.length) {
      const c = text[i];
      if (c === '"') {
        // Copy a whole string literal, escapes included.
        let j = i + 1;
        while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
        out += text.slice(i, j + 1);
        i = j + 1;
        continue;
      }
      const word = /^(-?Infinity|NaN)/.exec(text.slice(i, i + 9));
      if (word) {
        out += JSON.stringify(mark + word[1]);
        i += word[1].length;
        changed = true;
        continue;
      }
      out += c;
      i++;
    }
    if (!changed) throw first;
    return JSON.parse(out, (_key, value) =>
      typeof value === 'string' && value.startsWith(mark) ? Number(value.slice(mark.length)) : value);
  }
}
