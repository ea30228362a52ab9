// The graph a session runs: the model's own file, or that graph rewritten in memory where a
// rewrite makes it cheaper to run with the same results: attention fused (fuseAttention) and, on
// the CPU, upsamples folded into their convolution (upsampleConv) and 3×3 convolutions by
// Winograd's algorithm (winogradConv). The weights are never copied: the rewritten graph still
// points at the model's external data files, which onnxruntime maps from the model's folder
// (session.model_external_initializers_file_folder_path); the Winograd weights derived from them
// are computed at the first load and stored beside them (winogradWeights.ts), or, where that
// folder cannot be written, folded by onnxruntime at every load.

import { promises as fs } from 'fs';
import * as path from 'path';
import type { ProviderName } from '../../../core/protocol';
import { fuseAttention } from './fuseAttention';
import { splitProjections } from './splitProjection';
import { IN_MEMORY_MAX_BYTES, keepGraph } from './graphCache';
import { OnnxGraph } from './onnxGraph';
import { upsampleConvolutions } from './upsampleConv';
import { StoredWinogradWeight, winogradConvolutions, WinogradOptions } from './winogradConv';
import { storeWinogradWeights, winogradPlanKey } from './winogradWeights';

export interface PreparedGraph {
  /** The rewritten graph, in memory or (weights inline) in a file of the cache (graphCache.ts). */
  bytes: Uint8Array | string;
  /** The folder external data is read from: the original file's. */
  externalDataFolder: string;
  /** What was changed, for logs and the benchmark, e.g. "32 attention blocks as MultiHeadAttention". */
  notes: string[];
  /** The file of Winograd weights the graph reads, if any (winogradWeights.ts). */
  storedWeights?: string;
}

/** Graphs with their weights inline can be large; those are run as they are rather than decoded in JS. */
const MAX_REWRITE_BYTES = 256 * 1024 * 1024;
/** Providers with a com.microsoft MultiHeadAttention kernel. */
const HAS_MHA: ReadonlySet<ProviderName> = new Set(['cpu', 'webgpu', 'cuda', 'dml']);

/**
 * How a graph's convolutions are rewritten on the CPU: which 3×3 ones go by Winograd, and how many
 * bytes of weights the upsamples folded into their convolution may take (upsampleConv).
 */
interface ConvolutionPlan {
  winograd: WinogradOptions;
  upsampleBudgetBytes: number;
  /** Weights of projections cut in two (splitProjection.ts) that onnxruntime may fold into halves at each load. */
  splitBudgetBytes: number;
}
export type ConvolutionPlanName = 'unet' | 'unetAligned' | 'vaeDecoder' | 'vaeDecoderAligned' | 'vaeDecoderLarge';

/**
 * Measured on SD v1.5 (2 cores). The budgets are what the weights folded from the model's own
 * when the session is created may add to it.
 * - UNet: 0.5 GB of Winograd weights, about the most its phase, the engine's peak (4.26 GB, 4.20
 *   with the projections split below), can take under 4.5 GB: the convolutions at 64×64 latents
 *   and two at 32×32 as F(4×4), the other 32×32 ones (up to 1920 channels) and two at 16×16 as
 *   F(2×2) (winogradConv.ts says why). Its upsamples stay: 105 MB a 1280-channel one. Where the latents' sides are multiples of 8 (images of
 *   multiples of 64 pixels, 512×512 among them), all of those convolutions are on whole tiles:
 *   nothing padded or cropped, 0.04-0.05 s of a step's copies. Its GEGLU projections at 64×64
 *   and 32×32 latents (82 MB of weights) cut in two (splitProjection.ts): 0.05-0.1 s of a step's
 *   copies and about 50 MB of its peak; those at 16×16 (52 MB each) would cost more to fold at
 *   every load than their copies take in a picture.
 * - VAE decoder up to 512×512 pixels (64×64 latents): its 3×3 convolutions of 256 channels and
 *   up by Winograd (0.67 GB loaded), and its three upsamples folded (38 MB). Not the 128-channel
 *   ones at full size: their tiles (0.3-0.6 GB each) were the decode's peak, and each decode runs
 *   on a fresh session, so its memory is new pages every time: 1.8 GB of them, 1.25 GB without.
 *   On warm memory Winograd and Conv took the same time there; with the fresh pages the engine's
 *   decode took 9.5-10.2 s with them and 7.5-8.3 without (Intel 2-vCPU VM, bench's warm job;
 *   onnxruntime's own decode 9.2-11 there).
 *   The upsample at 256 channels is the one to fold: Winograd's tiles at 512×512 took 0.6 GB more
 *   and 1 s longer.
 * - The same for latents whose sides are multiples of 4 (512×512 and most sizes asked for), where
 *   every convolution's size is too, so the tiles need no padding at the end nor the outputs
 *   cropping: 0.5 s of a decode's copies.
 * - Larger images: the tiles grow with the pixels. At 768×768 that plan's decode took 5.9 GB, the
 *   UNet 4.6, so there the 512-channel convolutions only, as before (4.5 GB; 26.8 s, 35.7 without).
 */
const PLANS: Record<ConvolutionPlanName, ConvolutionPlan> = {
  unet: { winograd: { budgetBytes: 512e6, minChannels: 320 }, upsampleBudgetBytes: 0, splitBudgetBytes: 100e6 },
  unetAligned: { winograd: { budgetBytes: 512e6, minChannels: 320, aligned: 8 }, upsampleBudgetBytes: 0, splitBudgetBytes: 100e6 },
  vaeDecoder: { winograd: { budgetBytes: 640e6, minChannels: 256 }, upsampleBudgetBytes: 64e6, splitBudgetBytes: 0 },
  vaeDecoderAligned: { winograd: { budgetBytes: 640e6, minChannels: 256, aligned: 4 }, upsampleBudgetBytes: 64e6, splitBudgetBytes: 0 },
  vaeDecoderLarge: { winograd: { budgetBytes: 512e6, minChannels: 320 }, upsampleBudgetBytes: 0, splitBudgetBytes: 0 },
};
/** The VAE decoder's plan for latents of this size (undefined: not known, the large one). */
export function vaeDecoderPlan(latents: { height: number; width: number } | undefined): ConvolutionPlanName {
  if (!latents || latents.height * latents.width > 64 * 64) return 'vaeDecoderLarge';
  return sidesMultipleOf(latents, PLANS.vaeDecoderAligned.winograd.aligned) ? 'vaeDecoderAligned' : 'vaeDecoder';
}
/** The UNet's plan for latents of this size (undefined: not known). */
export function unetPlan(latents: { height: number; width: number } | undefined): ConvolutionPlanName {
  return latents && sidesMultipleOf(latents, PLANS.unetAligned.winograd.aligned) ? 'unetAligned' : 'unet';
}
function sidesMultipleOf(latents: { height: number; width: number }, multiple = 1): boolean {
  return latents.height % multiple === 0 && latents.width % multiple === 0;
}
/** Changes whenever the rewrites do, so a cached graph of older ones is never used. */
const CONVOLUTION_RECIPE = 'winograd-v2;upsample-v1;split-v1';

const cache = new Map<string, { key: string; prepared: PreparedGraph | undefined }>();

export interface RewriteOptions {
  /** Faster convolutions on the CPU, planned for this graph (PLANS): for up to 0.6 GB more memory while the session lives. */
  convolutions?: ConvolutionPlanName;
  /** Told, weight by weight, when the Winograd weights are made (the first load of a model). */
  preparing?: (done: number, total: number) => void;
  /**
   * False: where the Winograd weights cannot be stored, leave the convolutions as they are rather
   * than have onnxruntime fold the weights at each load. For a graph run in parts (low-memory
   * mode), whose sessions are made for every step: folding there would cost seconds a step.
   */
  foldAtLoad?: boolean;
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
  const slot = `${provider}:${planFor(provider, o) ?? ''}:${o.foldAtLoad === false ? 'stored' : ''}:${path.resolve(file)}`;
  const hit = cache.get(slot);
  // A stored weights file deleted since (a cleaned model folder) is made again.
  if (hit?.key === key && (!hit.prepared?.storedWeights || (await fs.stat(hit.prepared.storedWeights).then((s) => s.isFile(), () => false)))) return hit.prepared;
  const prepared = await rewrite(await fs.readFile(file), path.resolve(file), key, provider, o);
  cache.set(slot, { key, prepared });
  return prepared;
}

/**
 * The file's graph as it is, for a caller that cuts it into parts (splitGraph.ts), when it is
 * small enough to hold in memory (its weights external, as large exports have them).
 */
export async function fileGraph(file: string): Promise<PreparedGraph | undefined> {
  const st = await fs.stat(file);
  if (!st.isFile() || st.size > IN_MEMORY_MAX_BYTES) return undefined;
  return { bytes: await fs.readFile(file), externalDataFolder: path.dirname(path.resolve(file)), notes: [] };
}

/**
 * Rewrites a graph for `provider` (also one another rewrite already has in memory: the LoRA
 * branches, lora/loraSet.ts) and says what was done, if anything.
 */
export function rewriteForProvider(g: OnnxGraph, provider: ProviderName, o: RewriteOptions = {}): string[] {
  return rewriteGraph(g, provider, o, 'fold').notes;
}

function rewriteGraph(g: OnnxGraph, provider: ProviderName, o: RewriteOptions, weights: 'fold' | 'stored'): { notes: string[]; stored: StoredWinogradWeight[] } {
  const notes: string[] = [];
  let stored: StoredWinogradWeight[] = [];
  if (HAS_MHA.has(provider)) {
    const fusion = fuseAttention(g);
    if (fusion.fused) notes.push(`${fusion.fused} attention block${fusion.fused === 1 ? '' : 's'} as MultiHeadAttention`);
  }
  const plan = planFor(provider, o);
  if (plan) {
    const up = upsampleConvolutions(g, { budgetBytes: PLANS[plan].upsampleBudgetBytes });
    if (up.rewritten) notes.push(`${up.rewritten} upsample${up.rewritten === 1 ? '' : 's'} folded into ${up.rewritten === 1 ? 'its convolution' : 'their convolutions'} (weights ${gb(up.weightBytes)} GB when loaded)`);
    const w = winogradConvolutions(g, { ...PLANS[plan].winograd, weights });
    const n = w.f4 + w.f2;
    const multiple = PLANS[plan].winograd.aligned;
    const aligned = !w.whole ? ''
      : w.whole === n ? `; sides multiples of ${multiple}, nothing padded or cropped`
      : `; ${w.whole} on whole tiles (sides multiples of ${multiple}), nothing padded or cropped there`;
    if (n) notes.push(`${n} convolution${n === 1 ? '' : 's'} by Winograd (${w.f4} F(4x4), ${w.f2} F(2x2); weights ${gb(w.floatBytes)} -> ${gb(w.transformedBytes)} GB when loaded${aligned})`);
    stored = w.stored;
    // Folded at each load: not where loads are many (a graph run in parts).
    const split = o.foldAtLoad === false ? undefined : splitProjections(g, { budgetBytes: PLANS[plan].splitBudgetBytes });
    if (split?.split) notes.push(`${split.split} projection${split.split === 1 ? '' : 's'} split into two MatMuls each (weights ${gb(split.weightBytes)} GB, halved when loaded)`);
  }
  return { notes, stored };
}

/** These graphs are for onnxruntime's CPU kernels; other providers have their own convolutions. */
function planFor(provider: ProviderName, o: RewriteOptions): ConvolutionPlanName | undefined {
  return provider === 'cpu' ? o.convolutions : undefined;
}

/**
 * The plan keys (winogradPlanKey) of every plan this engine makes for this graph: a file made for
 * another (an older engine's plan, 0.7 GB) would otherwise stay in the model's folder for good.
 * Worked out only when a file is made, the first load of a model or of a new plan.
 */
function currentPlanKeys(bytes: Buffer, graphFile: string, provider: ProviderName): Set<string> {
  const keys = new Set<string>();
  for (const convolutions of Object.keys(PLANS) as ConvolutionPlanName[]) {
    const { stored } = rewriteGraph(new OnnxGraph(bytes), provider, { convolutions }, 'stored');
    if (stored.length) keys.add(winogradPlanKey(graphFile, stored));
  }
  return keys;
}

function gb(bytes: number): string {
  return (bytes / 1e9).toFixed(2);
}

async function rewrite(bytes: Buffer, file: string, key: string, provider: ProviderName, o: RewriteOptions): Promise<PreparedGraph | undefined> {
  // Cheap test first: nothing to fuse or to rewrite (tiny fixtures, a graph with neither).
  const plan = planFor(provider, o);
  if (bytes.indexOf('Softmax') < 0 && !(plan && bytes.indexOf('Conv') >= 0)) return undefined;
  let g: OnnxGraph;
  try {
    g = new OnnxGraph(bytes);
  } catch {
    // Not decodable here: onnxruntime will load the file and say what is wrong with it.
    return undefined;
  }
  const first = rewriteGraph(g, provider, o, 'stored');
  let notes = first.notes;
  const stored = first.stored;
  if (notes.length === 0) return undefined;
  let weights = 'folded';
  let storedWeights: string | undefined;
  if (stored.length) {
    try {
      const s = await storeWinogradWeights(g, stored, {
        folder: path.dirname(file), graphFile: path.basename(file), graphStamp: key, progress: o.preparing,
        currentPlans: () => currentPlanKeys(bytes, path.basename(file), provider),
      });
      weights = `stored:${path.basename(s.file)}`;
      storedWeights = s.file;
      // Said the same whether made now or found: the notes stay with the graph for later sessions.
      notes.push(`Winograd weights mapped from ${path.relative(path.dirname(file), s.file)}`);
    } catch (e) {
      // A folder that cannot be written (read-only, full): the graph computes them, at each load,
      // or, where loads are many, is left without them.
      const why = e instanceof Error ? e.message : String(e);
      g = new OnnxGraph(bytes);
      const fold = o.foldAtLoad !== false;
      notes = rewriteGraph(g, provider, fold ? o : { ...o, convolutions: undefined }, 'fold').notes;
      notes.push(fold ? `Winograd weights folded at each load (${why})` : `no Winograd convolutions: their weights could not be stored (${why})`);
      weights = fold ? 'folded' : 'none';
    }
  }
  return {
    bytes: await keepGraph(g.encode(), `mha-v2${plan ? `;${CONVOLUTION_RECIPE}:${JSON.stringify(PLANS[plan])};${weights};${o.foldAtLoad !== false}` : ''}:${provider}:${file}:${key}`),
    externalDataFolder: path.dirname(file),
    notes,
    storedWeights,
  };
}
