// The work in flight that the engine reports on: generations (by jobId) and models/* calls (by
// operationId). Notifications find their work here, keep it alive, and reach its callbacks.

import { type CancellationToken, CancellationTokenSource, type MessageConnection } from 'vscode-jsonrpc/node';
import { EngineNotifications } from '../../core/engineRequests';
import { ModelsNotifications, type ModelsProgress } from '../../core/modelsProtocol';
import type { NotificationType } from '../../core/rpc';
import { isRecord } from '../../core/validate';
import type { CancelToken, GenerateOptions, JobEvent, Log } from '../services';

/** One generation or models/* call: its cancellation and the last sign of life from the engine. */
export class Work {
  /** When a notification about this work last arrived (0: none yet). */
  lastSignAt = 0;
  private readonly cts = new CancellationTokenSource();
  private readonly tokenSub: { dispose(): void } | undefined;
  private rearm = (): void => undefined;

  constructor(
    token: CancelToken | undefined,
    private readonly removed: () => void = () => undefined,
  ) {
    this.tokenSub = token?.onCancellationRequested(() => this.cts.cancel());
  }

  /** Fires on the caller's token and on cancel(); the call sends it on as $/cancelRequest. */
  get token(): CancellationToken {
    return this.cts.token;
  }

  /** For the call: `rearm` restarts its stall timer when news about this work arrives. */
  readonly onTouch = (rearm: () => void): void => {
    this.rearm = rearm;
  };

  touch(): void {
    this.lastSignAt = Date.now();
    this.rearm();
  }

  cancel(): void {
    this.cts.cancel();
  }

  /** Done: leaves the registry and drops the link to the caller's token. */
  dispose(): void {
    this.tokenSub?.dispose();
    this.cts.dispose();
    this.removed();
  }
}

let jobCounter = 0;

/** A fresh job id, for callers that do not pick their own. */
export function newJobId(): string {
  return `job-${Date.now().toString(36)}-${++jobCounter}`;
}

export class JobRegistry {
  private readonly jobs = new Map<string, { work: Work; options: GenerateOptions }>();
  private readonly operations = new Map<string, { work: Work; onProgress?: (p: ModelsProgress) => void }>();

  constructor(
    private readonly log: Pick<Log, 'warn'>,
    private readonly fire: (event: JobEvent) => void,
  ) {}

  /** Ids of the jobs in flight, oldest first. */
  ids(): string[] {
    return [...this.jobs.keys()];
  }

  has(jobId: string): boolean {
    return this.jobs.has(jobId);
  }

  /** Tracks a generation until the returned Work is disposed. */
  addJob(jobId: string, options: GenerateOptions): Work {
    const work = new Work(options.token, () => this.jobs.delete(jobId));
    this.jobs.set(jobId, { work, options });
    return work;
  }

  /** Tracks a models/* call; one without an operationId gets no notifications, so is not kept. */
  addOperation(operationId: string | undefined, options: { token?: CancelToken; onProgress?: (p: ModelsProgress) => void }): Work {
    if (!operationId) return new Work(options.token);
    const work = new Work(options.token, () => this.operations.delete(operationId));
    this.operations.set(operationId, { work, onProgress: options.onProgress });
    return work;
  }

  /** Cancels a job in flight; false when there is none with this id. */
  cancel(jobId: string): boolean {
    const job = this.jobs.get(jobId);
    if (!job) return false;
    job.work.cancel();
    return true;
  }

  /**
   * True when work in flight, other than `self`, had news from the engine within `withinMs`.
   * Only work actually running counts: a job that ran a minute ago says nothing about the engine
   * now, and a job the engine never mentioned proves nothing.
   */
  otherWorkAlive(self: Work | undefined, withinMs: number): boolean {
    const now = Date.now();
    const work = [...this.jobs.values(), ...this.operations.values()].map((w) => w.work);
    return work.some((w) => w !== self && w.lastSignAt > 0 && now - w.lastSignAt < withinMs);
  }

  /** Routes a new engine's notifications to the work they are about. */
  listen(connection: Pick<MessageConnection, 'onNotification'>): void {
    this.onJobNotification(connection, EngineNotifications.progress, 'progress', (job, event) => {
      // Jobs waiting in the engine's queue send nothing; the running job's progress shows
      // the engine is alive, so it keeps their stall timers from firing too.
      for (const j of this.jobs.values()) j.work.touch();
      job.options.onProgress?.(event);
      this.fire({ kind: 'progress', jobId: event.jobId, progress: event });
    });
    this.onJobNotification(connection, EngineNotifications.queue, 'queue', (job, event) => {
      job.work.touch();
      job.options.onQueue?.(event);
      this.fire({ kind: 'queued', jobId: event.jobId, position: event.position });
    });
    connection.onNotification(ModelsNotifications.progress.method, (raw: unknown) => {
      const op = isRecord(raw) && typeof raw.operationId === 'string' ? this.operations.get(raw.operationId) : undefined;
      if (!op) return;
      op.work.touch();
      if (!op.onProgress) return;
      let progress: ModelsProgress;
      try {
        progress = ModelsNotifications.progress.params(raw);
      } catch (e) {
        this.log.warn(`ignored a malformed ${ModelsNotifications.progress.method} notification: ${(e as Error).message}`);
        return;
      }
      op.onProgress(progress);
    });
  }

  /** A notification about one job: validated, then handled when the job is one of ours. */
  private onJobNotification<E extends { jobId: string }>(
    connection: Pick<MessageConnection, 'onNotification'>,
    type: NotificationType<E>,
    what: string,
    handle: (job: { work: Work; options: GenerateOptions }, event: E) => void,
  ): void {
    connection.onNotification(type.method, (raw: unknown) => {
      try {
        const event = type.params(raw);
        const job = this.jobs.get(event.jobId);
        if (job) handle(job, event);
      } catch (e) {
        this.log.warn(`ignored a malformed ${what} notification: ${(e as Error).message}`);
      }
    });
  }
}
