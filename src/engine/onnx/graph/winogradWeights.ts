// Winograd's transformed weights (winogradConv.ts), computed once per model and stored in a file
// the session maps, instead of folded by onnxruntime every time it creates the session. Folding
// took 1.2-1.4 s of each creation of SD v1.5's UNet and VAE decoder (0.7 GB of results each,
// mostly the kernel handing out fresh pages); a stored file is mapped from the page cache.
//
// The file lives in the model's own folder, in `.course-illustrator/`, because onnxruntime reads
// external data only from one folder (the graph's, which for a rewritten graph held in memory is
// session.model_external_initializers_file_folder_path) and refuses paths that leave it, links
// included. So it goes with the model when the model is moved or deleted. A folder that cannot
// be written (a shared, read-only model) makes storeWinogradWeights throw, and the caller folds.

import * as crypto from 'crypto';
import { promises as fs } from 'fs';
import * as path from 'path';
import { onnx } from 'onnx-proto';
import { writeFileAtomic } from '../../image/atomicWrite';
import { DERIVED_FOLDER } from '../../modelFolder/derivedFiles';
import { OnnxGraph } from './onnxGraph';
import { closeAll, externalFiles, FileHandles, fileStamps, readFloats } from './tensorData';
import { StoredWinogradWeight, transformWinogradWeight } from './winogradConv';

/** Changes whenever the stored values or their layout do, so an older file is never used. */
const RECIPE = 'winograd-weights-v1';
/** Offsets on 64 KiB, Windows' mapping granularity (Linux maps on 4 KiB): each weight can be mapped where it is. */
const ALIGN = 64 * 1024;

export interface StoredWeightsFile {
  /** The file, absolute. */
  file: string;
  /** Whether it was made now (else it was found). */
  made: boolean;
  bytes: number;
}

export interface StoreOptions {
  /** The folder external data is read from: the model graph's. */
  folder: string;
  /** The graph's file name, in `folder`. */
  graphFile: string;
  /** The graph file as it is now (its size and time). */
  graphStamp: string;
  /** Told after each weight when the file is made. */
  progress?: (done: number, total: number) => void;
  /** Free space to leave on the model's disk, beyond the file (default 2 GB): the weights are a speed-up, not worth filling it. */
  reserveBytes?: number;
  /**
   * The plan keys (winogradPlanKey) of every plan the engine makes for this graph, asked only when
   * a file of another plan has gone unused for UNUSED_FOR_MS: the files of plans not among them
   * (an older engine's) go then. Without it, only this plan's older files go.
   */
  currentPlans?: () => ReadonlySet<string>;
}

const RESERVE_BYTES = 2e9;
/** A file in use has its time set at most this often (a write to the folder per load is not needed). */
const TOUCH_AFTER_MS = 3600e3;
/**
 * A file of a plan this engine does not make is removed once unused this long: another version
 * of the engine (the team server's, a second editor's) may share the model folder and use it,
 * and removing it would have that one make it again (a minute, 0.9 GB), and then remove ours.
 */
const UNUSED_FOR_MS = 2 * 86400e3;

/**
 * Points each of `stored` (initializers of `g` without data) at its values in one file in
 * `folder/.course-illustrator/`, made from the model's weights if it is not there yet. The file's
 * name is a hash of everything it is made from: the recipe, the graph, the weights' names and
 * shapes, and the size and time of every file they are read from, so a changed model gets a new
 * file; older ones for the same graph and plan are removed, and those of plans no longer made
 * (StoreOptions.currentPlans) once unused for two days (each load marks its file used). Throws when the file can be neither
 * found nor made; `g` is then left half-pointed and must not be used.
 */
export async function storeWinogradWeights(g: OnnxGraph, stored: readonly StoredWinogradWeight[], o: StoreOptions): Promise<StoredWeightsFile> {
  const layout = place(stored);
  const plan = winogradPlanKey(o.graphFile, stored);
  const sources = await fileStamps(o.folder, externalFiles(stored.map((w) => w.source)));
  const whole = hash([RECIPE, o.graphFile, o.graphStamp, ...layout.map((l) => `${l.weight.name}:${l.dims.join('x')}:${l.weight.m}:${l.weight.source.name}`), ...sources]);
  const dir = path.join(o.folder, DERIVED_FOLDER);
  const name = `winograd-${plan}-${whole}.bin`;
  const file = path.join(dir, name);
  const bytes = layout.length ? layout[layout.length - 1].offset + layout[layout.length - 1].length : 0;
  const st = await fs.stat(file).catch(() => undefined);
  const found = !!st && st.isFile() && st.size === bytes;
  const now = Date.now();
  if (!found) {
    await fs.mkdir(dir, { recursive: true });
    await checkFreeSpace(dir, bytes, o.reserveBytes ?? RESERVE_BYTES);
    await writeFileAtomic(file, (fh) => writeWeights(fh, layout, o.folder, o.progress), { overwrite: true, what: 'Winograd weights' });
  } else if (now - st.mtimeMs > TOUCH_AFTER_MS) {
    // Its time says it is in use, to another engine version sharing the folder (removeStale).
    await fs.utimes(file, new Date(now), new Date(now)).catch(() => undefined);
  }
  await removeStale(dir, name, plan, now, o.currentPlans);
  for (const l of layout) {
    const t = g.initializer(l.weight.name);
    if (!t) throw new Error(`the rewritten graph has no initializer ${l.weight.name}`);
    t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    t.externalData = [
      { key: 'location', value: `${DERIVED_FOLDER}/${name}` },
      { key: 'offset', value: String(l.offset) },
      { key: 'length', value: String(l.length) },
    ];
  }
  return { file, made: !found, bytes };
}

/** The part of a stored file's name that says which weights of which graph it holds (its plan). */
export function winogradPlanKey(graphFile: string, stored: readonly StoredWinogradWeight[]): string {
  return hash([RECIPE, graphFile, ...stored.map((w) => `${w.name}:${w.m}`)]);
}

interface Placed {
  weight: StoredWinogradWeight;
  dims: number[];
  offset: number;
  length: number;
}

function place(stored: readonly StoredWinogradWeight[]): Placed[] {
  let offset = 0;
  return stored.map((weight) => {
    const [K, C] = (weight.source.dims ?? []).map(Number);
    const a = weight.m + 2;
    const dims = [a * a, K, C];
    const length = a * a * K * C * 4;
    const placed = { weight, dims, offset, length };
    offset = Math.ceil((offset + length) / ALIGN) * ALIGN;
    return placed;
  });
}

async function writeWeights(fh: fs.FileHandle, layout: readonly Placed[], folder: string, progress?: (done: number, total: number) => void): Promise<void> {
  const handles: FileHandles = new Map();
  try {
    for (const [i, l] of layout.entries()) {
      const [, K, C] = l.dims;
      const u = transformWinogradWeight(await readFloats(l.weight.source, folder, handles), K, C, l.weight.m);
      await fh.write(new Uint8Array(u.buffer, u.byteOffset, u.byteLength), 0, u.byteLength, l.offset);
      progress?.(i + 1, layout.length);
    }
  } finally {
    await closeAll(handles);
  }
}

async function checkFreeSpace(dir: string, bytes: number, reserve: number): Promise<void> {
  // Where statfs is not supported, the write itself reports a full disk.
  const st = await fs.statfs(dir).catch(() => undefined);
  if (!st) return;
  const free = Number(st.bavail) * Number(st.bsize);
  if (free < bytes + reserve) throw new Error(`${(free / 1e9).toFixed(1)} GB free in ${dir}: the Winograd weights (${(bytes / 1e9).toFixed(2)} GB) would leave less than ${(reserve / 1e9).toFixed(1)} GB`);
}

/**
 * Removes the stored files in `dir` other than `keep`: its plan's older ones (made from a model
 * file since changed), and those of no current plan once unused for UNUSED_FOR_MS. A file that
 * cannot be removed (mapped by a session on Windows) goes at a later load.
 */
async function removeStale(dir: string, keep: string, plan: string, now: number, currentPlans?: () => ReadonlySet<string>): Promise<void> {
  let current: ReadonlySet<string> | undefined | null = null;
  for (const n of await fs.readdir(dir).catch(() => [] as string[])) {
    const m = /^winograd-([0-9a-f]{16})-[0-9a-f]{16}\.bin$/.exec(n);
    if (!m || n === keep) continue;
    const file = path.join(dir, n);
    if (m[1] !== plan) {
      const st = await fs.stat(file).catch(() => undefined);
      if (!st || now - st.mtimeMs < UNUSED_FOR_MS) continue;
      // Worked out only when some file is that old: it rewrites the graph once per plan.
      if (current === null) {
        try {
          current = currentPlans?.();
        } catch {
          // Not knowing the other plans only keeps their files a while longer.
          current = undefined;
        }
      }
      if (!current || current.has(m[1])) continue;
    }
    await fs.rm(file, { force: true }).catch(() => undefined);
  }
}

function hash(parts: string[]): string {
  return crypto.createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 16);
}
