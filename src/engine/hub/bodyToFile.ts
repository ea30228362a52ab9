// Copying a file's response body into its part file, and the errors that cut a body short. A
// hub is not trusted: a body past the listed size is cut at once, and a stall or a trickle below
// the minimum rate ends the attempt (the fetcher decides whether to try again).

import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ModelError } from './errors';
import { BodyErrors, BodyGuard, BodyLimits, tooSlowMessage } from './http';
import type { RepoFile } from './source';

/** Marks a failed write so the caller reports the disk, not the network. */
export async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
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
export function streamToFile(body: Readable, limits: BodyLimits, errors: BodyErrors, write: (b: Buffer) => Promise<void>, written: (b: Buffer) => void): Promise<void> {
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
export function bodyErrors(f: RepoFile, host: string, limits: BodyLimits): BodyErrors {
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
