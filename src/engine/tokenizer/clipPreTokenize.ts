// The text clean-up and word splitting of the two CLIP tokenizers diffusers may run, up to the point
// where each piece goes through byte-level BPE. Both are pure functions of the text so they can be
// compared side by side; the special-token matching around them lives in clipTokenizer.ts.

/** CLIP's own split regex, as transformers v4's slow tokenizer compiles it (re.IGNORECASE). */
const CLIP_SPLIT_V4 = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+/giu;

/**
 * The same regex as the Rust `Split` pre-tokenizer runs it: case-sensitive (the text is lower-cased
 * already) and with Unicode White_Space for `\s`. JavaScript's `\s` differs (it has U+FEFF and lacks
 * U+0085), so the property is spelled out.
 */
const CLIP_SPLIT_V5 = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\p{White_Space}\p{L}\p{N}]+/gu;

/**
 * GPT-2's regex, which the Rust `ByteLevel` pre-tokenizer (use_regex: true) applies again to every
 * piece. On CLIP's pieces it only changes one thing: a "<|endoftext|>" written in another case
 * survives as text and is cut into "<|", "endoftext", "|>".
 */
const GPT2_SPLIT =
  /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\p{White_Space}\p{L}\p{N}]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;

const WHITE_SPACE_RUN = /\p{White_Space}+/gu;

/**
 * transformers v5 (Rust `tokenizers`) normaliser: NFC, every White_Space run to one space, then
 * lower-casing one character at a time (Rust's char::to_lowercase: no final-sigma rule, so "Σ" is
 * always "σ"; "İ" becomes "i" + U+0307). Control, format and CJK characters are left as they are.
 */
export function normaliseV5(text: string): string {
  const spaced = text.normalize('NFC').replace(WHITE_SPACE_RUN, ' ');
  // String.toLowerCase differs from per-character lower-casing only by the final-sigma rule.
  if (!spaced.includes('\u03a3')) return spaced.toLowerCase();
  let out = '';
  for (const ch of spaced) out += ch.toLowerCase();
  return out;
}

/** The pieces the v5 pre-tokenizers (Split with CLIP's regex, then ByteLevel's GPT-2 regex) give. */
export function preTokenizeV5(normalised: string): string[] {
  const pieces: string[] = [];
  for (const m of normalised.matchAll(CLIP_SPLIT_V5)) {
    for (const sub of m[0].matchAll(GPT2_SPLIT)) pieces.push(sub[0]);
  }
  return pieces;
}

/** The pieces the v4 slow tokenizer feeds to BPE: basicClean, then CLIP's regex (case-insensitive). */
export function preTokenizeV4(text: string): string[] {
  return Array.from(basicClean(text).matchAll(CLIP_SPLIT_V4), (m) => m[0]);
}

/** transformers v4 BasicTokenizer(strip_accents=False, do_split_on_punc=False).tokenize joined with spaces. */
export function basicClean(text: string): string {
  let cleaned = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    if (cp === 0 || cp === 0xfffd) continue;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || /\p{Zs}/u.test(ch)) {
      cleaned += ' ';
    } else if (/\p{C}/u.test(ch)) {
      continue;
    } else if (isCjk(cp)) {
      cleaned += ' ' + ch + ' ';
    } else {
      cleaned += ch;
    }
  }
  return cleaned
    .normalize('NFC')
    .split(/\s+/)
    .filter((w) => w.length > 0)
    .map((w) => w.toLowerCase())
    .join(' ');
}

function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}
