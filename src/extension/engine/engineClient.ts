// Client side of the engine protocol. The engine (dist/engine.js) is a Node child process
// started on first use; it holds onnxruntime and sharp so the extension host never loads them.
// This file has no `vscode` import: the extension passes in a log and option getters, and the
// same client runs in plain mocha tests.
//
// Life cycle: start on first request -> engine/initialize -> requests -> idle timer -> shutdown.
// A crash fails every pending request with a clear message; the next request starts a new engine.
//
// The pieces: engineProcess.ts (the child process), engineCall.ts (one request: its time limit
// and cancellation), jobRegistry.ts (the work in flight that notifications are about). This
// class joins them and decides what a call that gave up means for the engine.

import { Emitter } from 'vscode-jsonrpc/node';
import type {
  GenerateParams,
  GenerateResult,
  InfoResult,
  StatusResult,
  ThumbnailParams,
  ThumbnailResult,
  TokenizeParams,
  TokenizeResult,
} from '../../core/protocol';
import { EngineRequests } from '../../core/engineRequests';
import type { ModelsProgress } from '../../core/modelsProtocol';
import type { RequestType } from '../../core/rpc';
import * as l10n from '@vscode/l10n';
import { isRecord } from '../../core/validate';
import type { CancelToken, EngineClient as EngineClientApi, GenerateOptions, JobEvent } from '../services';
import { call, send, withTimeout } from './engineCall';
import { EngineError, fromReplyError } from './engineError';
import { EngineProcess, type EngineProcessConfig } from './engineProcess';
import { JobRegistry, newJobId, type Work } from './jobRegistry';

export interface EngineClientConfig extends EngineProcessConfig {
  /** Timeouts, ms. `generateStall`: no progress for this long fails a generation. */
  timeouts?: Partial<{ start: number; request: number; generateStall: number; cancelGrace: number; shutdown: number }>;
}

const DEFAULT_TIMEOUTS = { start: 60_000, request: 60_000, generateStall: 300_000, cancelGrace: 15_000, shutdown: 3_000 };

export class EngineClient implements EngineClientApi {
  private readonly timeouts: typeof DEFAULT_TIMEOUTS;
  private readonly _onJob = new Emitter<JobEvent>();
  readonly onJob = this._onJob.event;
  private readonly jobs: JobRegistry;
  private readonly engineProcess: EngineProcess;

  constructor(private readonly config: EngineClientConfig) {
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...config.timeouts };
    this.jobs = new JobRegistry(config.log, (e) => this._onJob.fire(e));
    this.engineProcess = new EngineProcess(config, this.timeouts, (connection) => this.jobs.listen(connection));
  }

  get pid(): number | undefined {
    return this.engineProcess.pid;
  }

  activeJobs(): readonly string[] {
    return this.jobs.ids();
  }

  async generate(params: GenerateParams, options: GenerateOptions = {}): Promise<GenerateResult> {
    const jobId = options.jobId ?? newJobId();
    if (this.jobs.has(jobId)) throw new EngineError('badInput', `A job with id ${jobId} is already running.`);
    if (options.token?.isCancellationRequested) throw new EngineError('cancelled', l10n.t('Generation cancelled.'));
    const work = this.jobs.addJob(jobId, options);
    // Out of activeJobs() before 'finished' or 'failed' fires: a listener counting the jobs
    // left (the status bar) must not count this one.
    let ended = false;
    const end = () => {
      if (!ended) work.dispose();
      ended = true;
    };
    this._onJob.fire({ kind: 'started', jobId, params });
    const started = Date.now();
    try {
      // The reply is checked against the request: the same job, with at least one image.
      const result = await this.request(EngineRequests.generate, { ...params, jobId }, { work, stallMs: this.timeouts.generateStall });
      const t = result.timings;
      const steps = t.unetStepMs.length ? (t.unetStepMs.reduce((a, b) => a + b, 0) / t.unetStepMs.length).toFixed(0) : '-';
      this.config.log.info(
        `[${jobId}] done in ${Date.now() - started} ms (engine ${t.totalMs.toFixed(0)} ms: load ${t.loadMs.toFixed(0)}, text ${t.textEncoderMs.toFixed(0)}, ` +
          `${t.unetStepMs.length} steps avg ${steps}, ${t.vaeEncodeMs ? `vae encode ${t.vaeEncodeMs.toFixed(0)}, ` : ''}vae ${t.vaeMs.toFixed(0)}, save ${t.saveMs.toFixed(0)}) -> ${result.images.map((i) => i.path).join(', ')}`,
      );
      for (const w of result.warnings) this.config.log.warn(`[${jobId}] ${w}`);
      end();
      this._onJob.fire({ kind: 'finished', jobId, result });
      return result;
    } catch (e) {
      end();
      const error = fromReplyError(EngineRequests.generate.method, e);
      if (error.kind === 'cancelled') this.config.log.info(`[${jobId}] cancelled after ${Date.now() - started} ms`);
      else this.config.log.error(`[${jobId}] failed: ${error.message}`);
      this._onJob.fire({ kind: 'failed', jobId, error });
      throw error;
    } finally {
      end();
    }
  }

  tokenize(params: TokenizeParams): Promise<TokenizeResult> {
    return this.request(EngineRequests.tokenize, params);
  }

  info(path: string): Promise<InfoResult> {
    return this.request(EngineRequests.info, { path });
  }

  thumbnail(params: ThumbnailParams): Promise<ThumbnailResult> {
    return this.request(EngineRequests.thumbnail, params);
  }

  status(): Promise<StatusResult> {
    return this.request(EngineRequests.status, {});
  }

  async cancel(jobId: string): Promise<boolean> {
    // Cancelling the job's token makes vscode-jsonrpc send $/cancelRequest for its generate request.
    if (!this.jobs.cancel(jobId)) return false;
    // $/cancelRequest only marks the request: a job still waiting in the engine's queue would
    // stay there until it reaches the front. engine/cancel drops it from the queue at once.
    const engine = this.engineProcess.current;
    if (engine) {
      try {
        await engine.ready;
        const cancel = EngineRequests.cancel;
        const { cancelled } = await withTimeout(send(engine.connection, cancel, { jobId }), this.timeouts.request, cancel.method);
        if (!cancelled) this.config.log.info(`[${jobId}] ${cancel.method}: the engine had no such job (not sent yet or already done)`);
      } catch (e) {
        // The $/cancelRequest above still stops the job before its next step.
        this.config.log.warn(`[${jobId}] ${EngineRequests.cancel.method} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return true;
  }

  /**
   * A models/* call (ModelsRequests: list, pull, verify, remove) run in the engine process, so
   * downloads happen beside the ONNX sessions and never in the extension host. Progress arrives
   * as models/progress notifications (validated, then passed on) and keeps the call's stall
   * timer from firing; the token cancels it. The reply is validated like every other. Errors are
   * the engine's JSON-RPC replies as they are (data.code says unauthorized, diskFull, ...), or an
   * EngineError when the engine itself failed or its reply was malformed.
   */
  async models<P, R>(
    type: RequestType<P, R>,
    params: P,
    options: { token?: CancelToken; onProgress?: (p: ModelsProgress) => void } = {},
  ): Promise<R> {
    if (options.token?.isCancellationRequested) throw new EngineError('cancelled', l10n.t('Cancelled.'));
    const operationId = isRecord(params) && typeof params.operationId === 'string' ? params.operationId : undefined;
    const work = this.jobs.addOperation(operationId, options);
    try {
      // A download reports progress; one that goes quiet this long is stuck (the downloader
      // gives up on a silent connection well before).
      return await this.request(type, params, { work, stallMs: operationId ? this.timeouts.generateStall : undefined, keepReplyErrors: true });
    } finally {
      work.dispose();
    }
  }

  /** Stops the engine after the running jobs (for setting changes that need a new process). */
  restartWhenIdleAgain(): void {
    this.engineProcess.restartWhenIdleAgain();
  }

  stop(reason?: string): Promise<void> {
    return this.engineProcess.stop(reason);
  }

  dispose(): void {
    this.engineProcess.dispose();
    this._onJob.dispose();
  }

  /**
   * Sends `type` to the engine (started if needed) and returns its reply once the request's
   * validator accepted it; a malformed reply is a 'badReply' EngineError naming the method.
   */
  private request<P, R>(type: RequestType<P, R>, params: P, opts: { work?: Work; stallMs?: number; keepReplyErrors?: boolean } = {}): Promise<R> {
    const method = type.method;
    return this.engineProcess.use(async (engine) => {
      const started = Date.now();
      const result = await call(engine, type, params, {
        stallMs: opts.stallMs ?? this.timeouts.request,
        cancelGraceMs: this.timeouts.cancelGrace,
        token: opts.work?.token,
        onTouch: opts.work?.onTouch,
        keepReplyErrors: opts.keepReplyErrors,
        onGiveUp: () => {
          // A stuck engine cannot be trusted with the next job; but one still reporting on
          // other work in flight is busy, not stuck, and keeps running. A silent generation is
          // itself the stuck work: its stall always restarts.
          const othersAlive = method !== EngineRequests.generate.method && this.jobs.otherWorkAlive(opts.work, this.timeouts.generateStall);
          if (!othersAlive) this.engineProcess.stopIfCurrent(engine, `The engine was restarted because ${method} stopped answering; run the job again.`);
        },
      });
      if (method !== EngineRequests.generate.method) this.config.log.info(`${method} ${Date.now() - started} ms`);
      return result;
    });
  }
}
