// The 8-bit variants of a UNet graph (opt-in: EngineOptions.unetWeights, --compact, --int8),
// made from the model's own fp32 files the first time, then kept in the cache folder:
// - compact: attention fused as always, the MatMul weights as 8-bit blocks (quantizeMatMul.ts);
//   about 8 s for SD v1.5's UNet, a 280 MB graph whose convolution weights are still read from
//   the model folder;
// - int8: the MatMul weights in 8 bits per column (DynamicQuantizeMatMul, faster than the
//   blocks), and the convolutions on 8-bit activations and weights (quantizeConv.ts), whose
//   activation ranges come from running the float graph on real inputs (`calibration`, given by
//   the pipeline, which knows how to make them); an 830 MB graph holding its 8-bit weights.

import * as crypto from 'crypto';
import { promises as fs } from 'fs';
import * as path from 'path';
import { onnx } from 'onnx-proto';
import { writeFileAtomic } from '../../image/atomicWrite';
import { fuseAttention } from './fuseAttention';
import { cacheRoot } from './graphCache';
import { OnnxGraph } from './onnxGraph';
import { closeAll, externalFiles, FileHandles, fileStamps, readFloats } from './tensorData';
import { addRangeOutputs, quantizeConvolutions, rangeTensors, Ranges } from './quantizeConv';
import { quantizeMatMulWeights } from './quantizeMatMul';

/** Changes whenever the way the variant is made changes, so an old cached file is never used. */
const RECIPE = 'mha+q8-block32-asym-level4-v1';
const INT8_RECIPE = 'conv-int8-perchannel-minmax+matmul-dynamic-percolumn-v2';
const BLOCK = 32;
const ACCURACY_LEVEL = 4;

export interface CompactGraph {
  /** The cached graph file; onnxruntime reads it itself, so its 280 MB never sit in the JS heap. */
  file: string;
  notes: string[];
}

export function compactCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheRoot(env), 'compact');
}

export type CompactLevel = 'compact' | 'int8';

/**
 * Runs a graph (the float UNet with a min and max output per tensor, weights read from the model
 * folder) on calibration inputs and returns each tensor's range over all runs.
 */
export interface Calibration {
  /** Names the inputs used: another calibration is another variant. */
  id: string;
  run(graph: Uint8Array, tensors: readonly string[]): Promise<Ranges>;
}

export interface CompactOptions {
  level?: CompactLevel;
  /** Needed for 'int8'. */
  calibration?: Calibration;
  cacheDir?: string;
}

/** Found or made in this process, per graph file (size and time): the UNet comes back for every image. */
const found = new Map<string, { key: string; graph: CompactGraph | undefined }>();

/** The variant of `file`, from the cache or made now (and cached); undefined when it has nothing to shrink. */
export async function compactGraph(file: string, o: CompactOptions = {}): Promise<CompactGraph | undefined> {
  const cacheDir = o.cacheDir ?? compactCacheDir();
  const level = o.level ?? 'compact';
  if (level === 'int8' && !o.calibration) throw new Error('the int8 variant needs calibration inputs');
  const abs = path.resolve(file);
  // The graph and its weights beside it, as they are now: a changed weights file is another variant.
  let seenKey = `${cacheDir};${level};${o.calibration?.id ?? ''}`;
  for (const name of (await fs.readdir(path.dirname(abs))).sort()) {
    const st = await fs.stat(path.join(path.dirname(abs), name)).catch(() => undefined);
    if (st?.isFile()) seenKey += `;${name}:${st.size}:${st.mtimeMs}`;
  }
  const seen = found.get(`${level}:${abs}`);
  if (seen?.key === seenKey && (!seen.graph || (await fs.stat(seen.graph.file).then((s) => s.isFile(), () => false)))) return seen.graph;
  const graph = await findOrMake(abs, cacheDir, level, o.calibration);
  found.set(`${level}:${abs}`, { key: seenKey, graph });
  return graph;
}

async function findOrMake(abs: string, cacheDir: string, level: CompactLevel, calibration: Calibration | undefined): Promise<CompactGraph | undefined> {
  const bytes = await fs.readFile(abs);
  const g = new OnnxGraph(bytes);
  const files = externalFiles(g.graph.initializer);
  const recipe = level === 'int8' ? `${RECIPE};${INT8_RECIPE};${calibration!.id}` : RECIPE;
  const key = await cacheKey(abs, bytes, files, recipe);
  const cached = path.join(cacheDir, `${key}.onnx`);
  const notesFile = `${cached}.json`;
  try {
    const notes = JSON.parse(await fs.readFile(notesFile, 'utf8')) as string[];
    if ((await fs.stat(cached)).isFile()) return { file: cached, notes };
  } catch {
    // Not made yet (or half-deleted): make it.
  }
  const fused = fuseAttention(g);
  let ranges: Ranges | undefined;
  if (level === 'int8') {
    // The ranges of the float graph as it runs (attention fused: the same numbers, less memory).
    const tensors = rangeTensors(g);
    if (tensors.length) {
      const probe = new OnnxGraph(g.encode());
      addRangeOutputs(probe, tensors);
      ranges = await calibration!.run(probe.encode(), tensors);
    }
  }
  const handles: FileHandles = new Map();
  const read = (t: onnx.ITensorProto) => readFloats(t, path.dirname(abs), handles);
  try {
    const q = await quantizeMatMulWeights(g, { blockSize: BLOCK, accuracyLevel: ACCURACY_LEVEL, perColumn: level === 'int8', read });
    const c = ranges ? await quantizeConvolutions(g, { ranges, read }) : undefined;
    if (q.matmuls === 0 && !c?.convs) return undefined;
    const notes = [
      ...(fused.fused ? [`${fused.fused} attention blocks as MultiHeadAttention`] : []),
      ...(q.matmuls ? [`${q.matmuls} MatMul weights ${level === 'int8' ? 'in 8 bits per column' : 'as 8-bit blocks'} (${mb(q.floatBytes)} -> ${mb(q.quantizedBytes)})`] : []),
      ...(c?.convs ? [`${c.convs} convolutions in 8 bits (${mb(c.floatBytes)} -> ${mb(c.quantizedBytes)})`] : []),
    ];
    const out = g.encode();
    await fs.mkdir(cacheDir, { recursive: true });
    await writeFileAtomic(cached, out, { overwrite: true, what: 'Compact model graph' });
    // The notes last: they mark the graph as complete.
    await writeFileAtomic(notesFile, Buffer.from(JSON.stringify(notes)), { overwrite: true, what: 'Compact model notes' });
    return { file: cached, notes };
  } finally {
    await closeAll(handles);
  }
}

/** The graph's bytes, its weight files' sizes and times, and the recipe. */
async function cacheKey(file: string, graph: Uint8Array, files: string[], recipe: string): Promise<string> {
  const h = crypto.createHash('sha256').update(recipe).update(file).update(graph);
  for (const stamp of await fileStamps(path.dirname(file), files)) h.update(stamp);
  return h.digest('hex').slice(0, 24);
}

function mb(bytes: number): string {
  return `${(bytes / 1e9).toFixed(2)} GB`;
}
