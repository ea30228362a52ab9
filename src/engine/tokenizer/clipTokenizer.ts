// CLIP BPE tokenizer giving exactly the ids of Hugging Face transformers' *slow* CLIPTokenizer, the
// class diffusers' StableDiffusionPipeline loads, in the usual environment without `ftfy`.
//
// Hand-written on purpose: the maintained JavaScript tokenizer libraries emulate the *fast*
// (Rust `tokenizers`) CLIP tokenizer, whose normaliser differs from the slow one that diffusers runs
// (CJK characters are not isolated, control and format characters are kept, NFC vs NFKC), so their ids
// can differ from what the Python pipeline feeds the text encoder for the same prompt.
//
// The slow path, step by step (transformers tokenization_utils.py + models/clip/tokenization_clip.py +
// models/bert/tokenization_bert.py BasicTokenizer(strip_accents=False, do_split_on_punc=False)):
//  1. the text is cut around the special tokens (bos, eos, unk, pad), matched exactly, longest first;
//     those pieces become their ids directly;
//  2. every other piece: NUL, U+FFFD and Unicode category C (control, format, surrogate, private,
//     unassigned) removed, except \t \n \r which become spaces like every Zs character;
//  3. CJK ideographs get a space on each side; NFC; split on whitespace; each word lower-cased;
//     words joined with single spaces;
//  4. the CLIP regex cuts that into pieces; each piece is UTF-8 encoded and mapped byte by byte to the
//     printable characters of GPT-2's byte table; BPE with "</w>" on the last symbol; vocab lookup
//     (unknown -> unk id).

import { promises as fs } from 'fs';
import * as path from 'path';

/** The slow tokenizer reads only the first 49152 - 256 - 2 merges of merges.txt. */
const MAX_MERGES = 49152 - 256 - 2;
const END_OF_WORD = '</w>';
const SPLIT_PATTERN = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+/giu;
const CACHE_LIMIT = 20000;

export interface ClipTokenizerFiles {
  vocab: Record<string, number>;
  /** Merge rules in priority order, each "left right". */
  merges: string[];
  bosToken?: string;
  eosToken?: string;
  unkToken?: string;
  padToken?: string;
  maxLength?: number;
}

export class ClipTokenizer {
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  readonly unkId: number;
  /** Sequence length the text encoder takes (model_max_length, 77 for SD). */
  readonly maxLength: number;
  private readonly vocab: Map<string, number>;
  private readonly ranks = new Map<string, number>();
  private readonly specialIds = new Map<string, number>();
  private readonly specialsLongestFirst: string[];
  private readonly bpeCache = new Map<string, number[]>();
  private readonly byteChars = byteToUnicode();

  constructor(files: ClipTokenizerFiles) {
    this.vocab = new Map(Object.entries(files.vocab));
    const merges = files.merges.slice(0, MAX_MERGES);
    merges.forEach((m, i) => {
      const key = m.trim().split(/\s+/).join(' ');
      if (!this.ranks.has(key)) this.ranks.set(key, i);
    });
    const idOf = (role: string, token: string): number => {
      const id = this.vocab.get(token);
      if (id === undefined) throw new Error(`CLIP tokenizer: the ${role} token ${JSON.stringify(token)} is not in the vocabulary`);
      return id;
    };
    const bos = files.bosToken ?? '<|startoftext|>';
    const eos = files.eosToken ?? '<|endoftext|>';
    const unk = files.unkToken ?? '<|endoftext|>';
    const pad = files.padToken ?? '<|endoftext|>';
    this.bosId = idOf('bos', bos);
    this.eosId = idOf('eos', eos);
    this.unkId = idOf('unk', unk);
    this.padId = idOf('pad', pad);
    for (const [t, id] of [[bos, this.bosId], [eos, this.eosId], [unk, this.unkId], [pad, this.padId]] as const) {
      this.specialIds.set(t, id);
    }
    this.specialsLongestFirst = [...this.specialIds.keys()].sort((a, b) => b.length - a.length);
    this.maxLength = files.maxLength ?? 77;
  }

  /**
   * Loads a diffusers `tokenizer/` folder: vocab.json + merges.txt (or tokenizer.json), and the special
   * tokens and model_max_length from special_tokens_map.json / tokenizer_config.json when present.
   */
  static async fromFolder(tokenizerDir: string): Promise<ClipTokenizer> {
    const file = (name: string) => path.join(tokenizerDir, name);
    const config = (await readJsonIfExists(file('tokenizer_config.json'))) ?? {};
    const specialMap = (await readJsonIfExists(file('special_tokens_map.json'))) ?? {};
    let vocab = await readJsonIfExists(file('vocab.json'));
    let merges: string[];
    if (vocab) {
      merges = await readMergesTxt(file('merges.txt'));
    } else {
      const tj = await readJsonIfExists(file('tokenizer.json'));
      if (!tj) {
        throw new Error(`CLIP tokenizer: neither ${file('vocab.json')} nor ${file('tokenizer.json')} exists; the model's tokenizer folder is incomplete (download the model again)`);
      }
      const model = tj.model as Record<string, unknown> | undefined;
      if (!model || typeof model.vocab !== 'object' || !Array.isArray(model.merges)) {
        throw new Error(`CLIP tokenizer: ${file('tokenizer.json')} has no model.vocab / model.merges (is it a BPE tokenizer?)`);
      }
      vocab = model.vocab as Record<string, unknown>;
      merges = (model.merges as unknown[]).map((m) => (Array.isArray(m) ? m.join(' ') : String(m)));
    }
    checkVocab(vocab, file(vocab === undefined ? 'tokenizer.json' : 'vocab.json'));
    const token = (key: string): string | undefined => tokenText(specialMap[key]) ?? tokenText(config[key]);
    const maxLen = config.model_max_length;
    // Some configs store a huge sentinel (1e30) for "no limit"; the CLIP text encoder takes 77.
    const maxLength = typeof maxLen === 'number' && Number.isInteger(maxLen) && maxLen > 2 && maxLen <= 4096 ? maxLen : 77;
    try {
      return new ClipTokenizer({
        vocab: vocab as Record<string, number>,
        merges,
        bosToken: token('bos_token'),
        eosToken: token('eos_token'),
        unkToken: token('unk_token'),
        padToken: token('pad_token'),
        maxLength,
      });
    } catch (e) {
      throw new Error(`${(e as Error).message} (folder ${tokenizerDir})`);
    }
  }

  /** The id of a vocabulary entry such as ",</w>", or undefined. */
  tokenId(token: string): number | undefined {
    return this.vocab.get(token);
  }

  /** Token ids of `text` without bos/eos and without truncation. */
  encode(text: string): number[] {
    const ids: number[] = [];
    for (const piece of this.splitOnSpecials(text)) {
      const special = this.specialIds.get(piece);
      if (special !== undefined) {
        ids.push(special);
        continue;
      }
      const normalised = basicClean(piece);
      for (const m of normalised.matchAll(SPLIT_PATTERN)) ids.push(...this.bpeIds(m[0]));
    }
    return ids;
  }

  /** The `maxLength` ids diffusers feeds the text encoder: bos, the first maxLength-2 tokens, eos, padding. */
  pipelineIds(text: string): number[] {
    const body = this.encode(text).slice(0, this.maxLength - 2);
    const ids = [this.bosId, ...body, this.eosId];
    while (ids.length < this.maxLength) ids.push(this.padId);
    return ids;
  }

  /** Splits around special tokens (exact, case-sensitive, longest match first), like the slow tokenizer's trie. */
  private splitOnSpecials(text: string): string[] {
    const out: string[] = [];
    let start = 0;
    let i = 0;
    while (i < text.length) {
      const hit = this.specialsLongestFirst.find((s) => text.startsWith(s, i));
      if (hit) {
        if (i > start) out.push(text.slice(start, i));
        out.push(hit);
        i += hit.length;
        start = i;
      } else {
        i++;
      }
    }
    if (start < text.length) out.push(text.slice(start));
    return out;
  }

  private bpeIds(piece: string): number[] {
    const cached = this.bpeCache.get(piece);
    if (cached) return cached;
    let ids: number[];
    const lowerSpecial = piece === '<|startoftext|>' || piece === '<|endoftext|>' ? this.vocab.get(piece) : undefined;
    if (lowerSpecial !== undefined) {
      // The slow tokenizer's BPE cache returns these two unchanged, so they map to their own ids.
      ids = [lowerSpecial];
    } else {
      let mapped = '';
      for (const b of Buffer.from(piece, 'utf8')) mapped += this.byteChars[b];
      ids = this.bpe(mapped).map((sym) => this.vocab.get(sym) ?? this.unkId);
    }
    if (this.bpeCache.size >= CACHE_LIMIT) this.bpeCache.clear();
    this.bpeCache.set(piece, ids);
    return ids;
  }

  private bpe(token: string): string[] {
    const word = Array.from(token);
    word[word.length - 1] += END_OF_WORD;
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.ranks.get(word[i] + ' ' + word[i + 1]);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      const first = word[best];
      const second = word[best + 1];
      // Merge every occurrence of the pair, left to right, as the reference does.
      const merged: string[] = [];
      for (let i = 0; i < word.length; i++) {
        if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
          merged.push(first + second);
          i++;
        } else {
          merged.push(word[i]);
        }
      }
      word.length = 0;
      word.push(...merged);
    }
    return word;
  }
}

/** BasicTokenizer(strip_accents=False, do_split_on_punc=False).tokenize joined with spaces. */
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

/** GPT-2's reversible byte -> printable character table. */
function byteToUnicode(): string[] {
  const table = new Array<string>(256);
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let extra = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(printable(b) ? b : 256 + extra++);
  return table;
}

function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') {
    return (v as { content: string }).content;
  }
  return undefined;
}

async function readJsonIfExists(file: string): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`CLIP tokenizer: cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as Record<string, unknown>;
  } catch (e) {
    throw new Error(`CLIP tokenizer: ${file} is not valid JSON (${(e as Error).message}); the file is corrupt, download the model again`);
  }
}

async function readMergesTxt(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : `cannot be read (${(e as Error).message})`;
    throw new Error(`CLIP tokenizer: ${file} ${why}; it must sit next to vocab.json`);
  }
  // Like the reference: strip, split lines, drop the "#version" header line.
  const lines = text.trim().split('\n').slice(1).map((l) => l.replace(/\r$/, ''));
  const bad = lines.findIndex((l) => l.trim().split(/\s+/).length !== 2);
  if (lines.length === 0 || bad >= 0) {
    throw new Error(`CLIP tokenizer: ${file} is corrupt (${lines.length === 0 ? 'no merges' : `line ${bad + 2} is not "left right"`})`);
  }
  return lines;
}

function checkVocab(vocab: Record<string, unknown>, file: string): void {
  const entries = Object.entries(vocab);
  if (entries.length === 0) throw new Error(`CLIP tokenizer: ${file} has an empty vocabulary`);
  const bad = entries.find(([, id]) => typeof id !== 'number' || !Number.isInteger(id));
  if (bad) throw new Error(`CLIP tokenizer: ${file} is corrupt (token ${JSON.stringify(bad[0])} has no integer id)`);
}
