// The graph a session runs: the model's own file, or that graph rewritten in memory where a
// rewrite makes it cheaper to run with the same results (see fuseAttention). The weights are
// never copied: the rewritten graph still points at the model's external data files, which
// onnxruntime maps from the model's folder (session.model_external_initializers_file_folder_path).

import { promises as fs } from 'fs';
import * as path from 'path';
import type { ProviderName } from '../../../core/protocol';
import { fuseAttention } from './fuseAttention';
import { keepGraph } from './graphCache';
import { OnnxGraph } from './onnxGraph';

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

const cache = new Map<string, { key: string; prepared: PreparedGraph | undefined }>();

/**
 * The rewritten graph for `file` on `provider`, or undefined when nothing applies (then the file
 * is loaded as it is). Kept per file, size and modification time: a session released between
 * stages comes back without decoding the graph again.
 */
export async function prepareGraph(file: string, provider: ProviderName): Promise<PreparedGraph | undefined> {
  if (!HAS_MHA.has(provider)) return undefined;
  const st = await fs.stat(file);
  if (!st.isFile() || st.size > MAX_REWRITE_BYTES) return undefined;
  const key = `${st.size}:${st.mtimeMs}`;
  const hit = cache.get(file);
  if (hit?.key === key) return hit.prepared;
  const prepared = await rewrite(await fs.readFile(file), path.resolve(file), key);
  cache.set(file, { key, prepared });
  return prepared;
}

/**
 * Fuses attention in a graph another rewrite already has in memory (the LoRA branches,
 * lora/loraSet.ts), where the provider has the kernel; the note says what was done, if anything.
 */
export function fuseForProvider(g: OnnxGraph, provider: ProviderName): string | undefined {
  if (!HAS_MHA.has(provider)) return undefined;
  const fusion = fuseAttention(g);
  return fusion.fused ? `${fusion.fused} attention block${fusion.fused === 1 ? '' : 's'} as MultiHeadAttention` : undefined;
}

async function rewrite(bytes: Buffer, file: string, key: string): Promise<PreparedGraph | undefined> {
  // Cheap test first: no Softmax, no attention to fuse (VAE encoders, tiny fixtures).
  if (bytes.indexOf('Softmax') < 0) return undefined;
  let g: OnnxGraph;
  try {
    g = new OnnxGraph(bytes);
  } catch {
    // Not decodable here: onnxruntime will load the file and say what is wrong with it.
    return undefined;
  }
  const fusion = fuseAttention(g);
  if (fusion.fused === 0) return undefined;
  return {
    bytes: await keepGraph(g.encode(), `mha-v2:${file}:${key}`),
    externalDataFolder: path.dirname(file),
    notes: [`${fusion.fused} attention block${fusion.fused === 1 ? '' : 's'} as MultiHeadAttention`],
  };
}
