// AUTOMATIC1111's 75-token windows (modules/sd_hijack_clip.py, tokenize_line): a prompt longer than
// one CLIP window is cut into windows of 75 tokens that are encoded separately and concatenated,
// never silently truncated. Each window is 77 ids with its own bos/eos.
//
// Kept from A1111: each emphasis run is tokenized on its own; "BREAK" closes the window; when a window
// fills up and a comma lies within the last 20 tokens, the words after that comma move to the next
// window; weights are 1.0 on bos, eos and padding.
// Layout: bos, tokens, eos, then the tokenizer's pad id, which is exactly what diffusers feeds for a
// prompt of up to 75 tokens. A1111 pads with eos instead, which is the same ids for SD 1.x
// (pad = eos) and, after its SD 2 pad fix-up, the same ids for SD 2 as well.

import type { ClipTokenizer } from '../tokenizer/clipTokenizer';
import { parsePromptAttention } from '../../core/emphasis';

export interface PromptChunk {
  /** 77 ids (bos, up to 75 tokens, eos, padding). */
  ids: number[];
  /** One attention multiplier per id. */
  weights: number[];
}

export interface PromptChunks {
  chunks: PromptChunk[];
  /** Prompt tokens, without bos/eos/padding, over all windows. */
  tokenCount: number;
}

const WINDOW = 75;
/** A1111's default "comma_padding_backtrack". */
const COMMA_BACKTRACK = 20;

export function buildPromptChunks(tok: ClipTokenizer, text: string, opts: { weighting: boolean }): PromptChunks {
  const parsed = opts.weighting ? parsePromptAttention(text) : [{ text, weight: 1 }];
  const comma = tok.tokenId(',</w>');
  const chunks: PromptChunk[] = [];
  let tokens: number[] = [];
  let weights: number[] = [];
  let lastComma = -1;
  let tokenCount = 0;

  const closeWindow = () => {
    tokenCount += tokens.length;
    const ids = [tok.bosId, ...tokens, tok.eosId];
    const w = [1, ...weights, 1];
    while (ids.length < WINDOW + 2) {
      ids.push(tok.padId);
      w.push(1);
    }
    chunks.push({ ids, weights: w });
    tokens = [];
    weights = [];
    lastComma = -1;
  };

  for (const part of parsed) {
    if (opts.weighting && part.text === 'BREAK' && part.weight === -1) {
      closeWindow();
      continue;
    }
    for (const id of tok.encode(part.text)) {
      if (id === comma) {
        lastComma = tokens.length;
      } else if (tokens.length === WINDOW && lastComma !== -1 && tokens.length - lastComma <= COMMA_BACKTRACK) {
        const cut = lastComma + 1;
        const movedTokens = tokens.slice(cut);
        const movedWeights = weights.slice(cut);
        tokens = tokens.slice(0, cut);
        weights = weights.slice(0, cut);
        closeWindow();
        tokens = movedTokens;
        weights = movedWeights;
      }
      if (tokens.length === WINDOW) closeWindow();
      tokens.push(id);
      weights.push(part.weight);
    }
  }
  if (tokens.length > 0 || chunks.length === 0) closeWindow();
  return { chunks, tokenCount };
}
