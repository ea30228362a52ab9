// One queue for every client of the HTTP server: the engine runs one job at a time, first in,
// first out (its own JobQueue), and this bounds how many may wait, gives each request a way to
// be cancelled (client gone, timeout, interrupt, shutdown) and keeps the state /progress reports,
// in the shape of A1111's shared.state.

import { GenerateParams, GenerateResult, ProgressEvent } from '../../core/protocol';
import { Engine } from '../engine';
import { a1111Error } from './httpError';
import { jobTimestamp } from './a1111Response';

export type CancelReason = 'interrupt' | 'skip' | 'disconnect' | 'timeout' | 'shutdown';

export interface Submitted {
  /** Admission order, 1, 2, 3...: jobs finish in this order. */
  ticket: number;
  result: Promise<GenerateResult>;
  cancel(reason: CancelReason): void;
  /** Why the job was cancelled, if it was. */
  readonly reason: CancelReason | undefined;
  /** job_timestamp of the run, once it started. */
  readonly timestamp: string;
}

interface Entry {
  id: string;
  ticket: number;
  images: number;
  job: string;
  reason?: CancelReason;
  timestamp: string;
}

interface Running {
  entry: Entry;
  startedAt: number;
  image: number;
  step: number;
  total: number;
  stage: ProgressEvent['stage'];
  preview?: string;
}

export interface ProgressResponse {
  progress: number;
  eta_relative: number;
  state: Record<string, unknown>;
  current_image: string | null;
  textinfo: string | null;
}

export class RequestQueue {
  private accepted = 0;
  private tickets = 0;
  private running: Running | undefined;
  private closed = false;
  private readonly entries = new Map<string, Entry>();
  private readonly settled = new Set<Promise<unknown>>();
  /** Mean seconds per finished job, for Retry-After. */
  private meanJobS = 0;
  private finishedJobs = 0;

  constructor(private readonly engine: Engine, readonly maxQueue: number) {}

  /** True when a new job would be refused. */
  isFull(): boolean {
    return this.accepted >= this.maxQueue + 1;
  }

  status(): { running: string | undefined; waiting: number; accepted: number } {
    return { running: this.running?.entry.id, waiting: this.accepted - (this.running ? 1 : 0), accepted: this.accepted };
  }

  /** Throws 503 when shutting down, 429 with Retry-After when the queue is full. */
  admit(): void {
    if (this.closed) throw a1111Error(503, 'The server is shutting down; try again when it is back.');
    if (this.isFull()) {
      const wait = Math.max(1, Math.ceil(this.accepted * (this.meanJobS || 10)));
      throw a1111Error(429, `The queue is full (${this.maxQueue} waiting behind the running job); try again in about ${wait} s.`, { 'Retry-After': String(wait) });
    }
  }

  /** Queues a job, or throws as admit() does. */
  submit(params: GenerateParams, job: 'txt2img' | 'img2img'): Submitted {
    this.admit();
    const ticket = ++this.tickets;
    const entry: Entry = { id: `serve-${ticket}`, ticket, images: params.batch ?? 1, job: `scripts_${job}`, timestamp: '0' };
    this.accepted++;
    this.entries.set(entry.id, entry);
    const result = this.engine.generate({ ...params, jobId: entry.id }, {
      queue: (position) => {
        if (position === 0) this.start(entry);
      },
      progress: (e) => this.onProgress(entry, e),
      cancelled: () => entry.reason !== undefined,
    });
    const done = result.then(
      () => this.finish(entry, true),
      () => this.finish(entry, false),
    );
    this.settled.add(done);
    void done.finally(() => this.settled.delete(done));
    return {
      ticket,
      result,
      cancel: (reason) => this.cancel(entry, reason),
      get reason() { return entry.reason; },
      get timestamp() { return entry.timestamp; },
    };
  }

  /** A1111's /interrupt: stops the running job before its next step; queued jobs go on. */
  interrupt(): void {
    if (this.running) this.cancel(this.running.entry, 'interrupt');
  }

  /**
   * A1111's /skip skips the image being made and goes on with the batch; the engine stops a job
   * as a whole, so here it stops the running job as /interrupt does, and says "skipped".
   */
  skip(): void {
    if (this.running) this.cancel(this.running.entry, 'skip');
  }

  /** Refuses new jobs, cancels every queued and running one, and waits until all have ended. */
  async shutdown(): Promise<void> {
    this.closed = true;
    // Queued ones first, so none starts when the running one stops.
    const queued = [...this.entries.values()].filter((e) => e !== this.running?.entry);
    for (const e of queued) this.cancel(e, 'shutdown');
    if (this.running) this.cancel(this.running.entry, 'shutdown');
    await Promise.allSettled([...this.settled]);
  }

  progress(skipCurrentImage: boolean): ProgressResponse {
    const r = this.running;
    if (!r) {
      return {
        progress: 0, eta_relative: 0, current_image: null, textinfo: null,
        state: {
          skipped: false, interrupted: false, stopping_generation: false, job: '', job_count: 0,
          job_timestamp: '0', job_no: 0, sampling_step: 0, sampling_steps: 0,
        },
      };
    }
    // A1111's formula (api.py progressapi): 0.01 so it never divides by zero, then the share of
    // jobs done and of the current one's steps. A1111 counts batches; the engine makes the
    // images of a request one after another, so here each image is a "job".
    let progress = 0.01 + r.image / r.entry.images;
    if (r.total > 0) progress += (1 / r.entry.images) * (r.step / r.total);
    const elapsed = (performance.now() - r.startedAt) / 1000;
    const eta = elapsed / progress - elapsed;
    return {
      progress: Math.min(progress, 1),
      eta_relative: eta,
      current_image: skipCurrentImage ? null : r.preview ?? null,
      textinfo: r.stage === 'load' ? 'Loading model' : r.stage === 'denoise' ? `Sampling step ${r.step}/${r.total}` : null,
      state: {
        skipped: r.entry.reason === 'skip',
        interrupted: r.entry.reason === 'interrupt',
        stopping_generation: false,
        job: r.entry.job,
        job_count: r.entry.images,
        job_timestamp: r.entry.timestamp,
        job_no: r.image,
        sampling_step: r.step,
        sampling_steps: r.total,
      },
    };
  }

  private start(entry: Entry): void {
    entry.timestamp = jobTimestamp();
    this.running = { entry, startedAt: performance.now(), image: 0, step: 0, total: 0, stage: 'load' };
  }

  private onProgress(entry: Entry, e: ProgressEvent): void {
    const r = this.running;
    if (r?.entry !== entry) return;
    r.stage = e.stage;
    r.image = e.image;
    if (e.stage === 'denoise') {
      r.step = e.step;
      r.total = e.total;
    }
    if (e.preview) r.preview = e.preview.pngBase64;
  }

  private cancel(entry: Entry, reason: CancelReason): void {
    if (entry.reason !== undefined || !this.entries.has(entry.id)) return;
    entry.reason = reason;
    // Drops it from the engine's queue, or stops it before its next UNet call.
    this.engine.cancel(entry.id);
  }

  private finish(entry: Entry, ok: boolean): void {
    this.entries.delete(entry.id);
    this.accepted--;
    if (this.running?.entry === entry) {
      if (ok) {
        const s = (performance.now() - this.running.startedAt) / 1000;
        this.finishedJobs++;
        this.meanJobS += (s - this.meanJobS) / this.finishedJobs;
      }
      this.running = undefined;
    }
  }
}
