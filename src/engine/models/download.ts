// Pulls a model from the hub into the store, boringly:
// - every file streams to its part file (<staging>/.parts/<id>/<file>); after an interruption (or
//   a restart of the process) the same pull sends `Range: bytes=<have>-` and appends, never
//   refetching bytes;
// - every file is verified before it counts: sha256 against the hub's LFS oid for weights, git
//   blob sha1 (and size) for small files; a mismatch deletes the file and fetches it once more,
//   a second mismatch is an error;
// - transient failures (drops, 5xx, stalls, DNS hiccups) retry with exponential backoff, the
//   streak resetting whenever bytes arrived, with a hard cap on attempts;
// - a hub is not trusted: a body past the listed size is cut at once, a trickle below the
//   minimum rate fails as "too slow", file lists are capped (see HubLimits), listed paths must
//   be plain and printable, and no listed name can be a part file's name;
// - free space is checked first; ENOSPC while writing is a clear error (the .part is kept);
// - the model folder appears in one rename of the staging folder, only once every file is
//   verified and the manifest is written. Any failure leaves the store as it was, plus resumable
//   part files in .staging.

import { createHash, Hash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import type { InstalledModel, ModelsPhase, ModelsProgress } from '../../core/modelsProtocol';
import { formatBytes } from '../../core/format';
import type { PullTarget } from './catalogue';
import { ModelError, cancelled, fileError, isAbort, networkError, printable } from './errors';
import { BodyErrors, BodyGuard, BodyLimits, bodyLimits, tooSlowMessage } from './http';
import { DEFAULT_HUB_LIMITS, RepoFile, RepoSource } from './source';
import { checkRelPath, matchesAny, under } from './paths';
import {
  MANIFEST_NAME,
  ModelManifest,
  ModelSource,
  StagingState,
  acquireLock,
  installedFromManifest,
  modelDir,
  readManifest,
  readStagingState,
  renameWithRetry,
  stagingPaths,
} from './store';
import { writeFileAtomic } from '../image/atomicWrite';

/** The staging state and the manifest: replaced in one step, and on disk before anything relies on them. */
const SMALL_STATE_FILE = { overwrite: true, sync: true } as const;

export interface RetryPolicy {
  /** Consecutive failed attempts (without new bytes) before giving up on a file. */
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Hard cap on attempts per file, progress or not. */
  maxAttempts: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 5, baseDelayMs: 1000, maxDelayMs: 30_000, maxAttempts: 60 };

export type PullProgress = Omit<ModelsProgress, 'operationId'>;

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

interface Wanted extends RepoFile {
  identity: string;
}

function identityOf(f: RepoFile): string {
  return `${f.size}:${f.sha256 ?? f.gitOid ?? '-'}`;
}

async function sizeOf(p: string): Promise<number> {
  try {
    return (await fs.stat(p)).size;
  } catch {
    return 0;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

/** The first sentence of a message: retry notices stay short, the final error says it all. */
function brief(message: string): string {
  const m = /^(.*?[.)])\s/.exec(message);
  return m ? m[1] : message;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(cancelled());
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(cancelled());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Bytes/second over the last few seconds, for speed and ETA. */
class Meter {
  private samples: { t: number; bytes: number }[] = [];
  private total = 0;
  constructor(private readonly windowMs = 5000) {}
  add(n: number): void {
    this.total += n;
    const t = Date.now();
    this.samples.push({ t, bytes: this.total });
    while (this.samples.length > 2 && t - this.samples[1].t > this.windowMs) this.samples.shift();
  }
  get bytes(): number {
    return this.total;
  }
  speed(): number {
    if (this.samples.length < 2) return 0;
    const a = this.samples[0];
    const b = this.samples[this.samples.length - 1];
    const dt = (Date.now() - a.t) / 1000;
    return dt > 0.2 ? (b.bytes - a.bytes) / dt : 0;
  }
}

/** Content hashes of one file being written, rebuilt from the .part file on resume. */
class FileHasher {
  sha256: Hash = createHash('sha256');
  gitSha1?: Hash;
  constructor(private readonly file: Wanted) {
    this.reset();
  }
  reset(): void {
    this.sha256 = createHash('sha256');
    if (!this.file.sha256 && this.file.gitOid) {
      this.gitSha1 = createHash('sha1');
      this.gitSha1.update(`blob ${this.file.size}\0`);
    }
  }
  update(chunk: Buffer): void {
    this.sha256.update(chunk);
    this.gitSha1?.update(chunk);
  }
}

function parseContentRange(h: string | undefined): { start: number; total?: number } | undefined {
  const m = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec((h ?? '').trim());
  if (!m) return undefined;
  return { start: Number(m[1]), total: m[3] === '*' ? undefined : Number(m[3]) };
}

async function writeAll(fh: import('node:fs/promises').FileHandle, buf: Buffer): Promise<void> {
  let off = 0;
  try {
    while (off < buf.length) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
  } catch (cause) {
    throw Object.assign(new Error('write failed'), { fromDisk: true, cause });
  }
}

/**
 * Copies a response body to disk. Not `for await`: an async iterator drops chunks still buffered
 * when the connection breaks, and those are exactly the bytes a resume should not fetch again.
 * Here every chunk that arrived is written (in order) before the network error is reported.
 * `written` runs after each chunk is on disk. A BodyGuard cuts the body when it stalls, trickles
 * or runs past `limits.maxBytes`; a chunk past that limit is never written.
 */
function streamToFile(body: Readable, limits: BodyLimits, errors: BodyErrors, write: (b: Buffer) => Promise<void>, written: (b: Buffer) => void): Promise<void> {
  const HIGH = 8 << 20;
  return new Promise((resolve, reject) => {
    const queue: Buffer[] = [];
    let queued = 0;
    let writing = false;
    let ended = false;
    let netError: unknown;
    let settled = false;
    // Destroying the body can surface as ECONNRESET or a bare 'close' before the guard's error,
    // and a stall must still be reported as a stall (a trickle as too slow...): `guard.cut` wins.
    const guard = new BodyGuard(body, limits, errors);
    const finish = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      guard.stop();
      if (err) reject(err);
      else resolve();
    };
    const pump = async (): Promise<void> => {
      if (writing) return;
      writing = true;
      try {
        while (queue.length) {
          const buf = queue.shift() as Buffer;
          queued -= buf.length;
          await write(buf);
          written(buf);
          if (queued < HIGH / 2 && body.isPaused() && !ended) body.resume();
        }
      } catch (err) {
        body.destroy();
        finish(err);
        return;
      } finally {
        writing = false;
      }
      if (ended) finish(netError);
    };
    body.on('data', (chunk: Buffer) => {
      if (!guard.accept(chunk.length)) return;
      queue.push(chunk);
      queued += chunk.length;
      if (queued > HIGH) body.pause();
      void pump();
    });
    const end = (err?: unknown): void => {
      if (ended) return;
      ended = true;
      guard.stop();
      netError = guard.cut ?? err;
      if (!writing) void pump();
    };
    body.once('end', () => end());
    body.once('error', (err) => end(err));
    // A body closed without 'end' is short; the size check after this reports it as truncated.
    body.once('close', () => end());
    if (body.destroyed) end(body.errored ?? undefined);
  });
}

/** What a file's body is cut with: silent (stalled), a trickle (too slow), or past its size. */
function bodyErrors(f: RepoFile, host: string, limits: BodyLimits): BodyErrors {
  return {
    stalled: () => new ModelError('stalled', `No data from ${host} for ${limits.stallMs / 1000} s while downloading ${f.path} (stalled).`, true),
    tooSlow: (bytes, ms) =>
      Object.assign(
        new ModelError(
          'stalled',
          `${tooSlowMessage(host, bytes, ms, limits.minBytesPerSecond)}, while downloading ${f.path}. ` +
            'Check your connection, or use a mirror closer to you (HF_ENDPOINT / courseIllustrator.hubEndpoint).',
          true,
        ),
        { tooSlow: true },
      ),
    tooLong: () =>
      new ModelError('hashMismatch', `${host} kept sending ${f.path} past its listed size (${f.size} bytes); stopped reading it.`),
  };
}

/**
 * Refuses a file list that would write one file twice: the same path listed twice, two paths
 * that are one file on a case-insensitive disk (Windows, macOS), or a file that is also a folder.
 */
function checkCollisions(files: RepoFile[], where: string): void {
  const seen = new Map<string, string>();
  for (const f of files) {
    const key = f.path.toLowerCase();
    const other = seen.get(key);
    if (other !== undefined) {
      throw new ModelError('http', `The file list of ${where} names one file twice ("${other}" and "${f.path}"); refusing it, as one would overwrite the other.`);
    }
    seen.set(key, f.path);
  }
  for (const f of files) {
    const parts = f.path.toLowerCase().split('/');
    for (let i = 1; i < parts.length; i++) {
      const folder = seen.get(parts.slice(0, i).join('/'));
      if (folder !== undefined) throw new ModelError('http', `The file list of ${where} has "${folder}" both as a file and as the folder of "${f.path}"; refusing it.`);
    }
  }
}

/**
 * Selects the repo files a target wants (at most `maxFiles`); errors name what is missing and
 * where to fix it. Every listed path must be plain and printable, the unwanted ones included:
 * a list with a hostile name in it is not trusted for the others either.
 */
export function selectFiles(all: RepoFile[], target: PullTarget, where: string, maxFiles = DEFAULT_HUB_LIMITS.maxFiles): Wanted[] {
  for (const f of all) checkRelPath(f.path, where);
  const byPath = new Map(all.map((f) => [f.path, f]));
  const missing = target.require.filter((p) => !byPath.has(p));
  if (missing.length) {
    throw new ModelError(
      'notFound',
      `${where} lacks ${missing.join(', ')}. The repo layout is not what ${target.catalogueId ? `the catalogue entry "${target.catalogueId}"` : 'was asked for'} expects` +
        `${target.catalogueId ? ' (fix src/engine/models/catalogue.json, or pull the repo by name with --include)' : ''}.`,
    );
  }
  const chosen = all.filter(
    (f) => f.path !== MANIFEST_NAME && (target.require.includes(f.path) || (matchesAny(f.path, target.include) && !matchesAny(f.path, target.exclude))),
  );
  if (chosen.length === 0) {
    throw new ModelError('notFound', `No file of ${where} matches ${target.include.join(', ')}${target.exclude.length ? ` (excluding ${target.exclude.join(', ')})` : ''}.`);
  }
  if (chosen.length > maxFiles) {
    throw new ModelError(
      'http',
      `${where} has ${chosen.length} files to download, more than the ${maxFiles} a model may have; refusing it. ` +
        (target.catalogueId ? 'The repo is not what the catalogue expects.' : 'Pick the files you need with --include.'),
    );
  }
  checkCollisions(chosen, where);
  return chosen.map((f) => ({ ...f, identity: identityOf(f) }));
}

/** Deletes everything below `dir` that is not one of the `keep` paths (folders emptied go too). */
async function pruneTree(dir: string, keep: Set<string>): Promise<void> {
  const walk = async (rel: string): Promise<boolean> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true });
    } catch {
      return false;
    }
    let kept = false;
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (await walk(r)) kept = true;
        else await fs.rm(path.join(dir, r), { recursive: true, force: true });
      } else if (keep.has(r) && e.isFile()) {
        kept = true;
      } else {
        await fs.rm(path.join(dir, r), { force: true });
      }
    }
    return kept;
  };
  await walk('');
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

async function pullLocked(
  o: PullOptions,
  c: { final: string; sp: ReturnType<typeof stagingPaths>; where: string; retry: RetryPolicy; signal?: AbortSignal; t0: number },
): Promise<PullResult> {
  const { store, target, hub } = o;
  const { sp, where, retry, signal } = c;
  const emit = o.onProgress ?? (() => undefined);
  const interval = o.progressIntervalMs ?? 250;

  // Small API calls retry too: a DNS hiccup on the first request should not end the pull.
  const withRetry = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const e = isAbort(err, signal) ? cancelled() : err instanceof ModelError ? err : networkError(err, new URL(hub.endpoint).host);
        // Offline is usually not a hiccup: say so after a couple of quick tries.
        const limit = e.code === 'offline' ? Math.min(2, retry.retries) : retry.retries;
        if (!e.retryable || attempt > limit) throw e;
        const delay = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
        emit({ id: target.id, phase: 'resolving', filesDone: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0, bytesPerSecond: 0, etaSeconds: -1, message: `${what}: ${brief(e.message)} Retrying in ${(delay / 1000).toFixed(1)} s.` });
        await sleep(delay, signal);
      }
    }
  };

  emit({ id: target.id, phase: 'resolving', filesDone: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0, bytesPerSecond: 0, etaSeconds: -1, message: `Resolving ${where} on ${hub.endpoint}` });
  const commit = await withRetry('Resolving the revision', () => hub.resolveRevision(target.repo, target.revision, signal));
  emit({ id: target.id, phase: 'listing', filesDone: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0, bytesPerSecond: 0, etaSeconds: -1 });
  const listed = await withRetry('Listing files', () => hub.listFiles(target.repo, commit, signal));
  const files = selectFiles(listed, target, where, hub.limits.maxFiles);
  const partOf = (f: RepoFile): string => under(sp.parts, f.path);

  // Carry over what an earlier run verified, as long as the hub still describes the same file.
  const prev = await readStagingState(sp.state);
  const sameSource = prev && prev.repo === target.repo;
  if (!sameSource) {
    await fs.rm(sp.dir, { recursive: true, force: true });
    await fs.rm(sp.parts, { recursive: true, force: true });
  }
  await fs.mkdir(sp.dir, { recursive: true });
  await fs.mkdir(sp.parts, { recursive: true });
  // Anything else there (an older layout, files no longer wanted) goes first.
  const wantedPaths = new Set(files.map((f) => f.path));
  await pruneTree(sp.dir, wantedPaths);
  await pruneTree(sp.parts, wantedPaths);
  const verified: StagingState['verified'] = {};
  for (const f of files) {
    const v = sameSource ? prev.verified[f.path] : undefined;
    const dest = under(sp.dir, f.path);
    const prevFile = sameSource ? prev.files.find((p) => p.path === f.path) : undefined;
    const destSize = await sizeOf(dest);
    if (v && v.identity === f.identity && destSize === f.size) {
      verified[f.path] = v;
    } else if (sameSource && destSize === f.size && (!prevFile || identityOf(prevFile) === f.identity)) {
      // Renamed into place just before a crash, state not saved: check it again as a complete part.
      await fs.rm(partOf(f), { force: true });
      await fs.mkdir(path.dirname(partOf(f)), { recursive: true });
      await fs.rename(dest, partOf(f)).catch(() => fs.rm(dest, { force: true }));
    } else {
      await fs.rm(dest, { force: true });
    }
    if (prevFile && identityOf(prevFile) !== f.identity) await fs.rm(partOf(f), { force: true });
  }
  const source: ModelSource = {
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
  const state: StagingState = {
    ...source,
    files: files.map(({ path: p, size, sha256, gitOid }) => ({ path: p, size, sha256, gitOid })),
    verified,
  };
  let stateWrite = Promise.resolve();
  const saveState = (): Promise<void> => {
    // Writes are chained so two finishing files never race on the same temp file.
    stateWrite = stateWrite.then(() => writeFileAtomic(sp.state, JSON.stringify(state, null, 1), SMALL_STATE_FILE)).then(() => undefined, () => undefined);
    return stateWrite;
  };
  await writeFileAtomic(sp.state, JSON.stringify(state, null, 1), SMALL_STATE_FILE).catch((err) => {
    throw fileError(err, sp.state, store);
  });

  // What is on disk already.
  const onDisk = new Map<string, number>();
  for (const f of files) {
    if (verified[f.path]) {
      onDisk.set(f.path, f.size);
      continue;
    }
    const part = partOf(f);
    let have = await sizeOf(part);
    if (have > f.size) {
      await fs.rm(part, { force: true });
      have = 0;
    }
    onDisk.set(f.path, have);
  }
  const bytesTotal = files.reduce((s, f) => s + f.size, 0);
  const resumedBytes = [...onDisk.values()].reduce((a, b) => a + b, 0);
  const needed = bytesTotal - resumedBytes;

  // Free space first: failing after 3 GB is worse than failing now.
  const reserve = o.reserveBytes ?? 100e6;
  try {
    const st = await fs.statfs(sp.dir);
    const free = Number(st.bavail) * Number(st.bsize);
    if (free < needed + reserve) {
      throw new ModelError(
        'diskFull',
        `Not enough disk space for ${target.title}: ${formatBytes(needed)} still to download (plus ${formatBytes(reserve)} to spare), ${formatBytes(free)} free in ${store}. ` +
          'Free some space or choose another model store (setting courseIllustrator.modelStore, or $COURSE_ILLUSTRATOR_MODELS for the CLI).',
      );
    }
  } catch (err) {
    if (err instanceof ModelError) throw err;
    // statfs unsupported here: the write itself reports ENOSPC clearly.
  }

  // Progress bookkeeping.
  const meter = new Meter();
  let filesDone = Object.keys(verified).length;
  let lastEmit = 0;
  let currentFile: string | undefined;
  const bytesDone = (): number => {
    let s = 0;
    for (const v of onDisk.values()) s += v;
    return s;
  };
  const report = (phase: ModelsPhase, force: boolean, message?: string): void => {
    const now = Date.now();
    if (!force && now - lastEmit < interval) return;
    lastEmit = now;
    const done = bytesDone();
    const speed = meter.speed();
    emit({
      id: target.id,
      phase,
      file: currentFile,
      filesDone,
      filesTotal: files.length,
      bytesDone: done,
      bytesTotal,
      bytesPerSecond: Math.round(speed),
      etaSeconds: speed > 0 ? Math.round((bytesTotal - done) / speed) : -1,
      message,
    });
  };
  report('downloading', true, resumedBytes > 0 ? `Resuming: ${formatBytes(resumedBytes)} of ${formatBytes(bytesTotal)} already here.` : undefined);

  // Any fatal error stops the other workers; their .part files stay for the next run.
  const stop = new AbortController();
  const onOuterAbort = (): void => stop.abort();
  signal?.addEventListener('abort', onOuterAbort, { once: true });
  const inner = stop.signal;
  const sha256s = new Map<string, string>();
  for (const [p, v] of Object.entries(verified)) sha256s.set(p, v.sha256);

  const fetchOne = async (f: Wanted): Promise<void> => {
    const dest = under(sp.dir, f.path);
    const part = partOf(f);
    try {
      await fs.mkdir(path.dirname(dest), { recursive: true });
      await fs.mkdir(path.dirname(part), { recursive: true });
    } catch (err) {
      throw fileError(err, f.path, store);
    }
    let streak = 0;
    let mismatches = 0;
    for (let attempt = 1; ; attempt++) {
      if (inner.aborted) throw cancelled();
      const before = await sizeOf(part);
      try {
        const sha = await fetchAttempt(f, part, dest);
        sha256s.set(f.path, sha);
        return;
      } catch (err) {
        const e = inner.aborted || isAbort(err) ? cancelled() : err instanceof ModelError ? err : networkError(err, new URL(hub.endpoint).host);
        if (e.code === 'cancelled') throw e;
        if (e.code === 'hashMismatch') {
          mismatches++;
          await fs.rm(part, { force: true }); // its bytes are not the listed file's
          onDisk.set(f.path, 0);
          if (mismatches >= 2) {
            throw new ModelError(
              'hashMismatch',
              `${f.path} from ${where} failed verification twice (${e.message}). The download was corrupted on the way or the hub/mirror (${hub.endpoint}) serves a different file; try again later or another mirror.`,
            );
          }
          report('downloading', true, `${f.path}: ${e.message} Deleted it; downloading it once more.`);
          continue;
        }
        if (!e.retryable) throw e;
        // A trickle adds bytes, yet it is no progress: it must not reset the streak forever.
        const progressed = !(e as { tooSlow?: boolean }).tooSlow && (await sizeOf(part)) > before;
        streak = progressed ? 1 : streak + 1;
        if (streak > retry.retries || attempt >= retry.maxAttempts) {
          const kept = await sizeOf(part);
          throw new ModelError(
            e.code,
            `${e.message} Gave up on ${f.path} after ${attempt} attempts.` +
              (kept > 0 ? ` ${formatBytes(kept)} of it are kept: pull again to resume.` : ''),
          );
        }
        const delay = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (streak - 1));
        report('downloading', true, `${f.path}: ${brief(e.message)} Retrying in ${(delay / 1000).toFixed(1)} s (attempt ${attempt + 1}).`);
        await sleep(delay, inner);
      }
    }
  };

  const fetchAttempt = async (f: Wanted, part: string, dest: string): Promise<string> => {
    const hasher = new FileHasher(f);
    let have = await sizeOf(part);
    if (have > f.size) {
      await fs.rm(part, { force: true });
      have = 0;
    }
    onDisk.set(f.path, have);
    if (have > 0) {
      currentFile = f.path;
      report('downloading', true, `${f.path}: checking the ${formatBytes(have)} already downloaded`);
      const prefix = await hashInto(part, hasher, inner);
      if (prefix !== have) {
        have = prefix; // the file changed under us; count what was hashed
      }
    }
    if (have < f.size || f.size === 0) {
      await download(f, part, have, hasher);
    }
    const got = await sizeOf(part);
    if (got < f.size) throw new ModelError('truncated', `${f.path}: the connection closed after ${formatBytes(got)} of ${formatBytes(f.size)}.`, true);
    if (got > f.size) {
      await fs.rm(part, { force: true });
      throw new ModelError('hashMismatch', `${f.path} has ${got} bytes, the hub lists ${f.size}.`);
    }
    currentFile = f.path;
    const sha = hasher.sha256.digest('hex');
    if (f.sha256 && sha !== f.sha256) {
      await fs.rm(part, { force: true });
      throw new ModelError('hashMismatch', `sha256 of ${f.path} is ${sha.slice(0, 12)}…, the hub lists ${f.sha256.slice(0, 12)}….`);
    }
    if (hasher.gitSha1) {
      const oid = hasher.gitSha1.digest('hex');
      if (oid !== f.gitOid) {
        await fs.rm(part, { force: true });
        throw new ModelError('hashMismatch', `git id of ${f.path} is ${oid.slice(0, 12)}…, the hub lists ${f.gitOid?.slice(0, 12)}….`);
      }
    }
    try {
      const fh = await fs.open(part, 'r+');
      try {
        await fh.datasync();
      } finally {
        await fh.close();
      }
      await renameWithRetry(part, dest);
    } catch (err) {
      throw fileError(err, f.path, store);
    }
    verified[f.path] = { identity: f.identity, sha256: sha };
    filesDone++;
    onDisk.set(f.path, f.size);
    await saveState();
    report('downloading', true);
    return sha;
  };

  /** Hashes the bytes already in `part`; returns how many were read. */
  const hashInto = async (part: string, hasher: FileHasher, sig: AbortSignal): Promise<number> => {
    let n = 0;
    const stream = createReadStream(part, { highWaterMark: 1 << 20 });
    try {
      for await (const chunk of stream) {
        if (sig.aborted) throw cancelled();
        hasher.update(chunk as Buffer);
        n += (chunk as Buffer).length;
        report('downloading', false); // a heartbeat while a large part is re-read
      }
    } finally {
      stream.destroy();
    }
    return n;
  };

  const download = async (f: Wanted, part: string, have: number, hasher: FileHasher): Promise<void> => {
    currentFile = f.path;
    // Opened before the request: no await may sit between the response and our body listeners,
    // or a connection that breaks at once would take its already-received bytes with it.
    // Append mode; a 200 reply (whole file) truncates first.
    let fh: import('node:fs/promises').FileHandle;
    try {
      fh = await fs.open(part, 'a');
    } catch (err) {
      throw fileError(err, f.path, store);
    }
    try {
      const res = await hub.openFile(target.repo, commit, f.path, have, inner);
      const body = res.body as Readable;
      const host = res.url.host;
      let check: ModelError | undefined;
      const announced = f.sha256 ? hub.announcedSha256?.(res) : undefined;
      let restart = false;
      if (announced && announced !== f.sha256) {
        check = new ModelError('hashMismatch', `the hub announces sha256 ${announced.slice(0, 12)}… for ${f.path}, its file list says ${f.sha256?.slice(0, 12)}….`);
      } else if (res.status === 206) {
        const cr = parseContentRange(res.headers['content-range']);
        if (!cr || cr.start !== have) {
          check = new ModelError('http', `${host} answered a range request for ${f.path} with the wrong range (${printable(String(res.headers['content-range'] ?? 'none').slice(0, 100))}).`, true);
        } else if (cr.total !== undefined && cr.total !== f.size) {
          check = new ModelError('hashMismatch', `${host} says ${f.path} has ${cr.total} bytes, the file list says ${f.size}.`);
        }
      } else {
        // 200: the whole file (the server ignored Range, or we asked from 0).
        restart = have > 0;
        const len = Number(res.headers['content-length']);
        if (res.headers['content-length'] !== undefined && len !== f.size) {
          check = new ModelError('hashMismatch', `${host} sends ${len} bytes for ${f.path}, the file list says ${f.size}.`);
        }
      }
      if (check) {
        body.destroy();
        throw check;
      }
      const before = restart ? fh.truncate(0) : Promise.resolve();
      if (restart) {
        hasher.reset();
        onDisk.set(f.path, 0);
      }
      // The file list says how many bytes may come; one more and the body is cut.
      const limits = bodyLimits(hub.http, restart || have === 0 ? f.size : f.size - have);
      try {
        await streamToFile(
          body,
          limits,
          bodyErrors(f, host, limits),
          async (buf) => {
            await before;
            await writeAll(fh, buf);
          },
          (buf) => {
            hasher.update(buf);
            onDisk.set(f.path, (onDisk.get(f.path) ?? 0) + buf.length);
            meter.add(buf.length);
            report('downloading', false);
          },
        );
        await before;
      } catch (err) {
        if (err instanceof ModelError) throw err;
        if (inner.aborted || isAbort(err)) throw cancelled();
        if ((err as { fromDisk?: boolean }).fromDisk) throw fileError((err as { cause?: unknown }).cause, f.path, store);
        throw networkError(err, host);
      } finally {
        body.destroy();
      }
    } finally {
      await fh.close().catch(() => undefined);
    }
  };

  // A small pool: `parallel` files at a time, largest first so the long one starts early.
  const queue = files.filter((f) => !verified[f.path]).sort((a, b) => b.size - a.size);
  const parallel = Math.max(1, Math.min(8, o.parallel ?? 3));
  let firstError: unknown;
  const worker = async (): Promise<void> => {
    for (let f = queue.shift(); f && !firstError; f = queue.shift()) {
      try {
        await fetchOne(f);
      } catch (err) {
        firstError ??= err;
        stop.abort();
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(parallel, Math.max(1, queue.length)) }, worker));
  } finally {
    signal?.removeEventListener('abort', onOuterAbort);
    await saveState();
  }
  if (signal?.aborted) throw cancelled();
  if (firstError) throw firstError;

  // Every file verified: write the manifest, then make the model appear in one rename.
  report('installing', true);
  const manifest: ModelManifest = {
    ...source,
    installedAt: new Date().toISOString(),
    files: files.map((f) => ({ path: f.path, size: f.size, sha256: sha256s.get(f.path) ?? '', gitOid: f.gitOid })),
  };
  try {
    await writeFileAtomic(path.join(sp.dir, MANIFEST_NAME), JSON.stringify(manifest, null, 1), SMALL_STATE_FILE);
    await renameWithRetry(sp.dir, c.final);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if ((code === 'EEXIST' || code === 'ENOTEMPTY') && (await readManifest(c.final))) {
      // Installed meanwhile by someone else (a copy by hand): keep theirs.
      await fs.rm(sp.dir, { recursive: true, force: true });
    } else {
      throw fileError(err, c.final, store);
    }
  }
  await fs.rm(sp.state, { force: true });
  await fs.rm(sp.parts, { recursive: true, force: true });
  await fs.rmdir(path.dirname(sp.parts)).catch(() => undefined); // kept while other downloads use it
  const installed = (await readManifest(c.final)) ?? manifest;
  report('done', true);
  return {
    model: installedFromManifest({ ...installed, id: target.id }, c.final),
    alreadyInstalled: false,
    downloadedBytes: meter.bytes,
    resumedBytes,
    elapsedMs: Date.now() - c.t0,
  };
}
