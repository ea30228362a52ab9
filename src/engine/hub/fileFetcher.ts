// Fetches one listed file into the staging folder, verified. Its part file is resumed with
// `Range: bytes=<have>-` and appended to, never refetching bytes; transient failures retry with
// exponential backoff, the streak resetting whenever bytes arrived, with a hard cap on attempts;
// a part that fails verification is deleted and fetched once more, a second failure is final.

import { createReadStream, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { formatBytes } from '../../core/format';
import { bodyErrors, streamToFile, writeAll } from './bodyToFile';
import { ModelError, cancelled, fileError, isAbort, networkError, printable } from './errors';
import type { Wanted } from './fileSelection';
import { OpenResponse, bodyLimits } from './http';
import type { PullReporter } from './pullProgress';
import { RetryPolicy, backoffMs, brief, sleep } from './retry';
import type { RepoSource } from './source';
import type { Staging } from './staging';
import { FileHasher, checkHashes, checkPartSize, sizeOf } from './verification';

export interface FetchContext {
  hub: RepoSource;
  repo: string;
  commit: string;
  /** `repo@revision`, for messages. */
  where: string;
  store: string;
  retry: RetryPolicy;
  /** Aborted when the pull is cancelled or another file failed for good. */
  signal: AbortSignal;
  staging: Staging;
  progress: PullReporter;
}

/** How one file's attempts went so far. */
interface Tries {
  attempt: number;
  /** Failed attempts in a row without new bytes. */
  streak: number;
  /** Parts that failed verification. */
  mismatches: number;
}

export async function fetchFile(c: FetchContext, f: Wanted): Promise<void> {
  const dest = c.staging.destOf(f);
  const part = c.staging.partOf(f);
  try {
    await fs.mkdir(path.dirname(dest), { recursive: true });
    await fs.mkdir(path.dirname(part), { recursive: true });
  } catch (err) {
    throw fileError(err, f.path, c.store);
  }
  const tries: Tries = { attempt: 0, streak: 0, mismatches: 0 };
  for (;;) {
    tries.attempt++;
    if (c.signal.aborted) throw cancelled();
    const before = await sizeOf(part);
    try {
      await fetchAttempt(c, f, part, dest);
      return;
    } catch (err) {
      await afterFailure(c, f, part, before, tries, err);
    }
  }
}

/** Throws when the file is lost; otherwise returns once the next attempt may start. */
async function afterFailure(c: FetchContext, f: Wanted, part: string, sizeBefore: number, tries: Tries, err: unknown): Promise<void> {
  const e = c.signal.aborted || isAbort(err) ? cancelled() : err instanceof ModelError ? err : networkError(err, new URL(c.hub.endpoint).host);
  if (e.code === 'cancelled') throw e;
  if (e.code === 'hashMismatch') {
    tries.mismatches++;
    await fs.rm(part, { force: true }); // its bytes are not the listed file's
    c.progress.setOnDisk(f.path, 0);
    if (tries.mismatches >= 2) {
      throw new ModelError(
        'hashMismatch',
        `${f.path} from ${c.where} failed verification twice (${e.message}). The download was corrupted on the way or the hub/mirror (${c.hub.endpoint}) serves a different file; try again later or another mirror.`,
      );
    }
    c.progress.report('downloading', true, `${f.path}: ${e.message} Deleted it; downloading it once more.`);
    return;
  }
  if (!e.retryable) throw e;
  // A trickle adds bytes, yet it is no progress: it must not reset the streak forever.
  const progressed = !(e as { tooSlow?: boolean }).tooSlow && (await sizeOf(part)) > sizeBefore;
  tries.streak = progressed ? 1 : tries.streak + 1;
  if (tries.streak > c.retry.retries || tries.attempt >= c.retry.maxAttempts) {
    const kept = await sizeOf(part);
    throw new ModelError(
      e.code,
      `${e.message} Gave up on ${f.path} after ${tries.attempt} attempts.` + (kept > 0 ? ` ${formatBytes(kept)} of it are kept: pull again to resume.` : ''),
    );
  }
  const delay = backoffMs(c.retry, tries.streak);
  c.progress.report('downloading', true, `${f.path}: ${brief(e.message)} Retrying in ${(delay / 1000).toFixed(1)} s (attempt ${tries.attempt + 1}).`);
  await sleep(delay, c.signal);
}

async function fetchAttempt(c: FetchContext, f: Wanted, part: string, dest: string): Promise<void> {
  const hasher = new FileHasher(f);
  let have = await sizeOf(part);
  if (have > f.size) {
    await fs.rm(part, { force: true });
    have = 0;
  }
  c.progress.setOnDisk(f.path, have);
  if (have > 0) {
    c.progress.working(f.path);
    c.progress.report('downloading', true, `${f.path}: checking the ${formatBytes(have)} already downloaded`);
    // What was hashed, not what was measured: the part may have changed in between.
    have = await hashInto(c, part, hasher);
  }
  if (have < f.size || f.size === 0) {
    await download(c, f, part, have, hasher);
  }
  await checkPartSize(f, part);
  c.progress.working(f.path);
  const sha = await checkHashes(f, part, hasher);
  await c.staging.moveIntoPlace(f, part, dest);
  c.staging.markVerified(f, sha);
  c.progress.fileVerified(f.path, f.size);
  await c.staging.saveState();
  c.progress.report('downloading', true);
}

/** Hashes the bytes already in `part`; returns how many were read. */
async function hashInto(c: FetchContext, part: string, hasher: FileHasher): Promise<number> {
  let n = 0;
  const stream = createReadStream(part, { highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream) {
      if (c.signal.aborted) throw cancelled();
      hasher.update(chunk as Buffer);
      n += (chunk as Buffer).length;
      c.progress.report('downloading', false); // a heartbeat while a large part is re-read
    }
  } finally {
    stream.destroy();
  }
  return n;
}

async function download(c: FetchContext, f: Wanted, part: string, have: number, hasher: FileHasher): Promise<void> {
  c.progress.working(f.path);
  // Opened before the request: no await may sit between the response and our body listeners,
  // or a connection that breaks at once would take its already-received bytes with it.
  // Append mode; a 200 reply (whole file) truncates first.
  let fh: FileHandle;
  try {
    fh = await fs.open(part, 'a');
  } catch (err) {
    throw fileError(err, f.path, c.store);
  }
  try {
    const res = await c.hub.openFile(c.repo, c.commit, f.path, have, c.signal);
    const { check, restart } = checkResponse(c.hub, f, res, have);
    if (check) {
      res.body.destroy();
      throw check;
    }
    const truncated = restart ? fh.truncate(0) : Promise.resolve();
    if (restart) {
      hasher.reset();
      c.progress.setOnDisk(f.path, 0);
    }
    await copyBody(c, f, res, fh, truncated, restart || have === 0 ? f.size : f.size - have, hasher);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/**
 * Whether a reply can be appended to a part holding `have` bytes: `check` is why not, `restart`
 * says it is the whole file (the server ignored Range, or we asked from 0).
 */
function checkResponse(hub: RepoSource, f: Wanted, res: OpenResponse, have: number): { check?: ModelError; restart: boolean } {
  const host = res.url.host;
  const announced = f.sha256 ? hub.announcedSha256?.(res) : undefined;
  if (announced && announced !== f.sha256) {
    return { check: new ModelError('hashMismatch', `the hub announces sha256 ${announced.slice(0, 12)}… for ${f.path}, its file list says ${f.sha256?.slice(0, 12)}….`), restart: false };
  }
  if (res.status === 206) {
    const cr = parseContentRange(res.headers['content-range']);
    if (!cr || cr.start !== have) {
      return {
        check: new ModelError('http', `${host} answered a range request for ${f.path} with the wrong range (${printable(String(res.headers['content-range'] ?? 'none').slice(0, 100))}).`, true),
        restart: false,
      };
    }
    if (cr.total !== undefined && cr.total !== f.size) {
      return { check: new ModelError('hashMismatch', `${host} says ${f.path} has ${cr.total} bytes, the file list says ${f.size}.`), restart: false };
    }
    return { restart: false };
  }
  const len = Number(res.headers['content-length']);
  if (res.headers['content-length'] !== undefined && len !== f.size) {
    return { check: new ModelError('hashMismatch', `${host} sends ${len} bytes for ${f.path}, the file list says ${f.size}.`), restart: have > 0 };
  }
  return { restart: have > 0 };
}

function parseContentRange(h: string | undefined): { start: number; total?: number } | undefined {
  const m = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec((h ?? '').trim());
  if (!m) return undefined;
  return { start: Number(m[1]), total: m[3] === '*' ? undefined : Number(m[3]) };
}

/** Appends the body (at most `maxBytes`, as the file list says) once `truncated` is done. */
async function copyBody(c: FetchContext, f: Wanted, res: OpenResponse, fh: FileHandle, truncated: Promise<void>, maxBytes: number, hasher: FileHasher): Promise<void> {
  const body = res.body as Readable;
  const host = res.url.host;
  const limits = bodyLimits(c.hub.http, maxBytes);
  try {
    await streamToFile(
      body,
      limits,
      bodyErrors(f, host, limits),
      async (buf) => {
        await truncated;
        await writeAll(fh, buf);
      },
      (buf) => {
        hasher.update(buf);
        c.progress.received(f.path, buf.length);
      },
    );
    await truncated;
  } catch (err) {
    if (err instanceof ModelError) throw err;
    if (c.signal.aborted || isAbort(err)) throw cancelled();
    if ((err as { fromDisk?: boolean }).fromDisk) throw fileError((err as { cause?: unknown }).cause, f.path, c.store);
    throw networkError(err, host);
  } finally {
    body.destroy();
  }
}
