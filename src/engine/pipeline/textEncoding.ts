// Prompt -> text embeddings, as diffusers does for plain prompts and as A1111 does for
// emphasis and for prompts longer than one 75-token window.

import { ClipTokenizer } from '../tokenizer/clipTokenizer';
import { buildPromptChunks } from '../prompt/promptChunks';
import { ModelSession } from '../onnx/session';
import { intTensor, toFloat32, fixedDim } from './tensors';

export interface Embeddings {
  data: Float32Array;
  /** Sequence length: 77 per window. */
  seq: number;
  hidden: number;
}

export interface EncodedPrompt {
  embeddings: Embeddings;
  tokenCount: number;
  windows: number;
}

export interface Chunk {
  ids: number[];
  weights: number[];
}

export function promptChunks(tok: ClipTokenizer, text: string, weighting: boolean): { chunks: Chunk[]; tokenCount: number } {
  return buildPromptChunks(tok, text, { weighting });
}

/** Runs the text encoder on each 77-token window and concatenates along the sequence. */
export async function encodeChunks(session: ModelSession, chunks: Chunk[]): Promise<Embeddings> {
  const idsInput = session.inputs[0];
  const output = session.outputs.find((o) => o.name === 'last_hidden_state') ?? session.outputs[0];
  const parts: Float32Array[] = [];
  let seq = 0;
  let hidden = 0;
  for (const chunk of chunks) {
    const length = fixedDim(idsInput.dims, 1) ?? chunk.ids.length;
    const ids = chunk.ids.slice(0, length);
    const out = await session.run({ [idsInput.name]: intTensor(idsInput.type, ids, [1, ids.length]) });
    const tensor = out[output.name];
    const z = toFloat32(tensor);
    const dims = tensor.dims;
    const tokens = Number(dims[1]);
    hidden = Number(dims[2]);
    parts.push(applyEmphasis(z, chunk.weights, tokens, hidden));
    seq += tokens;
  }
  const data = new Float32Array(seq * hidden);
  let offset = 0;
  for (const p of parts) {
    data.set(p, offset);
    offset += p.length;
  }
  return { data, seq, hidden };
}

/**
 * A1111's "Original" emphasis: scale each token's vector by its weight, then restore the
 * mean of the whole window. Skipped when all weights are 1, so plain prompts stay exactly diffusers'.
 */
export function applyEmphasis(z: Float32Array, weights: number[], tokens: number, hidden: number): Float32Array {
  if (weights.every((w) => w === 1)) return z;
  const originalMean = mean(z);
  const out = new Float32Array(z.length);
  for (let t = 0; t < tokens; t++) {
    const w = weights[t] ?? 1;
    for (let h = 0; h < hidden; h++) out[t * hidden + h] = z[t * hidden + h] * w;
  }
  const ratio = originalMean / mean(out);
  for (let i = 0; i < out.length; i++) out[i] *= ratio;
  return out;
}

function mean(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / a.length;
}

/**
 * Negative and positive prompts may span different numbers of windows; like A1111, the shorter
 * one is extended with the encoding of an empty prompt so both can share one UNet batch.
 */
export function padToSameLength(a: Embeddings, b: Embeddings, empty: Embeddings): [Embeddings, Embeddings] {
  const extend = (e: Embeddings, seq: number): Embeddings => {
    if (e.seq >= seq) return e;
    const data = new Float32Array(seq * e.hidden);
    data.set(e.data);
    for (let off = e.seq * e.hidden; off < data.length; off += empty.data.length) {
      data.set(empty.data.subarray(0, Math.min(empty.data.length, data.length - off)), off);
    }
    return { data, seq, hidden: e.hidden };
  };
  const seq = Math.max(a.seq, b.seq);
  return [extend(a, seq), extend(b, seq)];
}
