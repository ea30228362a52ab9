// services.engine with a server in the loop: generate goes to the configured backend when
// courseIllustrator.backend is not `local`; everything else (tokenize, info, thumbnails, models,
// and importing the server's images) stays on the local engine. Remote jobs are jobs like any
// other for the panel and the status bar: they fire the same JobEvents, show in activeJobs, and
// cancel(jobId) stops them. No `vscode` import: plain mocha tests drive it.

import { Emitter } from 'vscode-jsonrpc/node';
import type { ImportImageParams } from '../../core/importProtocol';
import type { GenerateParams, GenerateResult, GeneratedImage } from '../../core/protocol';
import { EngineRequests } from '../../core/engineRequests';
import * as l10n from '@vscode/l10n';
import { EngineError, fromReplyError, isEngineError } from '../engine/engineError';
import type { CancelToken, EngineClient, GenerateOptions, JobEvent, Log } from '../services';
import type { GenerationBackend } from './generationBackend';

export interface RoutedEngineDeps {
  local: EngineClient;
  /** The backend for the settings of now; undefined: the local engine. May throw (a bad URL). */
  backend(): GenerationBackend | undefined;
  /** A reason when nothing may be generated now (Restricted Mode). */
  refuse?: () => string | undefined;
  log: Log;
}

/** engine/import through the local engine (its process holds sharp). */
export async function importViaEngine(local: EngineClient, params: ImportImageParams): Promise<GeneratedImage> {
  try {
    return await local.models(EngineRequests.importImage, params);
  } catch (e) {
    throw fromReplyError(EngineRequests.importImage.method, e);
  }
}

let remoteCounter = 0;

class Cancel implements CancelToken {
  isCancellationRequested = false;
  private readonly listeners = new Set<() => void>();
  onCancellationRequested(listener: () => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }
  cancel(): void {
    if (this.isCancellationRequested) return;
    this.isCancellationRequested = true;
    for (const l of [...this.listeners]) l();
  }
}

export class RoutedEngineClient implements EngineClient {
  private readonly remote = new Map<string, Cancel>();
  private readonly _onJob = new Emitter<JobEvent>();
  readonly onJob = this._onJob.event;
  private readonly forward: { dispose(): void };

  constructor(private readonly deps: RoutedEngineDeps) {
    this.forward = deps.local.onJob((e) => this._onJob.fire(e));
  }

  generate(params: GenerateParams, options: GenerateOptions = {}): Promise<GenerateResult> {
    let backend: GenerationBackend | undefined;
    try {
      backend = this.deps.backend();
    } catch (e) {
      return Promise.reject(e);
    }
    return backend ? this.generateRemote(backend, params, options) : this.deps.local.generate(params, options);
  }

  private async generateRemote(backend: GenerationBackend, params: GenerateParams, options: GenerateOptions): Promise<GenerateResult> {
    const refusal = this.deps.refuse?.();
    if (refusal) throw new EngineError('restricted', refusal);
    const jobId = options.jobId ?? `remote-${Date.now().toString(36)}-${++remoteCounter}`;
    if (this.remote.has(jobId) || this.deps.local.activeJobs().includes(jobId)) throw new EngineError('badInput', `A job with id ${jobId} is already running.`);
    if (options.token?.isCancellationRequested) throw new EngineError('cancelled', l10n.t('Generation cancelled.'));
    const cancel = new Cancel();
    const sub = options.token?.onCancellationRequested(() => cancel.cancel());
    this.remote.set(jobId, cancel);
    const log = this.deps.log;
    log.info(`[${jobId}] on the ${backend.kind} server ${backend.url}`);
    this._onJob.fire({ kind: 'started', jobId, params });
    const started = Date.now();
    try {
      const result = await backend.generate(params, {
        jobId,
        token: cancel,
        onProgress: (progress) => {
          options.onProgress?.(progress);
          this._onJob.fire({ kind: 'progress', jobId, progress });
        },
        onQueue: (q) => {
          options.onQueue?.(q);
          this._onJob.fire({ kind: 'queued', jobId, position: q.position });
        },
      });
      log.info(`[${jobId}] done on ${backend.url} in ${Date.now() - started} ms -> ${result.images.map((i) => i.path).join(', ')}`);
      for (const w of result.warnings) log.warn(`[${jobId}] ${w}`);
      // Out of activeJobs() before listeners hear it ended (the status bar counts what is left).
      this.remote.delete(jobId);
      this._onJob.fire({ kind: 'finished', jobId, result });
      return result;
    } catch (e) {
      const error = isEngineError(e) ? e : new EngineError('internal', l10n.t('The job on {0} failed: {1}', backend.url, e instanceof Error ? e.message : String(e)));
      if (error.kind === 'cancelled') log.info(`[${jobId}] cancelled after ${Date.now() - started} ms`);
      else log.error(`[${jobId}] failed: ${error.message}`);
      this.remote.delete(jobId);
      this._onJob.fire({ kind: 'failed', jobId, error });
      throw error;
    } finally {
      sub?.dispose();
      this.remote.delete(jobId);
    }
  }

  async cancel(jobId: string): Promise<boolean> {
    const job = this.remote.get(jobId);
    if (job) {
      job.cancel();
      return true;
    }
    return this.deps.local.cancel(jobId);
  }

  activeJobs(): readonly string[] {
    return [...this.deps.local.activeJobs(), ...this.remote.keys()];
  }

  get pid(): number | undefined {
    return this.deps.local.pid;
  }

  tokenize: EngineClient['tokenize'] = (p) => this.deps.local.tokenize(p);
  info: EngineClient['info'] = (p) => this.deps.local.info(p);
  thumbnail: EngineClient['thumbnail'] = (p) => this.deps.local.thumbnail(p);
  status: EngineClient['status'] = () => this.deps.local.status();
  stop: EngineClient['stop'] = () => this.deps.local.stop();
  models: EngineClient['models'] = (type, params, options) => this.deps.local.models(type, params, options);

  /** Disposes only what is its own: the local engine is disposed by whoever made it. */
  dispose(): void {
    for (const c of this.remote.values()) c.cancel();
    this.forward.dispose();
    this._onJob.dispose();
  }
}
