// Client side of the engine protocol. The engine (dist/engine.js) is a Node child process
// started on first use; it holds onnxruntime and sharp so the extension host never loads them.
// This file has no `vscode` import: the extension passes in a log and option getters, and the
// same client runs in plain mocha tests.
//
// Life cycle: start on first request -> engine/initialize -> requests -> idle timer -> shutdown.
// A crash fails every pending request with a clear message; the next request starts a new engine.

import * as cp from 'child_process';
import * as fs from 'fs';
import {
  type CancellationToken,
  CancellationTokenSource,
  Emitter,
  ResponseError,
  StreamMessageReader,
  StreamMessageWriter,
  createMessageConnection,
  type MessageConnection,
} from 'vscode-jsonrpc/node';
import type {
  EngineOptions,
  GenerateParams,
  GenerateResult,
  InfoResult,
  StatusResult,
  ThumbnailParams,
  ThumbnailResult,
  TokenizeParams,
  TokenizeResult,
} from '../../core/protocol';
import { EngineNotifications, EngineRequests, PROTOCOL_VERSION } from '../../core/protocol';
import { ModelsNotifications, type ModelsProgress } from '../../core/modelsProtocol';
import { MalformedReplyError, checkReply, type NotificationType, type RequestType } from '../../core/rpc';
import * as l10n from '@vscode/l10n';
import { isRecord } from '../../core/validate';
import type { CancelToken, EngineClient as EngineClientApi, GenerateOptions, JobEvent, Log } from '../services';
import { EngineError, fromReplyError, isEngineError } from './engineError';

export interface EngineClientConfig {
  /** Absolute path of dist/engine.js. */
  enginePath: string;
  /** Node binary; in the extension host: process.execPath with ELECTRON_RUN_AS_NODE=1. */
  nodePath?: string;
  env?: NodeJS.ProcessEnv;
  /** Read at each engine start, so setting changes apply to the next engine. */
  engineOptions: () => EngineOptions;
  /** Milliseconds without requests before the engine exits; 0: never. Read at each idle. */
  idleTimeoutMs: () => number;
  log: Log;
  /** Timeouts, ms. `generateStall`: no progress for this long fails a generation. */
  timeouts?: Partial<{ start: number; request: number; generateStall: number; cancelGrace: number; shutdown: number }>;
  /** A reason when the engine must not run now (Restricted Mode); checked on every request. */
  refuse?: () => string | undefined;
  /** Injected for tests; default child_process.spawn. */
  spawn?: typeof cp.spawn;
}

const DEFAULT_TIMEOUTS = { start: 60_000, request: 60_000, generateStall: 300_000, cancelGrace: 15_000, shutdown: 3_000 };

/**
 * Work in flight that the engine reports on (a generation, a download): `lastSignAt` is when a
 * notification about it last arrived (0: none yet). It says whether the engine is working now.
 */
interface InFlight {
  lastSignAt: number;
}

/** A models/pull or models/verify in flight: its progress notifications find it by operationId. */
interface Operation extends InFlight {
  onProgress?: (p: ModelsProgress) => void;
  touch: () => void;
}

interface Engine {
  child: cp.ChildProcess;
  connection: MessageConnection;
  ready: Promise<StatusResult>;
  exited: Promise<void>;
  stderrTail: string[];
  /** Rejects everything still pending on this engine. */
  failAll(error: EngineError): void;
  pending: Set<(e: EngineError) => void>;
  stopping: boolean;
}

interface Job extends InFlight {
  jobId: string;
  cts: CancellationTokenSource;
  options: GenerateOptions;
  /** Resets the stall timer; called on progress. */
  touch(): void;
}

let jobCounter = 0;

export class EngineClient implements EngineClientApi {
  private engine: Engine | undefined;
  private readonly jobs = new Map<string, Job>();
  private readonly operations = new Map<string, Operation>();
  private idleTimer: NodeJS.Timeout | undefined;
  private busy = 0;
  private disposed = false;
  private restartWhenIdle = false;
  private readonly timeouts: typeof DEFAULT_TIMEOUTS;
  private readonly _onJob = new Emitter<JobEvent>();
  readonly onJob = this._onJob.event;

  constructor(private readonly config: EngineClientConfig) {
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...config.timeouts };
  }

  get pid(): number | undefined {
    return this.engine?.child.pid;
  }

  activeJobs(): readonly string[] {
    return [...this.jobs.keys()];
  }

  async generate(params: GenerateParams, options: GenerateOptions = {}): Promise<GenerateResult> {
    const jobId = options.jobId ?? `job-${Date.now().toString(36)}-${++jobCounter}`;
    if (this.jobs.has(jobId)) throw new EngineError('badInput', `A job with id ${jobId} is already running.`);
    if (options.token?.isCancellationRequested) throw new EngineError('cancelled', l10n.t('Generation cancelled.'));
    const cts = new CancellationTokenSource();
    const tokenSub = options.token?.onCancellationRequested(() => cts.cancel());
    let touch = (): void => undefined;
    const job: Job = {
      jobId,
      cts,
      options,
      lastSignAt: 0,
      touch: () => {
        job.lastSignAt = Date.now();
        touch();
      },
    };
    this.jobs.set(jobId, job);
    this._onJob.fire({ kind: 'started', jobId, params });
    const started = Date.now();
    try {
      // The reply is checked against the request: the same job, with at least one image.
      const result = await this.request(
        EngineRequests.generate,
        { ...params, jobId },
        {
          cts,
          stallMs: this.timeouts.generateStall,
          onTouch: (fn) => (touch = fn),
          work: job,
        },
      );
      const t = result.timings;
      const steps = t.unetStepMs.length ? (t.unetStepMs.reduce((a, b) => a + b, 0) / t.unetStepMs.length).toFixed(0) : '-';
      this.config.log.info(
        `[${jobId}] done in ${Date.now() - started} ms (engine ${t.totalMs.toFixed(0)} ms: load ${t.loadMs.toFixed(0)}, text ${t.textEncoderMs.toFixed(0)}, ` +
          `${t.unetStepMs.length} steps avg ${steps}, vae ${t.vaeMs.toFixed(0)}, save ${t.saveMs.toFixed(0)}) -> ${result.images.map((i) => i.path).join(', ')}`,
      );
      for (const w of result.warnings) this.config.log.warn(`[${jobId}] ${w}`);
      this._onJob.fire({ kind: 'finished', jobId, result });
      return result;
    } catch (e) {
      const error = isEngineError(e) ? e : fromReplyError(EngineRequests.generate.method, e);
      if (error.kind === 'cancelled') this.config.log.info(`[${jobId}] cancelled after ${Date.now() - started} ms`);
      else this.config.log.error(`[${jobId}] failed: ${error.message}`);
      this._onJob.fire({ kind: 'failed', jobId, error });
      throw error;
    } finally {
      tokenSub?.dispose();
      cts.dispose();
      this.jobs.delete(jobId);
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
    const job = this.jobs.get(jobId);
    if (!job) return false;
    job.cts.cancel(); // vscode-jsonrpc sends $/cancelRequest for the generate request
    // $/cancelRequest only marks the request: a job still waiting in the engine's queue would
    // stay there until it reaches the front. engine/cancel drops it from the queue at once.
    const engine = this.engine;
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
    const cts = new CancellationTokenSource();
    const tokenSub = options.token?.onCancellationRequested(() => cts.cancel());
    let touch = (): void => undefined;
    const op: Operation = {
      onProgress: options.onProgress,
      lastSignAt: 0,
      touch: () => {
        op.lastSignAt = Date.now();
        touch();
      },
    };
    if (operationId) this.operations.set(operationId, op);
    try {
      return await this.request(type, params, {
        cts,
        // A download reports progress; one that goes quiet this long is stuck (the downloader
        // gives up on a silent connection well before).
        stallMs: operationId ? this.timeouts.generateStall : undefined,
        onTouch: (fn) => (touch = fn),
        keepReplyErrors: true,
        work: operationId ? op : undefined,
      });
    } finally {
      if (operationId) this.operations.delete(operationId);
      tokenSub?.dispose();
      cts.dispose();
    }
  }

  /** Stops the engine after the running jobs (for setting changes that need a new process). */
  restartWhenIdleAgain(): void {
    if (!this.engine) return;
    if (this.busy === 0) void this.stop();
    else this.restartWhenIdle = true;
  }

  async stop(reason = l10n.t('The engine was stopped; run the job again.')): Promise<void> {
    const engine = this.engine;
    if (!engine) return;
    this.clearIdle();
    engine.stopping = true;
    this.engine = undefined;
    engine.failAll(new EngineError('crashed', reason));
    try {
      await withTimeout(send(engine.connection, EngineRequests.shutdown, {}), this.timeouts.shutdown, 'shutdown');
    } catch {
      // it may already be gone; the kill below makes sure
    }
    const exited = await Promise.race([engine.exited.then(() => true), delay(this.timeouts.shutdown).then(() => false)]);
    if (!exited) engine.child.kill('SIGKILL');
    engine.connection.dispose();
    this.config.log.info(`engine ${engine.child.pid} stopped`);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.clearIdle();
    const engine = this.engine;
    this.engine = undefined;
    if (engine) {
      engine.stopping = true;
      engine.failAll(new EngineError('cancelled', l10n.t('The extension is shutting down.')));
      try {
        engine.connection.dispose();
      } catch {
        // already closed
      }
      engine.child.kill('SIGKILL');
    }
    this._onJob.dispose();
  }

  // ---- internals ----

  /**
   * Sends `type` to the engine (started if needed) and returns its reply once the request's
   * validator accepted it; a malformed reply is a 'badReply' EngineError naming the method.
   */
  private async request<P, R>(
    type: RequestType<P, R>,
    params: P,
    opts: { cts?: CancellationTokenSource; stallMs?: number; onTouch?: (touch: () => void) => void; keepReplyErrors?: boolean; work?: InFlight } = {},
  ): Promise<R> {
    const method = type.method;
    if (this.disposed) throw new EngineError('cancelled', l10n.t('The extension is shutting down.'));
    const refusal = this.config.refuse?.();
    if (refusal) throw new EngineError('restricted', refusal);
    this.busy++;
    this.clearIdle();
    try {
      const engine = await this.ensureEngine();
      const started = Date.now();
      const result = await new Promise<R>((resolve, reject) => {
        let settled = false;
        let timer: NodeJS.Timeout | undefined;
        const limit = opts.stallMs ?? this.timeouts.request;
        const finish = (fn: () => void): void => {
          if (settled) return;
          settled = true;
          if (timer) clearTimeout(timer);
          engine.pending.delete(failPending);
          cancelSub?.dispose();
          fn();
        };
        const arm = (ms: number, error: () => EngineError): void => {
          if (timer) clearTimeout(timer);
          timer = setTimeout(() => {
            finish(() => reject(error()));
            // A stuck engine cannot be trusted with the next job; but one still reporting on
            // other work in flight is busy, not stuck, and keeps running. A silent generation is
            // itself the stuck work: its stall always restarts.
            const othersAlive = method !== EngineRequests.generate.method && this.otherWorkAlive(opts.work);
            if (this.engine === engine && !othersAlive) void this.stop(`The engine was restarted because ${method} stopped answering; run the job again.`);
          }, ms);
        };
        const armStall = (): void =>
          arm(limit, () =>
            new EngineError(
              'timeout',
              method === EngineRequests.generate.method
                ? l10n.t('The engine sent no progress for {0} s and was restarted. If the machine is short of memory, try courseIllustrator.compactWeights.', Math.round(limit / 1000))
                : l10n.t('The engine did not answer {0} within {1} s and was restarted.', method, Math.round(limit / 1000)),
            ),
          );
        const failPending = (e: EngineError): void => finish(() => reject(e));
        engine.pending.add(failPending);
        armStall();
        opts.onTouch?.(armStall);
        // After a cancel the engine should answer quickly with a cancelled error; if it does
        // not, give up waiting so the user is not stuck behind a hung job.
        const what = method === EngineRequests.generate.method ? 'Generation' : method;
        const cancelSub = opts.cts?.token.onCancellationRequested(() =>
          arm(this.timeouts.cancelGrace, () => new EngineError('cancelled', `${what} cancelled (the engine did not confirm in time).`)),
        );
        send(engine.connection, type, params, opts.cts?.token).then(
          (value) => finish(() => resolve(value)),
          (err: unknown) =>
            finish(() =>
              reject(opts.keepReplyErrors && err instanceof ResponseError ? err : err instanceof ResponseError || !isEngineError(err) ? fromReplyError(method, err) : err),
            ),
        );
      });
      if (method !== EngineRequests.generate.method) this.config.log.info(`${method} ${Date.now() - started} ms`);
      return result;
    } finally {
      this.busy--;
      if (this.busy === 0) this.whenIdle();
    }
  }

  /**
   * True when a generation or download in flight, other than `self`, had news from the engine
   * within its own stall limit. Only work actually running counts: a job that ran a minute ago
   * says nothing about the engine now, and a job the engine never mentioned proves nothing.
   */
  private otherWorkAlive(self?: InFlight): boolean {
    const now = Date.now();
    const work: InFlight[] = [...this.jobs.values(), ...this.operations.values()];
    return work.some((w) => w !== self && w.lastSignAt > 0 && now - w.lastSignAt < this.timeouts.generateStall);
  }

  private whenIdle(): void {
    if (!this.engine) return;
    if (this.restartWhenIdle) {
      this.restartWhenIdle = false;
      this.config.log.info('engine settings changed: the next job starts a new engine');
      void this.stop();
      return;
    }
    const ms = this.config.idleTimeoutMs();
    if (ms <= 0) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.busy === 0 && this.engine) {
        this.config.log.info(`engine idle for ${Math.round(ms / 1000)} s: stopping it to free memory`);
        void this.stop();
      }
    }, ms);
    this.idleTimer.unref?.();
  }

  private clearIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private ensureEngine(): Promise<Engine> {
    const engine = this.engine ?? (this.engine = this.startEngine());
    return engine.ready.then(() => engine);
  }

  private startEngine(): Engine {
    const { log } = this.config;
    const started = Date.now();
    const spawn = this.config.spawn ?? cp.spawn;
    if (!this.config.spawn && !fs.existsSync(this.config.enginePath)) {
      const error = new EngineError('crashed', l10n.t('The engine bundle {0} is missing: build it with "node esbuild.js" (or reinstall the extension).', this.config.enginePath));
      log.error(error.message);
      throw error;
    }
    const nodePath = this.config.nodePath ?? process.execPath;
    const child = spawn(nodePath, [this.config.enginePath, 'serve', '--stdio'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...this.config.env, ELECTRON_RUN_AS_NODE: '1' },
      windowsHide: true,
    });
    const stderrTail: string[] = [];
    const stderrEnded = new Promise<void>((r) => (child.stderr ? child.stderr.once('close', () => r()) : r()));
    let partial = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      const lines = (partial + chunk).split(/\r?\n/);
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line) continue;
        log.info(`[engine ${child.pid}] ${line}`);
        stderrTail.push(line);
        if (stderrTail.length > 20) stderrTail.shift();
      }
    });
    const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    const pending = new Set<(e: EngineError) => void>();

    // The handlers below refer to `engine`, made at the end: child processes and the connection
    // report only asynchronously, after this function has returned.
    let spawnError: Error | undefined;
    const exited = new Promise<void>((resolve) => {
      child.on('error', (err) => {
        spawnError = err;
        log.error(`could not start the engine (${nodePath} ${this.config.enginePath}): ${err.message}`);
        onGone(null, null);
        resolve();
      });
      child.on('exit', (code, signal) => {
        // The last stderr lines may still be in the pipe; they say why it died.
        void Promise.race([stderrEnded, delay(200)]).then(() => {
          onGone(code, signal);
          resolve();
        });
      });
    });
    const onGone = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (this.engine === engine) this.engine = undefined;
      if (engine.stopping) return;
      engine.stopping = true;
      const how = spawnError ? spawnError.message : signal ? `killed by ${signal}` : `exit code ${code}`;
      log.error(`engine ${child.pid ?? '?'} exited unexpectedly (${how})`);
      const tail = stderrTail.slice(-3).join(' | ');
      engine.failAll(
        new EngineError(
          'crashed',
          tail
            ? l10n.t('The engine process stopped unexpectedly ({0}). Last log lines: {1}. The next job starts a new engine; see "Course Illustrator: Show Engine Log".', how, tail)
            : l10n.t('The engine process stopped unexpectedly ({0}). The next job starts a new engine; see "Course Illustrator: Show Engine Log".', how),
        ),
      );
      try {
        connection.dispose();
      } catch {
        // already closed
      }
    };

    this.onJobNotification(connection, EngineNotifications.progress, 'progress', (job, event) => {
      // Jobs waiting in the engine's queue send nothing; the running job's progress shows
      // the engine is alive, so it keeps their stall timers from firing too.
      for (const j of this.jobs.values()) j.touch();
      job.options.onProgress?.(event);
      this._onJob.fire({ kind: 'progress', jobId: event.jobId, progress: event });
    });
    this.onJobNotification(connection, EngineNotifications.queue, 'queue', (job, event) => {
      job.touch();
      job.options.onQueue?.(event);
      this._onJob.fire({ kind: 'queued', jobId: event.jobId, position: event.position });
    });
    connection.onNotification(ModelsNotifications.progress.method, (raw: unknown) => {
      const op = isRecord(raw) && typeof raw.operationId === 'string' ? this.operations.get(raw.operationId) : undefined;
      if (!op) return;
      op.touch();
      if (!op.onProgress) return;
      let progress: ModelsProgress;
      try {
        progress = ModelsNotifications.progress.params(raw);
      } catch (e) {
        log.warn(`ignored a malformed ${ModelsNotifications.progress.method} notification: ${(e as Error).message}`);
        return;
      }
      op.onProgress(progress);
    });
    connection.onNotification(EngineNotifications.log.method, (raw: unknown) => {
      const event = EngineNotifications.log.params(raw);
      log[event.level](`[engine ${child.pid}] ${event.message}`);
    });
    connection.onError(([err]) => log.warn(`engine connection: ${err.message}`));
    connection.listen();

    const options = this.config.engineOptions();
    const ready = new Promise<StatusResult>((resolve, reject) => {
      const fail = (e: EngineError): void => reject(e);
      pending.add(fail);
      withTimeout(send(connection, EngineRequests.initialize, options), this.timeouts.start, 'engine start')
        .then((status) => {
          if (status.protocolVersion !== PROTOCOL_VERSION) {
            throw new EngineError(
              'badReply',
              `The engine speaks protocol ${status.protocolVersion}, the extension ${PROTOCOL_VERSION}: rebuild with "node esbuild.js".`,
            );
          }
          log.info(
            `engine ${status.pid} ready in ${Date.now() - started} ms (provider ${status.provider}, ${status.threads} threads${options.lowMemory ? ', low memory' : ''}${options.compact ? ', compact UNet' : ''})`,
          );
          resolve(status);
        })
        .catch((e: unknown) => {
          const error = isEngineError(e)
            ? e
            : e instanceof TimeoutError
              ? new EngineError('timeout', l10n.t('The engine did not start within {0} s. See "Course Illustrator: Show Engine Log".', this.timeouts.start / 1000))
              : fromReplyError(EngineRequests.initialize.method, e);
          reject(error);
          if (this.engine === engine) void this.stop();
        })
        .finally(() => pending.delete(fail));
    });
    // Nobody may be awaiting yet; avoid an unhandled rejection warning.
    ready.catch(() => undefined);
    const engine: Engine = {
      child,
      connection,
      stderrTail,
      pending,
      stopping: false,
      failAll: (e) => {
        for (const fail of [...pending]) fail(e);
      },
      ready,
      exited,
    };
    log.info(`starting engine: ${nodePath} ${this.config.enginePath} serve --stdio (${JSON.stringify(options)})`);
    return engine;
  }

  /** A notification about one job: validated, then handled when the job is one of ours. */
  private onJobNotification<E extends { jobId: string }>(
    connection: MessageConnection,
    type: NotificationType<E>,
    what: string,
    handle: (job: Job, event: E) => void,
  ): void {
    connection.onNotification(type.method, (raw: unknown) => {
      try {
        const event = type.params(raw);
        const job = this.jobs.get(event.jobId);
        if (job) handle(job, event);
      } catch (e) {
        this.config.log.warn(`ignored a malformed ${what} notification: ${(e as Error).message}`);
      }
    });
  }
}

class TimeoutError extends Error {}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new TimeoutError(`${what} timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Sends `type` over `connection` (the method name and the params object, as vscode-jsonrpc sends
 * them) and checks the reply with the request's validator (src/core): a malformed one is a
 * 'badReply' EngineError. No token, no token argument: vscode-jsonrpc would send an `undefined`
 * one as a second, positional parameter.
 */
async function send<P, R>(connection: MessageConnection, type: RequestType<P, R>, params: P, token?: CancellationToken): Promise<R> {
  const raw: unknown = await (token ? connection.sendRequest(type.method, params, token) : connection.sendRequest(type.method, params));
  try {
    return checkReply(type, raw, params);
  } catch (e) {
    if (e instanceof MalformedReplyError) throw new EngineError('badReply', `${e.message} Rebuild the engine ("node esbuild.js").`);
    throw e;
  }
}
