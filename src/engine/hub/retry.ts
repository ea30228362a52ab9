// When a pull tries again: the hub's API calls (resolve, list) and each file's fetch share one
// policy, exponential backoff with a cap, so a flaky connection slows a pull without ending it.

import { ModelError, cancelled, isAbort, networkError } from './errors';

export interface RetryPolicy {
  /** Consecutive failed attempts (without new bytes) before giving up on a file. */
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Hard cap on attempts per file, progress or not. */
  maxAttempts: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 5, baseDelayMs: 1000, maxDelayMs: 30_000, maxAttempts: 60 };

/** The pause before the next try, `streak` failures in a row. */
export function backoffMs(retry: RetryPolicy, streak: number): number {
  return Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (streak - 1));
}

/** The first sentence of a message: retry notices stay short, the final error says it all. */
export function brief(message: string): string {
  const m = /^(.*?[.)])\s/.exec(message);
  return m ? m[1] : message;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
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

export interface ApiRetry {
  retry: RetryPolicy;
  signal?: AbortSignal;
  /** Named in network errors (its host). */
  endpoint: string;
  /** Told about each retry before the pause. */
  notify: (message: string) => void;
}

/** Small API calls retry too: a DNS hiccup on the first request should not end the pull. */
export async function withRetry<T>(r: ApiRetry, what: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const e = isAbort(err, r.signal) ? cancelled() : err instanceof ModelError ? err : networkError(err, new URL(r.endpoint).host);
      // Offline is usually not a hiccup: say so after a couple of quick tries.
      const limit = e.code === 'offline' ? Math.min(2, r.retry.retries) : r.retry.retries;
      if (!e.retryable || attempt > limit) throw e;
      const delay = backoffMs(r.retry, attempt);
      r.notify(`${what}: ${brief(e.message)} Retrying in ${(delay / 1000).toFixed(1)} s.`);
      await sleep(delay, r.signal);
    }
  }
}
