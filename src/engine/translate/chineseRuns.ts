// A prompt cut into what the translation model sees and what it must not touch. Pure: no I/O.
//
// Only runs of Chinese text are translated. Everything ASCII stays as written, so A1111 syntax
// survives: `<lora:名字:0.8>` tags (even with a Chinese name: the file is called that), the
// brackets and `:1.3` weights of `(植物细胞:1.3)`, `[a|b]`, BREAK, and the English words around.
// A run is CJK text (Han, kana, Hangul) with the spaces and digits between; it is translated only
// if it holds a Han character (the model is zh→en). Full-width brackets and quotes stay around the
// English as written (turning （ into ( would make emphasis the teacher never wrote). Chinese
// phrase separators (，、；。) become commas, as prompts separate phrases with commas.

/** One piece of a prompt: kept as it is, a Chinese run to translate, or a separator to normalise. */
export type PromptPart = { kind: 'keep'; text: string } | { kind: 'chinese'; text: string } | { kind: 'separator'; text: string };

const HAN = /\p{Script=Han}/u;
/** CJK words: Han (with 々 〇), kana, Hangul, bopomofo; not CJK punctuation. */
const WIDE = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Bopomofo}\u3005-\u3007\u30fc]/u;
/** Between wide characters these stay inside the run: "第 3 层" is one phrase. */
const JOINER = /[\s\d\u3000]/u;
const SEPARATORS = new Set(['，', '、', '；', '。']);

export function splitPrompt(prompt: string): PromptPart[] {
  const chars = Array.from(prompt);
  const parts: PromptPart[] = [];
  const push = (kind: PromptPart['kind'], text: string) => {
    const last = parts[parts.length - 1];
    if (last && last.kind === kind && kind !== 'chinese') last.text += text;
    else if (text) parts.push({ kind, text } as PromptPart);
  };
  let i = 0;
  while (i < chars.length) {
    const c = chars[i];
    if (c === '<') {
      // A tag (LoRA, LyCORIS, hypernet) is a file name and a weight: never translated.
      const close = chars.indexOf('>', i + 1);
      if (close > i) {
        push('keep', chars.slice(i, close + 1).join(''));
        i = close + 1;
        continue;
      }
    }
    if (SEPARATORS.has(c)) {
      push('separator', c);
      i++;
      continue;
    }
    if (isWide(c)) {
      let end = i + 1;
      for (let k = i + 1; k < chars.length; k++) {
        if (isWide(chars[k])) end = k + 1;
        else if (!JOINER.test(chars[k])) break;
      }
      const run = chars.slice(i, end).join('');
      push(HAN.test(run) ? 'chinese' : 'keep', run);
      i = end;
      continue;
    }
    push('keep', c);
    i++;
  }
  return parts;
}

function isWide(c: string): boolean {
  return !SEPARATORS.has(c) && WIDE.test(c);
}

/** The distinct Chinese runs of `parts`, in order: what the model is asked to translate. */
export function chineseRuns(parts: readonly PromptPart[]): string[] {
  return [...new Set(parts.filter((p) => p.kind === 'chinese').map((p) => p.text.trim()))];
}

/**
 * The prompt again with each Chinese run replaced by its English (`english(run)`; a run the
 * model gave nothing for stays Chinese, so no words silently vanish) and separators as commas.
 * A space is put between the English and ASCII letters or digits it would otherwise touch.
 */
export function joinPrompt(parts: readonly PromptPart[], english: (run: string) => string | undefined): string {
  let out = '';
  let afterSeparator = false;
  for (const p of parts) {
    if (p.kind === 'separator') {
      out = out.replace(/\s+$/u, '');
      if (out && !out.endsWith(',')) out += ',';
      afterSeparator = out !== '';
      continue;
    }
    let text = p.kind === 'keep' ? p.text : cleanEnglish(english(p.text.trim()) ?? '') || p.text.trim();
    if (afterSeparator) {
      // The comma that replaced "，" is followed by one space, as a typed one would be.
      text = text.replace(/^\s+/u, '');
      if (text && !/^[,)\]>]/u.test(text)) out += ' ';
    } else if (needsSpace(out, text)) {
      out += ' ';
    }
    out += text;
    afterSeparator = false;
  }
  // "。" at the end closed a sentence; a prompt needs no comma there.
  return afterSeparator ? out.replace(/,$/u, '') : out;
}

function needsSpace(before: string, next: string): boolean {
  return /[\p{L}\p{N}]$/u.test(before) && /^[\p{L}\p{N}]/u.test(next) && !(isWide(before.slice(-1)) && isWide(next[0]));
}

/**
 * A translation as a prompt phrase: Marian writes sentences ("Plant cells."), prompts are
 * lower-case phrases without a full stop. Acronyms ("DNA") keep their capitals.
 */
export function cleanEnglish(text: string): string {
  let t = text.trim().replace(/[.。]+$/u, '').trim();
  if (/^\p{Lu}\p{Ll}/u.test(t)) t = t[0].toLowerCase() + t.slice(1);
  return t;
}
