// First in, first out; one job runs at a time. Waiting jobs hear their position as it changes.

export interface QueuedJob<T> {
  id: string;
  run: () => Promise<T>;
  onPosition?: (position: number) => void;
}

interface Entry {
  id: string;
  start: () => void;
  drop: (err: Error) => void;
  onPosition?: (position: number) => void;
}

export class JobQueue {
  private readonly waiting: Entry[] = [];
  private runningId: string | undefined;

  get running(): string | undefined {
    return this.runningId;
  }

  get length(): number {
    return this.waiting.length;
  }

  enqueue<T>(job: QueuedJob<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Entry = {
        id: job.id,
        onPosition: job.onPosition,
        drop: reject,
        start: () => {
          this.runningId = job.id;
          job.onPosition?.(0);
          job.run().then(resolve, reject).finally(() => {
            this.runningId = undefined;
            this.next();
          });
        },
      };
      this.waiting.push(entry);
      if (this.runningId === undefined && this.waiting.length === 1) this.next();
      else job.onPosition?.(this.waiting.length);
    });
  }

  /** Removes a job that has not started; returns false when it is running or unknown. */
  remove(id: string, reason: Error): boolean {
    const i = this.waiting.findIndex((e) => e.id === id);
    if (i < 0) return false;
    const [entry] = this.waiting.splice(i, 1);
    entry.drop(reason);
    this.announce();
    return true;
  }

  private next(): void {
    const entry = this.waiting.shift();
    if (!entry) return;
    this.announce();
    entry.start();
  }

  private announce(): void {
    this.waiting.forEach((e, i) => e.onPosition?.(i + 1));
  }
}
