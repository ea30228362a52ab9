// A job's LoRAs applied to a model: each file read and checked, its modules matched to the UNet's
// and the text encoder's nodes, and each graph that any of them changes rewritten with the
// low-rank branches (loraGraph.ts), then attention-fused as prepareGraph would have. The result
// is kept per set (files' content hashes and multipliers, the graphs' files, the provider), so
// the UNet session that is released and re-created around every VAE decode finds its graph
// ready; a different set is a rewrite and new sessions, never a reload of the base weights.

import { promises as fs } from 'fs';
import * as path from 'path';
import type { ProviderName } from '../../core/protocol';
import { EngineError, badInput } from '../errors';
import { keepGraph } from '../onnx/graph/graphCache';
import { OnnxGraph } from '../onnx/graph/onnxGraph';
import { rewriteForProvider } from '../onnx/graph/prepareGraph';
import { LoraComponent, LoraFile, readLoraFile } from './loraFile';
import { BranchPart, addLoraBranches, loraScale } from './loraGraph';
import { addnetHash, loraShortHash } from './loraHash';
import { graphTargets, matchLora } from './loraMapping';
import { SafetensorsError, SafetensorsFile } from './safetensors';

export interface LoraRequest {
  /** Absolute path of a .safetensors file. */
  path: string;
  multiplier: number;
  /** The name the infotext shows: the prompt tag's, else the file name without extension. */
  name: string;
}

export interface AppliedLora extends LoraRequest {
  /** A1111's short hash (loraHash.ts), for `Lora hashes`. */
  shortHash: string;
  /** Modules it changes, over both networks. */
  modules: number;
}

export interface LoraSet {
  key: string;
  /** Rewritten graphs of the components a LoRA changes; the others run as before. */
  graphs: Partial<Record<LoraComponent, { bytes: Uint8Array | string; notes: string[] }>>;
  applied: AppliedLora[];
  /** Keys not used, shapes that do not fit: one line per LoRA. */
  warnings: string[];
  /** Time to read the files and rewrite the graphs (0 when the set was cached). */
  ms: number;
}

/** A graph that must be decoded in JS to get its branches: big inline-weight exports are slow but still work. */
const MAX_GRAPH_BYTES = 2 * 1024 * 1024 * 1024 - 1;
const WARN_KEYS_SHOWN = 5;

interface FileHash {
  stamp: string;
  hash: string;
  short: string;
}
const hashes = new Map<string, FileHash>();
/** The last sets made (a teacher switching between two styles does not pay twice). */
const sets: LoraSet[] = [];
const KEEP_SETS = 2;

export async function loraSet(graphFiles: Record<LoraComponent, string>, provider: ProviderName, requests: LoraRequest[]): Promise<LoraSet> {
  const t0 = performance.now();
  const stamps = await Promise.all(requests.map((r) => stamp(r.path)));
  // The set's key, from hashes remembered per file stamp; a file not hashed yet is read below anyway.
  const known = requests.map((r, i) => hashes.get(r.path)?.stamp === stamps[i] ? hashes.get(r.path) : undefined);
  const graphStamps = await Promise.all(Object.values(graphFiles).map((f) => stamp(f)));
  const keyOf = (h: (FileHash | undefined)[]) =>
    JSON.stringify([provider, graphStamps, Object.values(graphFiles), requests.map((r, i) => [h[i]?.hash, r.multiplier, r.name])]);
  if (known.every(Boolean)) {
    const hit = sets.find((s) => s.key === keyOf(known));
    if (hit) return { ...hit, ms: 0 };
  }

  const loras: { request: LoraRequest; file: LoraFile; short: string }[] = [];
  const fileHashes: FileHash[] = [];
  for (const [i, r] of requests.entries()) {
    let tensors: SafetensorsFile;
    try {
      tensors = await SafetensorsFile.read(r.path);
    } catch (err) {
      throw badInput(err instanceof SafetensorsError ? err.message : `Cannot read the LoRA ${r.path}: ${(err as Error).message}`);
    }
    const full = addnetHash(tensors);
    const h = { stamp: stamps[i], hash: full, short: loraShortHash(tensors, full) };
    hashes.set(r.path, h);
    fileHashes.push(h);
    loras.push({ request: r, file: readLoraFile(tensors), short: h.short });
  }
  const key = keyOf(fileHashes);
  const hit = sets.find((s) => s.key === key);
  if (hit) return { ...hit, ms: 0 };

  const graphs: LoraSet['graphs'] = {};
  const matchedKeys = loras.map(() => new Set<string>());
  const mismatched = loras.map(() => [] as string[]);
  for (const component of Object.keys(graphFiles) as LoraComponent[]) {
    const file = graphFiles[component];
    if (!loras.some((l) => l.file.modules.some((m) => m.component === component || m.component === undefined))) continue;
    const g = await decode(file);
    const targets = graphTargets(g);
    const parts: BranchPart[] = [];
    for (const [i, l] of loras.entries()) {
      const match = matchLora(l.file, component, targets);
      mismatched[i].push(...match.mismatched);
      for (const mm of match.matched) {
        matchedKeys[i].add(mm.lora.key);
        const scale = loraScale(mm.lora, l.request.multiplier);
        parts.push({ ...mm, scale, down: l.file.tensors.floats(mm.lora.down), up: l.file.tensors.floats(mm.lora.up) });
      }
    }
    const stats = addLoraBranches(g, parts);
    if (stats.modules === 0) continue;
    const notes = [`${stats.modules} LoRA branch${stats.modules === 1 ? '' : 'es'} (${(stats.floats * 4 / 1e6).toFixed(1)} MB)`];
    // Attention fused; no Winograd convolutions: the branches already add up to 1.2 GB (the
    // LCM-LoRA), and Winograd's 0.5 GB on top would take the peak past 5 GB.
    notes.push(...rewriteForProvider(g, provider));
    graphs[component] = { bytes: await keepGraph(g.encode(), `lora-v1:${component}:${key}`), notes };
  }

  const warnings: string[] = [];
  const applied: AppliedLora[] = [];
  for (const [i, l] of loras.entries()) {
    const unused = [
      ...l.file.warnings,
      ...l.file.modules.filter((m) => !matchedKeys[i].has(m.key) && !mismatched[i].some((w) => w.startsWith(`${m.key}:`))).map((m) => `${m.key}: no such layer in this model`),
      ...mismatched[i],
    ];
    if (l.file.modules.length > 0 && matchedKeys[i].size === 0) {
      throw new EngineError('badInput',
        `The LoRA ${l.request.path} changes none of this model's layers (${l.file.modules.length} modules, e.g. ${l.file.modules[0].key}): ` +
        `is it a LoRA for Stable Diffusion 1.5? ${unused.slice(0, 2).join('; ')}`);
    }
    if (l.file.modules.length === 0) {
      throw badInput(`${l.request.path} holds no LoRA weights this engine can read (${unused.slice(0, WARN_KEYS_SHOWN).join('; ') || 'no tensors'}).`);
    }
    if (unused.length) {
      const more = unused.length > WARN_KEYS_SHOWN ? `; and ${unused.length - WARN_KEYS_SHOWN} more` : '';
      warnings.push(`LoRA ${l.request.name}: ${unused.length} key${unused.length === 1 ? '' : 's'} not applied: ${unused.slice(0, WARN_KEYS_SHOWN).join('; ')}${more}.`);
    }
    applied.push({ ...l.request, shortHash: l.short, modules: matchedKeys[i].size });
  }
  const set: LoraSet = { key, graphs, applied, warnings, ms: performance.now() - t0 };
  sets.unshift(set);
  sets.length = Math.min(sets.length, KEEP_SETS);
  return set;
}

async function stamp(file: string): Promise<string> {
  try {
    const st = await fs.stat(file);
    return `${st.size}:${st.mtimeMs}`;
  } catch {
    throw badInput(`The LoRA ${file} does not exist. Check the path (--lora FILE, or <lora:NAME> with --lora-dir).`);
  }
}

async function decode(file: string): Promise<OnnxGraph> {
  const st = await fs.stat(file);
  if (st.size > MAX_GRAPH_BYTES) {
    throw new EngineError('modelError', `${file} is ${st.size} bytes with its weights inside; LoRAs need a graph under 2 GB (an export with external data, like the fp32 models the catalogue offers).`);
  }
  try {
    return new OnnxGraph(await fs.readFile(file));
  } catch (err) {
    throw new EngineError('modelError', `${path.basename(file)} could not be read to apply LoRAs (${(err as Error).message}); download the model again.`);
  }
}

/** The infotext's `Lora hashes` value, as A1111 writes it: `name: hash, name: hash`. */
export function loraHashesInfotext(applied: AppliedLora[]): string | undefined {
  if (applied.length === 0) return undefined;
  return applied.map((a) => `${a.name.replace(/[:,]/g, '')}: ${a.shortHash}`).join(', ');
}
