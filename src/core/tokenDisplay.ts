// What the prompt box shows under it: a CLIP token counter like A1111's ("31/75", "90/150").
// Emphasis syntax problems come from src/core/emphasis.ts (validateEmphasis).

import type { TokenInfo } from './webviewMessages';

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
