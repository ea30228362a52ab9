// `models import FILE`: an SD 1.x single-file checkpoint (.safetensors, LDM key layout) made
// into a model of the store, on the ONNX structure of an installed SD 1.5 model (the base).
//
//   1. read the checkpoint's header and refuse what is not SD 1.x (detect.ts);
//   2. for every component graph of the base, find which parameter each initializer holds
//      (graphParams.ts) and which checkpoint tensor that is (ldmNames.ts); every initializer must
//      get exactly one tensor of the right shape, and every checkpoint tensor of those
//      components must find a place: anything missing or left over stops here, before a byte
//      is written;
//   3. write <store>/.staging/<id>/: the base's small files copied, each graph with its
//      weights in <component>/weights.pb (fp32 or fp16 as the base has them), tensor by tensor;
//   4. run every component on small inputs (verifyImport.ts), write the manifest, and rename
//      the folder into place. A failure or a cancel deletes the staging folder.

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { InstalledModel } from '../../core/modelsProtocol';
import { readModelFolder } from '../modelFolder/modelFolder';
import { externalDataRefs } from '../modelFolder/externalData';
import { ModelError, isAbort } from '../hub/errors';
import { checkModelId } from '../hub/paths';
import { MANIFEST_NAME, ManifestFile, ModelManifest, acquireLock, hashFile, installedFromManifest, modelDir, readManifest, renameWithRetry, stagingPaths } from '../hub/store';
import { OnnxGraph } from '../onnx/graph/onnxGraph';
import { CheckpointFile } from './checkpointFile';
import { channelMismatch, detectCheckpoint } from './detect';
import { Component, checkpointKeys, componentOfKey, ignoredKey, layoutOf } from './ldmNames';
import { ParamSlot, paramSlots, shapeProblem, unshare } from './graphParams';
import { verifyImportedModel } from './verifyImport';
import { EXTERNAL_FILE, ExternalWriter, encodeAs, transpose } from './writeExternal';
import { onnx } from 'onnx-proto';

export const DEFAULT_BASE = 'sd15-onnx';

export type ImportStage = 'reading' | 'converting' | 'verifying' | 'installing' | 'done';

export interface ImportProgress {
  id: string;
  stage: ImportStage;
  /** The component being written (converting). */
  component?: string;
  tensorsDone: number;
  tensorsTotal: number;
  bytesDone: number;
  bytesTotal: number;
  message?: string;
}

export interface ImportOptions {
  file: string;
  store: string;
  /** A model id in the store or a model folder; default: sd15-onnx in the store. */
  base?: string;
  /** The new model's id; default: from the file name. */
  name?: string;
  signal?: AbortSignal;
  onProgress?: (p: ImportProgress) => void;
}

export interface ImportResult {
  model: InstalledModel;
  /** The base model folder whose graphs were used. */
  base: string;
  checkpoint: { file: string; bytes: number; sha256: string; dtypes: string[] };
  /** Tensors written; checkpoint tensors left alone (EMA, training buffers, unused components). */
  tensors: number;
  ignoredTensors: number;
  /** What the check run did, one line per component. */
  verified: string[];
  elapsedMs: number;
}

interface Plan {
  component: Component;
  graphFile: string;
  graph: OnnxGraph;
  /** Initializer name -> the slot and the checkpoint key that fills it. */
  fill: Map<string, { slot: ParamSlot; key: string }>;
}

const COMPONENTS: [Component, 'textEncoder' | 'unet' | 'vaeDecoder' | 'vaeEncoder'][] = [
  ['text_encoder', 'textEncoder'],
  ['unet', 'unet'],
  ['vae_decoder', 'vaeDecoder'],
  ['vae_encoder', 'vaeEncoder'],
];

function cancelledImport(): ModelError {
  return new ModelError('cancelled', 'Import cancelled; nothing was installed (run the same command to start again).');
}

/** A model id from a file name: "Dreamshaper_8 (pruned).safetensors" -> "dreamshaper_8-pruned". */
export function idFromFile(file: string): string {
  const stem = path.basename(file).replace(/\.safetensors$/i, '');
  const id = stem.toLowerCase().replace(/[^a-z0-9._+-]+/g, '-').replace(/^[^a-z0-9]+/, '').replace(/-+$/, '').replace(/\.\.+/g, '.').slice(0, 80);
  return id || 'imported-checkpoint';
}

async function resolveBase(store: string, base: string | undefined): Promise<{ dir: string; label: string }> {
  const spec = base ?? DEFAULT_BASE;
  const looksLikePath = spec.includes('/') || spec.includes(path.sep) || spec.startsWith('.');
  const dir = looksLikePath ? path.resolve(spec) : modelDir(store, spec);
  try {
    await fs.access(path.join(dir, 'unet', 'model.onnx'));
  } catch {
    if (!base) {
      throw new ModelError('notFound', `No base model: the checkpoint is imported onto the ONNX graphs of an installed SD 1.5 model, and ${DEFAULT_BASE} is not in ${store}. Run \`course-illustrator models pull ${DEFAULT_BASE}\` first, or give --base DIR (an SD 1.5 model folder in the diffusers ONNX layout).`);
    }
    throw new ModelError('notFound', `The base model ${dir} has no unet/model.onnx: give --base an installed model id or an SD 1.5 model folder in the diffusers ONNX layout.`);
  }
  return { dir, label: looksLikePath ? dir : spec };
}

/** Maps every component of the base onto the checkpoint; throws listing what is missing, misshapen or left over. */
function planImport(ckpt: CheckpointFile, graphs: { component: Component; file: string; bytes: Uint8Array }[], ckptChannels: number, baseLabel: string): { plans: Plan[]; ignored: number } {
  const plans: Plan[] = [];
  const missing: string[] = [];
  const misfit: string[] = [];
  const used = new Set<string>();
  for (const { component, file, bytes } of graphs) {
    const graph = new OnnxGraph(bytes);
    unshare(graph);
    const { slots } = paramSlots(graph, `${baseLabel} ${component}`);
    const layout = layoutOf(slots.map((s) => s.param));
    const fill = new Map<string, { slot: ParamSlot; key: string }>();
    for (const slot of slots) {
      const keys = checkpointKeys(component, slot.param, layout);
      const key = keys.find((k) => ckpt.tensors.has(k));
      if (!key) {
        missing.push(keys.length ? `${keys[0]} (${component} ${slot.param})` : `${component} ${slot.param} (no checkpoint name for it)`);
        continue;
      }
      const t = ckpt.tensors.get(key)!;
      if (component === 'unet' && slot.param === 'conv_in.weight' && t.shape[1] !== slot.dims[1]) {
        throw channelMismatch(ckpt.file, ckptChannels, slot.dims[1], baseLabel);
      }
      const problem = shapeProblem(t.shape, slot);
      if (problem) misfit.push(`${key}: ${problem}`);
      used.add(key);
      fill.set(slot.initializer, { slot, key });
    }
    plans.push({ component, graphFile: file, graph, fill });
  }
  const list = (xs: string[]) => xs.slice(0, 5).join('; ') + (xs.length > 5 ? `; and ${xs.length - 5} more` : '');
  if (missing.length) {
    throw new ModelError('badInput', `${ckpt.file} lacks ${missing.length} tensor(s) the model needs: ${list(missing)}. Is it a complete SD 1.x checkpoint (some files leave out the VAE or the text encoder)?`);
  }
  if (misfit.length) {
    throw new ModelError('badInput', `${misfit.length} tensor(s) of ${ckpt.file} do not fit the base model ${baseLabel}: ${list(misfit)}. The checkpoint is not an SD 1.x model of the base's architecture.`);
  }
  const imported = new Set(plans.map((p) => p.component));
  const leftover: string[] = [];
  let ignored = 0;
  for (const key of ckpt.names) {
    if (used.has(key)) continue;
    const c = componentOfKey(key);
    if (ignoredKey(key) || !c || !imported.has(c)) ignored++;
    else leftover.push(key);
  }
  if (leftover.length) {
    throw new ModelError('badInput', `${ckpt.file} has ${leftover.length} tensor(s) the base model ${baseLabel} has no place for: ${list(leftover)}. The checkpoint is not a plain SD 1.x model (a different architecture, or extra modules).`);
  }
  return { plans, ignored };
}

/** Every file of the base but the rewritten graphs, their weights and the manifest (relative paths). */
async function filesToCopy(baseDir: string, skip: Set<string>): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const e of await fs.readdir(path.join(baseDir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!e.name.startsWith('.')) await walk(r);
      } else if (e.isFile() && !skip.has(r) && r !== MANIFEST_NAME) {
        out.push(r);
      }
    }
  };
  await walk('');
  return out.sort();
}

/** Reads the base's bytes of an external constant (kept as it is). */
async function externalBytes(graphDir: string, t: onnx.ITensorProto): Promise<Uint8Array> {
  const get = (k: string) => t.externalData?.find((e) => e.key === k)?.value ?? '';
  const fh = await fs.open(path.join(graphDir, get('location')), 'r');
  try {
    const length = Number(get('length'));
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, Number(get('offset') || 0));
    return buf;
  } finally {
    await fh.close();
  }
}

export async function importCheckpoint(opts: ImportOptions): Promise<ImportResult> {
  const t0 = Date.now();
  const file = path.resolve(opts.file);
  const id = opts.name ?? idFromFile(file);
  checkModelId(id);
  const finalDir = modelDir(opts.store, id);
  try {
    await fs.access(finalDir);
    throw new ModelError('badInput', `A model "${id}" is already installed in ${opts.store}: choose another name (--name), or remove it first (models remove ${id}).`);
  } catch (err) {
    if (err instanceof ModelError) throw err;
  }
  const report = (p: Omit<ImportProgress, 'id'>) => opts.onProgress?.({ id, ...p });
  const ckpt = await CheckpointFile.open(file);
  try {
    const facts = detectCheckpoint(file, ckpt.tensors);
    const base = await resolveBase(opts.store, opts.base);
    const folder = await readModelFolder(base.dir);
    const graphs: { component: Component; file: string; bytes: Uint8Array }[] = [];
    for (const [component, key] of COMPONENTS) {
      const g = folder[key];
      if (g) graphs.push({ component, file: g, bytes: await fs.readFile(g) });
    }
    const { plans, ignored } = planImport(ckpt, graphs, facts.unetInChannels, base.label);
    const tensorsTotal = plans.reduce((s, p) => s + p.fill.size, 0);
    const bytesTotal = plans.reduce((s, p) => s + [...p.fill.values()].reduce((a, f) => a + f.slot.dims.reduce((x, y) => x * y, 1) * (f.slot.dataType === onnx.TensorProto.DataType.FLOAT16 ? 2 : 4), 0), 0);
    report({ stage: 'reading', tensorsDone: 0, tensorsTotal, bytesDone: 0, bytesTotal, message: `Checkpoint: ${ckpt.names.length} tensors (${facts.dtypes.join(', ')}); base: ${base.label}` });

    const sp = stagingPaths(opts.store, id);
    await fs.mkdir(path.dirname(sp.dir), { recursive: true });
    const lock = await acquireLock(sp.lock, id);
    let installed = false;
    try {
      await fs.rm(sp.dir, { recursive: true, force: true }); // left by an import that was killed
      await fs.mkdir(sp.dir, { recursive: true });
      const skip = new Set<string>();
      for (const p of plans) {
        const rel = path.relative(base.dir, p.graphFile).split(path.sep).join('/');
        skip.add(rel);
        for (const ref of externalDataRefs(graphs.find((g) => g.file === p.graphFile)!.bytes)) skip.add(path.posix.join(path.posix.dirname(rel), ref.location));
      }
      const hashes = new Map<string, ManifestFile>();
      for (const rel of await filesToCopy(base.dir, skip)) {
        await fs.mkdir(path.join(sp.dir, path.dirname(rel)), { recursive: true });
        await fs.copyFile(path.join(base.dir, rel), path.join(sp.dir, rel));
      }
      let tensorsDone = 0;
      let bytesDone = 0;
      for (const p of plans) {
        const rel = path.relative(base.dir, p.graphFile).split(path.sep).join('/');
        const outDir = path.join(sp.dir, path.dirname(rel));
        await fs.mkdir(outDir, { recursive: true });
        const writer = await ExternalWriter.create(path.join(outDir, EXTERNAL_FILE));
        try {
          for (const t of p.graph.graph.initializer) {
            if (opts.signal?.aborted) throw cancelledImport();
            const f = p.fill.get(t.name ?? '');
            if (f) {
              let values = await ckpt.floats(f.key);
              if (f.slot.layout === 'transpose') values = transpose(values, f.slot.dims[1], f.slot.dims[0]);
              const bytes = encodeAs(values, f.slot.dataType);
              await writer.put(t, bytes);
              tensorsDone++;
              bytesDone += bytes.byteLength;
              report({ stage: 'converting', component: p.component, tensorsDone, tensorsTotal, bytesDone, bytesTotal });
            } else if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
              await writer.put(t, await externalBytes(path.dirname(p.graphFile), t));
            }
          }
          const w = await writer.close();
          hashes.set(`${path.posix.dirname(rel)}/${EXTERNAL_FILE}`, { path: `${path.posix.dirname(rel)}/${EXTERNAL_FILE}`, size: w.size, sha256: w.sha256 });
        } catch (err) {
          await writer.abandon();
          throw err;
        }
        await fs.writeFile(path.join(sp.dir, rel), p.graph.encode());
      }

      report({ stage: 'verifying', tensorsDone, tensorsTotal, bytesDone, bytesTotal, message: 'Running each component once to check the import…' });
      const verified = await verifyImportedModel(await readModelFolder(sp.dir), opts.signal);
      if (opts.signal?.aborted) throw cancelledImport();

      report({ stage: 'installing', tensorsDone, tensorsTotal, bytesDone, bytesTotal });
      const ckptSha = await hashFile(file, 'sha256', opts.signal);
      const files: ManifestFile[] = [];
      for (const rel of await filesToCopy(sp.dir, new Set())) {
        files.push(hashes.get(rel) ?? { path: rel, size: (await fs.stat(path.join(sp.dir, rel))).size, sha256: await hashFile(path.join(sp.dir, rel)) });
      }
      const baseManifest = await readManifest(base.dir);
      const manifest: ModelManifest & { imported: Record<string, unknown> } = {
        format: 1,
        id,
        title: opts.name ?? `${path.basename(file).replace(/\.safetensors$/i, '')} (checkpoint)`,
        repo: `checkpoint:${path.basename(file)}`,
        revision: 'import',
        commit: ckptSha,
        endpoint: 'file',
        kind: 'pipeline',
        installedAt: new Date().toISOString(),
        files,
        imported: { file, bytes: ckpt.size, sha256: ckptSha, dtypes: facts.dtypes, base: base.dir, baseRepo: baseManifest?.repo, baseCommit: baseManifest?.commit },
      };
      await fs.writeFile(path.join(sp.dir, MANIFEST_NAME), JSON.stringify(manifest, null, 2) + '\n');
      await renameWithRetry(sp.dir, finalDir);
      installed = true;
      report({ stage: 'done', tensorsDone, tensorsTotal, bytesDone, bytesTotal });
      return {
        model: installedFromManifest(manifest, finalDir),
        base: base.dir,
        checkpoint: { file, bytes: ckpt.size, sha256: ckptSha, dtypes: facts.dtypes },
        tensors: tensorsDone,
        ignoredTensors: ignored,
        verified,
        elapsedMs: Date.now() - t0,
      };
    } catch (err) {
      if (err instanceof ModelError && err.code === 'cancelled') throw cancelledImport();
      if (isAbort(err, opts.signal)) throw cancelledImport();
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') throw new ModelError('diskFull', `The disk is full while writing ${sp.dir}: free some space or choose another model store; nothing was installed.`);
      throw err;
    } finally {
      if (!installed) await fs.rm(sp.dir, { recursive: true, force: true }).catch(() => undefined);
      await lock.release();
    }
  } finally {
    await ckpt.close();
  }
}
