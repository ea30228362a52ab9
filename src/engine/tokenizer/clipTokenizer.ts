// CLIP BPE tokenizer giving exactly the ids Hugging Face transformers' CLIPTokenizer gives, the tokenizer
// diffusers' StableDiffusionPipeline loads. Two flavours, because transformers changed it:
//  - 'transformers-v5' (the default): transformers 5, where CLIPTokenizer runs the Rust `tokenizers`
//    pipeline. A current `pip install diffusers transformers` gets this one, so the default gives the
//    ids a user's Python pipeline gives today. Checked id for id against transformers 5.17.0 on 85
//    prompts (test/engine/tokenizer/transformersV5.golden.json).
//  - 'transformers-v4-slow': transformers 4's slow Python CLIPTokenizer without `ftfy`, which older
//    diffusers setups used. It gives other ids for 14 of those 85 prompts: CJK ideographs are
//    isolated, control and format characters (ZWJ in emoji, ZWSP, soft hyphen, BOM, NUL) are deleted,
//    and Python's lower() applies the final-sigma rule (lower-cased "ΟΔΟΣ" ends in "ς", not "σ").
//
// Hand-written on purpose: the maintained JavaScript tokenizer libraries (transformers.js,
// @huggingface/tokenizers) build a tokenizer from a tokenizer.json, which SD v1.x `tokenizer/` folders
// do not ship (they hold vocab.json + merges.txt), and they have no v4-slow mode. The whole algorithm is
// small: a normaliser, two regexes, byte-level BPE over merges.txt.
//
// transformers v5, step by step (tokenizer.json pipeline transformers builds for CLIP):
//  1. "<|endoftext|>" and the other non-normalised special tokens (eos, unk, pad) are cut out of the raw
//     text, exact and longest first;
//  2. normaliser on each remaining piece: NFC, White_Space runs -> " ", per-character lower-casing;
//  3. "<|startoftext|>" (a normalised special token, so typed in any case) is cut out of the result;
//  4. Split with CLIP's regex (whitespace dropped), then ByteLevel's GPT-2 regex on each piece;
//  5. bytes -> GPT-2's printable byte characters, BPE with "</w>" on the last symbol, vocab lookup.
//
// transformers v4 slow (tokenization_utils.py + models/clip/tokenization_clip.py +
// models/bert/tokenization_bert.py BasicTokenizer(strip_accents=False, do_split_on_punc=False)):
//  1. the text is cut around the special tokens (bos, eos, unk, pad), matched exactly, longest first;
//  2. every other piece: NUL, U+FFFD and Unicode category C (control, format, surrogate, private,
//     unassigned) removed, except \t \n \r which become spaces like every Zs character;
//  3. CJK ideographs get a space on each side; NFC; split on whitespace; each word lower-cased;
//  4. CLIP's regex (case-insensitive), then the same byte-level BPE. Its BPE cache maps a lower-cased
//     "<|startoftext|>" / "<|endoftext|>" to the special ids.

import { promises as fs } from 'fs';
import * as path from 'path';
import { normaliseV5, preTokenizeV4, preTokenizeV5 } from './clipPreTokenize';

/** Which transformers CLIPTokenizer to reproduce; see the header. */
export type ClipTokenizerFlavour = 'transformers-v5' | 'transformers-v4-slow';
export const CLIP_TOKENIZER_FLAVOURS: readonly ClipTokenizerFlavour[] = ['transformers-v5', 'transformers-v4-slow'];

export interface ClipTokenizerOptions {
  /** Default 'transformers-v5'. */
  flavour?: ClipTokenizerFlavour;
}

/** The slow tokenizer reads at most 49152 - 256 - 2 merges; CLIP's merges.txt holds exactly that many. */
const MAX_MERGES = 49152 - 256 - 2;
const END_OF_WORD = '</w>';
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
  readonly flavour: ClipTokenizerFlavour;
  private readonly vocab: Map<string, number>;
  private readonly ranks = new Map<string, number>();
  private readonly specialIds = new Map<string, number>();
  /** Special tokens matched in the raw text: all four for v4; for v5 all but bos. */
  private readonly rawSpecials: string[];
  /** v5 only: special tokens matched after normalisation (bos). */
  private readonly normalisedSpecials: string[];
  private readonly bpeCache = new Map<string, number[]>();
  private readonly byteChars = byteToUnicode();

  constructor(files: ClipTokenizerFiles, options: ClipTokenizerOptions = {}) {
    this.flavour = checkFlavour(options.flavour);
    this.vocab = new Map(Object.entries(files.vocab));
    const merges = files.merges.slice(0, MAX_MERGES);
    // A repeated merge keeps its last rank, as both Python's dict() and the Rust map do.
    merges.forEach((m, i) => this.ranks.set(m.trim().split(/\s+/).join(' '), i));
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
    const longestFirst = (tokens: string[]) => [...new Set(tokens)].sort((a, b) => b.length - a.length);
    if (this.flavour === 'transformers-v5') {
      // transformers 5 registers bos as a normalised added token and eos/unk/pad as raw ones.
      this.rawSpecials = longestFirst([eos, unk, pad]);
      this.normalisedSpecials = longestFirst([bos]);
    } else {
      this.rawSpecials = longestFirst([bos, eos, unk, pad]);
      this.normalisedSpecials = [];
    }
    this.maxLength = files.maxLength ?? 77;
  }

  /**
   * Loads a diffusers `tokenizer/` folder: vocab.json + merges.txt (or tokenizer.json), and the special
   * tokens and model_max_length from special_tokens_map.json / tokenizer_config.json when present.
   * `options.flavour` picks the transformers version to reproduce (default 'transformers-v5').
   */
  static async fromFolder(tokenizerDir: string, options: ClipTokenizerOptions = {}): Promise<ClipTokenizer> {
    checkFlavour(options.flavour);
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
      }, options);
    } catch (e) {
      throw new Error(`${(e as Error).message} (folder ${tokenizerDir})`, { cause: e });
    }
  }

  /** The id of a vocabulary entry such as ",</w>", or undefined. */
  tokenId(token: string): number | undefined {
    return this.vocab.get(token);
  }

  /** Token ids of `text` without bos/eos and without truncation. */
  encode(text: string): number[] {
    return this.flavour === 'transformers-v5' ? this.encodeV5(text) : this.encodeV4Slow(text);
  }

  /** The `maxLength` ids diffusers feeds the text encoder: bos, the first maxLength-2 tokens, eos, padding. */
  pipelineIds(text: string): number[] {
    const body = this.encode(text).slice(0, this.maxLength - 2);
    const ids = [this.bosId, ...body, this.eosId];
    while (ids.length < this.maxLength) ids.push(this.padId);
    return ids;
  }

  private encodeV5(text: string): number[] {
    const ids: number[] = [];
    for (const raw of splitOnSpecials(text, this.rawSpecials)) {
      if (raw.special) {
        ids.push(this.specialIds.get(raw.text) as number);
        continue;
      }
      for (const piece of splitOnSpecials(normaliseV5(raw.text), this.normalisedSpecials)) {
        if (piece.special) {
          ids.push(this.specialIds.get(piece.text) as number);
          continue;
        }
        for (const word of preTokenizeV5(piece.text)) ids.push(...this.bpeIds(word));
      }
    }
    return ids;
  }

  private encodeV4Slow(text: string): number[] {
    const ids: number[] = [];
    for (const piece of splitOnSpecials(text, this.rawSpecials)) {
      if (piece.special) {
        ids.push(this.specialIds.get(piece.text) as number);
        continue;
      }
      for (const word of preTokenizeV4(piece.text)) {
        // The slow tokenizer's BPE cache is seeded with these two, so a lower-cased one typed in the
        // text still maps to its own id.
        const seeded = word === '<|startoftext|>' || word === '<|endoftext|>' ? this.vocab.get(word) : undefined;
        if (seeded !== undefined) ids.push(seeded);
        else ids.push(...this.bpeIds(word));
      }
    }
    return ids;
  }

  /** BPE ids of one pre-tokenized piece (cached: prompts repeat words). */
  private bpeIds(piece: string): number[] {
    const cached = this.bpeCache.get(piece);
    if (cached) return cached;
    let mapped = '';
    for (const b of Buffer.from(piece, 'utf8')) mapped += this.byteChars[b];
    const ids = this.bpe(mapped).map((sym) => this.vocab.get(sym) ?? this.unkId);
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

export { basicClean } from './clipPreTokenize';

interface Piece {
  text: string;
  special: boolean;
}

/** Cuts `text` around the given special tokens: leftmost match, longest first, case-sensitive. */
function splitOnSpecials(text: string, specials: string[]): Piece[] {
  if (specials.length === 0 || !specials.some((s) => text.includes(s))) return text ? [{ text, special: false }] : [];
  const out: Piece[] = [];
  let start = 0;
  let i = 0;
  while (i < text.length) {
    const hit = specials.find((s) => text.startsWith(s, i));
    if (hit) {
      if (i > start) out.push({ text: text.slice(start, i), special: false });
      out.push({ text: hit, special: true });
      i += hit.length;
      start = i;
    } else {
      i++;
    }
  }
  if (start < text.length) out.push({ text: text.slice(start), special: false });
  return out;
}

function checkFlavour(flavour: unknown): ClipTokenizerFlavour {
  if (flavour === undefined) return 'transformers-v5';
  if (CLIP_TOKENIZER_FLAVOURS.includes(flavour as ClipTokenizerFlavour)) return flavour as ClipTokenizerFlavour;
  throw new Error(`CLIP tokenizer: unknown flavour ${JSON.stringify(flavour)}; use one of ${CLIP_TOKENIZER_FLAVOURS.map((f) => `'${f}'`).join(', ')}`);
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
    throw new Error(`CLIP tokenizer: cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as Record<string, unknown>;
  } catch (e) {
    throw new Error(`CLIP tokenizer: ${file} is not valid JSON (${(e as Error).message}); the file is corrupt, download the model again`, { cause: e });
  }
}

async function readMergesTxt(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : `cannot be read (${(e as Error).message})`;
    throw new Error(`CLIP tokenizer: ${file} ${why}; it must sit next to vocab.json`, { cause: e });
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
