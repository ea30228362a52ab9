// The graph a session runs: the model's own file, or that graph rewritten in memory where a
// rewrite makes it cheaper to run with the same results: attention fused (fuseAttention) and, on
// the CPU, 3×3 convolutions by Winograd's algorithm (winogradConv). The weights are never
// copied: the rewritten graph still points at the model's external data files, which
// onnxruntime maps from the model's folder (session.model_external_initializers_file_folder_path).

import { promises as fs } from 'fs';
import * as path from 'path';
import type { ProviderName } from '../../../core/protocol';
import { fuseAttention } from './fuseAttention';
import { keepGraph } from './graphCache';
import { OnnxGraph } from './onnxGraph';
import { winogradConvolutions, WinogradOptions } from './winogradConv';

export interface PreparedGraph {
  /** The rewritten graph, in memory or (weights inline) in a file of the cache (graphCache.ts). */
  bytes: Uint8Array | string;
  /** The folder external data is read from: the original file's. */
  externalDataFolder: string;
  /** What was changed, for logs and the benchmark, e.g. "32 attention blocks as MultiHeadAttention". */
  notes: string[];
}

/** Graphs with their weights inline can be large; those are run as they are rather than decoded in JS. */
const MAX_REWRITE_BYTES = 256 * 1024 * 1024;
/** Providers with a com.microsoft MultiHeadAttention kernel. */
const HAS_MHA: ReadonlySet<ProviderName> = new Set(['cpu', 'webgpu', 'cuda', 'dml']);

/** Changes whenever the Winograd rewrite does, so a cached graph of an older one is never used. */
const WINOGRAD_RECIPE = 'winograd-v1';
/**
 * Which convolutions go by Winograd on the CPU. The budget is what their transformed weights,
 * folded from the model's own when the session is created, may add to it: on SD v1.5 that is
 * the UNet's 320- and most 640-channel convolutions and the VAE decoder's 512-channel ones,
 * 0.5 GB each. 320 channels at least: the decoder's 256-channel ones (at 256×256) saved 0.8 s of
 * a warm decode but their tiles took 0.9 GB more, and as the decoder is created for each image,
 * its first run, which maps that memory, lost as much (12.0 s instead of 11.3).
 */
const WINOGRAD: WinogradOptions = { budgetBytes: 512e6, minChannels: 320 };

const cache = new Map<string, { key: string; prepared: PreparedGraph | undefined }>();

export interface RewriteOptions {
  /** 3×3 convolutions by Winograd on the CPU: faster, for up to WINOGRAD.budgetBytes more memory while the session lives. */
  winograd?: boolean;
}

/**
 * The rewritten graph for `file` on `provider`, or undefined when nothing applies (then the file
 * is loaded as it is). Kept per file, size and modification time: a session released between
 * stages comes back without decoding the graph again.
 */
export async function prepareGraph(file: string, provider: ProviderName, o: RewriteOptions = {}): Promise<PreparedGraph | undefined> {
  if (!HAS_MHA.has(provider)) return undefined;
  const st = await fs.stat(file);
  if (!st.isFile() || st.size > MAX_REWRITE_BYTES) return undefined;
  const key = `${st.size}:${st.mtimeMs}`;
  const slot = `${provider}:${winogradOn(provider, o)}:${path.resolve(file)}`;
  const hit = cache.get(slot);
  if (hit?.key === key) return hit.prepared;
  const prepared = await rewrite(await fs.readFile(file), path.resolve(file), key, provider, o);
  cache.set(slot, { key, prepared });
  return prepared;
}

/**
 * Rewrites a graph for `provider` (also one another rewrite already has in memory: the LoRA
 * branches, lora/loraSet.ts) and says what was done, if anything.
 */
export function rewriteForProvider(g: OnnxGraph, provider: ProviderName, o: RewriteOptions = {}): string[] {
  const notes: string[] = [];
  if (HAS_MHA.has(provider)) {
    const fusion = fuseAttention(g);
    if (fusion.fused) notes.push(`${fusion.fused} attention block${fusion.fused === 1 ? '' : 's'} as MultiHeadAttention`);
  }
  if (winogradOn(provider, o)) {
    const w = winogradConvolutions(g, WINOGRAD);
    const n = w.f4 + w.f2;
    if (n) notes.push(`${n} convolution${n === 1 ? '' : 's'} by Winograd (${w.f4} F(4x4), ${w.f2} F(2x2); weights ${gb(w.floatBytes)} -> ${gb(w.transformedBytes)} GB when loaded)`);
  }
  return notes;
}

/** Winograd's graphs are for onnxruntime's CPU kernels; other providers have their own convolutions. */
function winogradOn(provider: ProviderName, o: RewriteOptions): boolean {
  return provider === 'cpu' && o.winograd === true;
}

function gb(bytes: number): string {
  return (bytes / 1e9).toFixed(2);
}

async function rewrite(bytes: Buffer, file: string, key: string, provider: ProviderName, o: RewriteOptions): Promise<PreparedGraph | undefined> {
  // Cheap test first: nothing to fuse or to rewrite (tiny fixtures, a graph with neither).
  if (bytes.indexOf('Softmax') < 0 && !(winogradOn(provider, o) && bytes.indexOf('Conv') >= 0)) return undefined;
  let g: OnnxGraph;
  try {
    g = new OnnxGraph(bytes);
  } catch {
    // Not decodable here: onnxruntime will load the file and say what is wrong with it.
    return undefined;
  }
  const notes = rewriteForProvider(g, provider, o);
  if (notes.length === 0) return undefined;
  return {
    bytes: await keepGraph(g.encode(), `mha-v2${winogradOn(provider, o) ? `;${WINOGRAD_RECIPE}` : ''}:${provider}:${file}:${key}`),
    externalDataFolder: path.dirname(file),
    notes,
  };
}
