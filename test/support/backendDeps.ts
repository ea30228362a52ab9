// What the backend tests share: a log that keeps its lines, a SecretStorage in memory, the
// engine's importImage run in process, and a temporary "workspace" to write images into.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { importImage } from '../../src/engine/image/importImage';
import { BackendFactory } from '../../src/extension/backends/createBackend';
import type { SecretStore } from '../../src/extension/backends/serverCredentials';
import type { BackendKind } from '../../src/extension/config';
import type { ProgressEvent, QueueEvent } from '../../src/core/protocol';
import type { CancelToken } from '../../src/extension/services';

export function memoryLog() {
  const lines: string[] = [];
  return { lines, info: (m: string) => void lines.push(`I ${m}`), warn: (m: string) => void lines.push(`W ${m}`), error: (m: string) => void lines.push(`E ${m}`), show() {} };
}

export function memorySecrets(): SecretStore & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return {
    map,
    get: async (k) => map.get(k),
    store: async (k, v) => void map.set(k, v),
    delete: async (k) => void map.delete(k),
  };
}

/** A backend for `kind` at `url` whose images the engine's importImage writes (in process). */
export function backendFor(kind: Exclude<BackendKind, 'local'>, url: string, opts: { model?: string; secrets?: SecretStore } = {}) {
  const log = memoryLog();
  const secrets = opts.secrets ?? memorySecrets();
  const factory = new BackendFactory({ secrets, importImage, log, pollMs: 50 });
  const backend = factory.forConfig({ backend: kind, backendUrl: url, backendModel: opts.model ?? '' })!;
  return { backend, log, secrets };
}

export function tempWorkspace(): { root: string; images: string; dispose(): void } {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ci-backend-')));
  const images = path.join(root, 'images');
  fs.mkdirSync(images);
  return { root, images, dispose: () => fs.rmSync(root, { recursive: true, force: true }) };
}

/** Collects what a job reports, and a token to cancel it with. */
export function watcher() {
  const progress: ProgressEvent[] = [];
  const queue: QueueEvent[] = [];
  const listeners = new Set<() => void>();
  let cancelled = false;
  const token: CancelToken & { cancel(): void } = {
    get isCancellationRequested() {
      return cancelled;
    },
    onCancellationRequested(l) {
      listeners.add(l);
      return { dispose: () => listeners.delete(l) };
    },
    cancel() {
      cancelled = true;
      for (const l of [...listeners]) l();
    },
  };
  return { progress, queue, token, onProgress: (e: ProgressEvent) => void progress.push(e), onQueue: (e: QueueEvent) => void queue.push(e) };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as import('node:net').AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
