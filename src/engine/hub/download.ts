// Pulls a model from the hub into the store, boringly:
// - every file streams to its part file (<staging>/.parts/<id>/<file>); after an interruption (or
//   a restart of the process) the same pull sends `Range: bytes=<have>-` and appends, never
//   refetching bytes (fileFetcher.ts);
// - every file is verified before it counts: sha256 against the hub's LFS oid for weights, git
//   blob sha1 (and size) for small files; a mismatch deletes the file and fetches it once more,
//   a second mismatch is an error (verification.ts, fileFetcher.ts);
// - transient failures (drops, 5xx, stalls, DNS hiccups) retry with exponential backoff, the
//   streak resetting whenever bytes arrived, with a hard cap on attempts (retry.ts);
// - a hub is not trusted: a body past the listed size is cut at once, a trickle below the
//   minimum rate fails as "too slow", file lists are capped (see HubLimits), listed paths must
//   be plain and printable, and no listed name can be a part file's name (bodyToFile.ts,
//   fileSelection.ts);
// - free space is checked first; ENOSPC while writing is a clear error (the .part is kept);
// - the model folder appears in one rename of the staging folder, only once every file is
//   verified and the manifest is written. Any failure leaves the store as it was, plus resumable
//   part files in .staging (staging.ts).

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { InstalledModel } from '../../core/modelsProtocol';
import { formatBytes } from '../../core/format';
import type { PullTarget } from './catalogue';
import { ModelError, cancelled, fileError } from './errors';
import { FetchContext, fetchFile } from './fileFetcher';
import { Wanted, selectFiles } from './fileSelection';
import { PullProgress, PullReporter, earlyProgress } from './pullProgress';
import { DEFAULT_RETRY, RetryPolicy, withRetry } from './retry';
import type { RepoSource } from './source';
import { StagingPaths, checkFreeSpace, openStaging } from './staging';
import { MANIFEST_NAME, ModelSource, acquireLock, installedFromManifest, modelDir, readManifest, stagingPaths } from './store';

export { DEFAULT_RETRY, selectFiles };
export type { PullProgress, RetryPolicy };

export interface PullOptions {
  store: string;
  target: PullTarget;
  /** Where the files come from: the hub (HubClient) or ModelScope (ModelScopeClient). */
  hub: RepoSource;
  /** Files fetched at the same time (default 3). */
  parallel?: number;
  retry?: Partial<RetryPolicy>;
  /** Space to leave free on the disk besides the download (default 100 MB). */
  reserveBytes?: number;
  signal?: AbortSignal;
  onProgress?: (p: PullProgress) => void;
  /** Minimum time between two progress reports about bytes (default 250 ms). */
  progressIntervalMs?: number;
}

export interface PullResult {
  model: InstalledModel;
  alreadyInstalled: boolean;
  downloadedBytes: number;
  resumedBytes: number;
  elapsedMs: number;
}

/** What pullModel settled before taking the lock. */
interface PullContext {
  final: string;
  sp: StagingPaths;
  /** `repo@revision`, for messages. */
  where: string;
  retry: RetryPolicy;
  signal?: AbortSignal;
  t0: number;
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

export async function pullModel(o: PullOptions): Promise<PullResult> {
  const t0 = Date.now();
  const { store, target } = o;
  const signal = o.signal;
  const retry = { ...DEFAULT_RETRY, ...o.retry };
  const final = modelDir(store, target.id);
  const where = `${target.repo}@${target.revision}`;

  const existing = await readManifest(final);
  if (existing) {
    return { model: installedFromManifest({ ...existing, id: target.id }, final), alreadyInstalled: true, downloadedBytes: 0, resumedBytes: 0, elapsedMs: Date.now() - t0 };
  }
  if (await exists(final)) {
    throw new ModelError('badInput', `${final} exists but was not made by a download (no ${MANIFEST_NAME}). Move it away, or use it as it is with "Use Model Folder…".`);
  }

  const sp = stagingPaths(store, target.id);
  try {
    await fs.mkdir(path.dirname(sp.dir), { recursive: true });
  } catch (err) {
    throw fileError(err, path.dirname(sp.dir), store);
  }
  const lock = await acquireLock(sp.lock, target.id).catch((err) => {
    throw err instanceof ModelError ? err : fileError(err, sp.lock, store);
  });
  try {
    return await pullLocked(o, { final, sp, where, retry, signal, t0 });
  } finally {
    await lock.release().catch(() => undefined);
  }
}

async function pullLocked(o: PullOptions, c: PullContext): Promise<PullResult> {
  const { store, target, hub } = o;
  const emit = o.onProgress ?? (() => undefined);
  const { commit, files } = await resolveFiles(o, c, emit);
  const staging = await openStaging(c.sp, store, sourceOf(target, hub, commit), files);
  const onDisk = await staging.bytesOnDisk(files);
  const bytesTotal = files.reduce((s, f) => s + f.size, 0);
  const resumedBytes = [...onDisk.values()].reduce((a, b) => a + b, 0);
  await checkFreeSpace(c.sp.dir, bytesTotal - resumedBytes, o.reserveBytes ?? 100e6, target.title, store);

  const progress = new PullReporter({
    id: target.id,
    emit,
    intervalMs: o.progressIntervalMs ?? 250,
    filesTotal: files.length,
    filesDone: Object.keys(staging.verified).length,
    bytesTotal,
    onDisk,
  });
  progress.report('downloading', true, resumedBytes > 0 ? `Resuming: ${formatBytes(resumedBytes)} of ${formatBytes(bytesTotal)} already here.` : undefined);
  await fetchAll({ hub, repo: target.repo, commit, where: c.where, store, retry: c.retry, staging, progress }, files, o.parallel, c.signal);

  progress.report('installing', true);
  const installed = await staging.install(c.final, files);
  progress.report('done', true);
  return {
    model: installedFromManifest({ ...installed, id: target.id }, c.final),
    alreadyInstalled: false,
    downloadedBytes: progress.downloadedBytes,
    resumedBytes,
    elapsedMs: Date.now() - c.t0,
  };
}

function sourceOf(target: PullTarget, hub: RepoSource, commit: string): ModelSource {
  return {
    format: 1,
    id: target.id,
    title: target.title,
    repo: target.repo,
    revision: target.revision,
    commit,
    endpoint: hub.endpoint,
    source: hub.source,
    kind: target.kind,
    catalogueId: target.catalogueId,
  };
}

/** The commit the revision stands for, and the files of it the target wants. */
async function resolveFiles(o: PullOptions, c: PullContext, emit: (p: PullProgress) => void): Promise<{ commit: string; files: Wanted[] }> {
  const { target, hub } = o;
  const api = { retry: c.retry, signal: c.signal, endpoint: hub.endpoint, notify: (message: string) => emit(earlyProgress(target.id, 'resolving', message)) };
  emit(earlyProgress(target.id, 'resolving', `Resolving ${c.where} on ${hub.endpoint}`));
  const commit = await withRetry(api, 'Resolving the revision', () => hub.resolveRevision(target.repo, target.revision, c.signal));
  emit(earlyProgress(target.id, 'listing'));
  const listed = await withRetry(api, 'Listing files', () => hub.listFiles(target.repo, commit, c.signal));
  return { commit, files: selectFiles(listed, target, c.where, hub.limits.maxFiles) };
}

/**
 * A small pool: `parallel` files at a time (default 3), largest first so the long one starts
 * early. Any fatal error stops the other workers; their .part files stay for the next run.
 */
async function fetchAll(c: Omit<FetchContext, 'signal'>, files: Wanted[], parallel: number | undefined, signal?: AbortSignal): Promise<void> {
  const stop = new AbortController();
  const onOuterAbort = (): void => stop.abort();
  signal?.addEventListener('abort', onOuterAbort, { once: true });
  const ctx: FetchContext = { ...c, signal: stop.signal };
  const queue = files.filter((f) => !c.staging.verified[f.path]).sort((a, b) => b.size - a.size);
  const workers = Math.max(1, Math.min(8, parallel ?? 3));
  let firstError: unknown;
  const worker = async (): Promise<void> => {
    for (let f = queue.shift(); f && !firstError; f = queue.shift()) {
      try {
        await fetchFile(ctx, f);
      } catch (err) {
        firstError ??= err;
        stop.abort();
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(workers, Math.max(1, queue.length)) }, worker));
  } finally {
    signal?.removeEventListener('abort', onOuterAbort);
    await c.staging.saveState();
  }
  if (signal?.aborted) throw cancelled();
  if (firstError) throw firstError;
}
