// The model store: one folder per model, plus a staging area for downloads in progress.
//
//   <store>/<id>/                          a complete model (appears by one rename, all files verified)
//   <store>/<id>/.course-illustrator-model.json   its manifest: repo, commit, every file's size and sha256
//   <store>/.staging/<id>/                 verified files, under their final names (becomes <store>/<id>)
//   <store>/.staging/.parts/<id>/          files being downloaded, under their repo paths
//   <store>/.staging/<id>.state.json       what the staging folder is for (repo, commit, expected files)
//   <store>/.staging/<id>.lock             pid of the process downloading it
//
// Parts live apart from the verified files so that no name a hub lists ("x.json.part" beside
// "x.json") can be a part's name; ".parts" cannot be a model id (ids start with a letter or digit).
//
// Default store: the extension passes its global storage; the CLI uses $COURSE_ILLUSTRATOR_MODELS
// or ~/.cache/course-illustrator/models ($XDG_CACHE_HOME respected).

import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { InstalledModel, ModelKind, ModelSourceName, ModelsVerifyResult, PartialDownload } from '../../core/modelsProtocol';
import { ModelError, cancelled } from './errors';
import { checkModelId, checkRelPath, under } from './paths';
import { derivedBytes } from '../modelFolder/derivedFiles';

export const MANIFEST_NAME = '.course-illustrator-model.json';
export const STAGING_DIR = '.staging';
const PARTS_DIR = '.parts';

export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
  /** Git blob id from the hub, for files not stored with LFS. */
  gitOid?: string;
}

/** Where a model comes from: written into the staging state while it downloads, then into its manifest. */
export interface ModelSource {
  format: 1;
  id: string;
  title: string;
  repo: string;
  revision: string;
  commit: string;
  /** The hub, mirror or ModelScope site it came from. */
  endpoint: string;
  /** Which kind of site `endpoint` is; absent in manifests written before ModelScope: huggingface. */
  source?: ModelSourceName;
  kind: ModelKind;
  catalogueId?: string;
}

export interface ModelManifest extends ModelSource {
  installedAt: string;
  files: ManifestFile[];
}

export function defaultStoreDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.COURSE_ILLUSTRATOR_MODELS) return path.resolve(env.COURSE_ILLUSTRATOR_MODELS);
  const cache = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'course-illustrator', 'models');
}

export function modelDir(store: string, id: string): string {
  checkModelId(id);
  return path.join(store, id);
}

export function stagingPaths(store: string, id: string): { dir: string; parts: string; state: string; lock: string } {
  checkModelId(id);
  const base = path.join(store, STAGING_DIR);
  return { dir: path.join(base, id), parts: path.join(base, PARTS_DIR, id), state: path.join(base, `${id}.state.json`), lock: path.join(base, `${id}.lock`) };
}

/**
 * fs.rename, tried again a few times on EPERM/EBUSY/EACCES: on Windows a virus scanner or the
 * search indexer briefly holds files that were just written.
 */
export async function renameWithRetry(from: string, to: string, tries = 5): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      await fs.rename(from, to);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (i >= tries || !(code === 'EPERM' || code === 'EBUSY' || code === 'EACCES')) throw err;
      await new Promise((r) => setTimeout(r, 100 * 2 ** i));
    }
  }
}

function parseManifest(text: string, dir: string): ModelManifest | undefined {
  try {
    const m = JSON.parse(text) as ModelManifest;
    if (m.format !== 1 || typeof m.id !== 'string' || !Array.isArray(m.files) || typeof m.repo !== 'string') return undefined;
    for (const f of m.files) {
      if (typeof f.path !== 'string' || typeof f.size !== 'number' || typeof f.sha256 !== 'string') return undefined;
      checkRelPath(f.path, path.join(dir, MANIFEST_NAME));
    }
    return m;
  } catch {
    return undefined;
  }
}

export async function readManifest(dir: string): Promise<ModelManifest | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, MANIFEST_NAME), 'utf8');
  } catch {
    return undefined;
  }
  return parseManifest(text, dir);
}

export function installedFromManifest(m: ModelManifest, dir: string): InstalledModel {
  return {
    id: m.id,
    path: dir,
    title: m.title,
    repo: m.repo,
    revision: m.revision,
    commit: m.commit,
    kind: m.kind,
    bytes: m.files.reduce((s, f) => s + f.size, 0),
    files: m.files.length,
    installedAt: m.installedAt,
    catalogueId: m.catalogueId,
  };
}

/** Models in the store (folders with a readable manifest), sorted by id. */
export async function listInstalled(store: string): Promise<InstalledModel[]> {
  let names: string[];
  try {
    names = await fs.readdir(store);
  } catch {
    return [];
  }
  const out: InstalledModel[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.')) continue;
    const dir = path.join(store, name);
    const m = await readManifest(dir);
    if (!m) continue;
    const prepared = await derivedBytes(dir);
    out.push({ ...installedFromManifest({ ...m, id: name }, dir), ...(prepared > 0 ? { preparedBytes: prepared } : {}) });
  }
  return out;
}

export interface StagingState extends ModelSource {
  files: { path: string; size: number; sha256?: string; gitOid?: string }[];
  /** Files already verified and moved to their final name inside the staging folder. */
  verified: Record<string, { identity: string; sha256: string }>;
}

export async function readStagingState(file: string): Promise<StagingState | undefined> {
  try {
    const s = JSON.parse(await fs.readFile(file, 'utf8')) as StagingState;
    if (s.format !== 1 || !Array.isArray(s.files) || typeof s.verified !== 'object' || s.verified === null) return undefined;
    return s;
  } catch {
    return undefined;
  }
}

async function sizeOf(p: string): Promise<number> {
  try {
    return (await fs.stat(p)).size;
  } catch {
    return 0;
  }
}

/** Downloads that stopped before the end (resumable by pulling the same model again). */
export async function listPartial(store: string): Promise<PartialDownload[]> {
  const base = path.join(store, STAGING_DIR);
  let names: string[];
  try {
    names = await fs.readdir(base);
  } catch {
    return [];
  }
  const out: PartialDownload[] = [];
  for (const name of names.sort()) {
    if (!name.endsWith('.state.json')) continue;
    const s = await readStagingState(path.join(base, name));
    if (!s) continue;
    let sp: ReturnType<typeof stagingPaths>;
    try {
      sp = stagingPaths(store, s.id);
    } catch {
      continue; // a state file with a bad id is not ours to show
    }
    let done = 0;
    for (const f of s.files) {
      try {
        done += s.verified[f.path] ? f.size : Math.min(f.size, await sizeOf(under(sp.parts, f.path)));
      } catch {
        // a bad path in a state file counts as nothing downloaded
      }
    }
    out.push({ id: s.id, repo: s.repo, revision: s.revision, bytesDone: done, bytesTotal: s.files.reduce((a, f) => a + f.size, 0) });
  }
  return out;
}

/** sha256 of a file (hex), reading it in chunks; `onBytes` reports progress. */
export async function hashFile(file: string, algo: 'sha256' | 'sha1' = 'sha256', signal?: AbortSignal, onBytes?: (n: number) => void, prefix?: Buffer): Promise<string> {
  const h = createHash(algo);
  if (prefix) h.update(prefix);
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  for await (const chunk of stream) {
    if (signal?.aborted) {
      stream.destroy();
      throw cancelled();
    }
    h.update(chunk as Buffer);
    onBytes?.((chunk as Buffer).length);
  }
  return h.digest('hex');
}

/** Checks every file of an installed model against its manifest (sizes and sha256). */
export async function verifyModel(
  store: string,
  id: string,
  opts: { signal?: AbortSignal; onProgress?: (file: string, bytesDone: number, bytesTotal: number, filesDone: number, filesTotal: number) => void } = {},
): Promise<ModelsVerifyResult> {
  const dir = modelDir(store, id);
  const m = await readManifest(dir);
  if (!m) {
    try {
      await fs.access(dir);
    } catch {
      throw new ModelError('notFound', `No model "${id}" in ${store}. Run "models list" to see what is installed.`);
    }
    return { id, path: dir, ok: false, files: 0, problems: [`${MANIFEST_NAME} is missing or unreadable: this folder was not made by a download (or its manifest was damaged); pull the model again.`] };
  }
  const problems: string[] = [];
  const total = m.files.reduce((s, f) => s + f.size, 0);
  let done = 0;
  let filesDone = 0;
  for (const f of m.files) {
    const p = under(dir, f.path);
    let size: number;
    try {
      size = (await fs.stat(p)).size;
    } catch {
      problems.push(`${f.path}: missing`);
      done += f.size;
      filesDone++;
      continue;
    }
    if (size !== f.size) {
      problems.push(`${f.path}: ${size} bytes, expected ${f.size}`);
      done += f.size;
      filesDone++;
      continue;
    }
    const base = done;
    const sha = await hashFile(p, 'sha256', opts.signal, (n) => {
      done += n;
      opts.onProgress?.(f.path, done, total, filesDone, m.files.length);
    });
    done = base + f.size;
    if (sha !== f.sha256) problems.push(`${f.path}: content changed (sha256 ${sha.slice(0, 12)}…, expected ${f.sha256.slice(0, 12)}…)`);
    filesDone++;
    opts.onProgress?.(f.path, done, total, filesDone, m.files.length);
  }
  return { id, path: dir, ok: problems.length === 0, files: m.files.length, problems };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid holding a download lock, when that process still runs. */
export async function lockOwner(lockFile: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await fs.readFile(lockFile, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) && pid > 0 && pidAlive(pid) ? pid : undefined;
}

function busy(id: string, pid: number, lockFile: string): ModelError {
  const who = pid === process.pid ? 'this process' : `process ${pid} (another VS Code window or a CLI run)`;
  return new ModelError('busy', `Model "${id}" is being downloaded by ${who}. Wait for it to finish or cancel it; if no download is running, delete ${lockFile}.`);
}

/** Takes the download lock of a model (one download per model per store, across processes). */
export async function acquireLock(lockFile: string, id: string): Promise<{ release(): Promise<void> }> {
  for (let i = 0; i < 3; i++) {
    try {
      const fh = await fs.open(lockFile, 'wx');
      try {
        await fh.writeFile(`${process.pid}\n`);
      } finally {
        await fh.close();
      }
      return { release: () => fs.rm(lockFile, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = await lockOwner(lockFile);
      if (pid !== undefined) throw busy(id, pid, lockFile);
      await fs.rm(lockFile, { force: true }); // left by a process that died
    }
  }
  throw new ModelError('busy', `Cannot take the download lock ${lockFile}; another process keeps taking it.`);
}

/**
 * Removes a model and any partial download of it. The folder first moves out of the way in one
 * rename (so nothing half-removed is ever taken for a model), then is deleted.
 */
export async function removeModel(store: string, id: string): Promise<{ id: string; path: string; removed: boolean }> {
  const dir = modelDir(store, id);
  const staging = stagingPaths(store, id);
  const pid = await lockOwner(staging.lock);
  if (pid !== undefined) throw busy(id, pid, staging.lock);
  let removed = false;
  const trash = path.join(store, STAGING_DIR, `.trash-${id}-${randomBytes(4).toString('hex')}`);
  try {
    await fs.mkdir(path.dirname(trash), { recursive: true });
    await renameWithRetry(dir, trash);
    removed = true;
    await fs.rm(trash, { recursive: true, force: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new ModelError('io', `Cannot remove ${dir}: ${(err as Error).message}`);
  }
  for (const p of [staging.dir, staging.parts, staging.state]) {
    try {
      await fs.access(p);
      removed = true;
      await fs.rm(p, { recursive: true, force: true });
    } catch {
      // nothing there
    }
  }
  return { id, path: dir, removed };
}
