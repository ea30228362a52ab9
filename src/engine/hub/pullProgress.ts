// Progress of one pull: bytes on disk per file, files verified, speed and ETA. Byte reports are
// throttled (a fast link delivers thousands of chunks a second); notices and phase changes are not.

import type { ModelsPhase, ModelsProgress } from '../../core/modelsProtocol';

export type PullProgress = Omit<ModelsProgress, 'operationId'>;

/** An event from before the file list is known: nothing to count yet. */
export function earlyProgress(id: string, phase: ModelsPhase, message?: string): PullProgress {
  const p: PullProgress = { id, phase, filesDone: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0, bytesPerSecond: 0, etaSeconds: -1 };
  return message === undefined ? p : { ...p, message };
}

/** Bytes/second over the last few seconds, for speed and ETA. */
class Meter {
  private samples: { t: number; bytes: number }[] = [];
  private total = 0;
  constructor(private readonly windowMs = 5000) {}
  add(n: number): void {
    this.total += n;
    const t = Date.now();
    this.samples.push({ t, bytes: this.total });
    while (this.samples.length > 2 && t - this.samples[1].t > this.windowMs) this.samples.shift();
  }
  get bytes(): number {
    return this.total;
  }
  speed(): number {
    if (this.samples.length < 2) return 0;
    const a = this.samples[0];
    const b = this.samples[this.samples.length - 1];
    const dt = (Date.now() - a.t) / 1000;
    return dt > 0.2 ? (b.bytes - a.bytes) / dt : 0;
  }
}

export interface ReporterOptions {
  id: string;
  emit: (p: PullProgress) => void;
  /** Minimum time between two throttled reports. */
  intervalMs: number;
  filesTotal: number;
  filesDone: number;
  bytesTotal: number;
  /** Bytes already on disk per file path (verified files and part files). */
  onDisk: Map<string, number>;
}

export class PullReporter {
  private readonly meter = new Meter();
  private lastEmit = 0;
  private filesDone: number;
  /** The file named in the next report: the one most recently worked on, by any worker. */
  private currentFile: string | undefined;

  constructor(private readonly o: ReporterOptions) {
    this.filesDone = o.filesDone;
  }

  /** Bytes received over the network in this run (resumed bytes left out). */
  get downloadedBytes(): number {
    return this.meter.bytes;
  }

  working(file: string): void {
    this.currentFile = file;
  }

  /** What a file's part holds now (after a restart, a check or a deletion). */
  setOnDisk(file: string, bytes: number): void {
    this.o.onDisk.set(file, bytes);
  }

  /** New bytes of `file` written to its part. */
  received(file: string, bytes: number): void {
    this.o.onDisk.set(file, (this.o.onDisk.get(file) ?? 0) + bytes);
    this.meter.add(bytes);
    this.report('downloading', false);
  }

  fileVerified(file: string, size: number): void {
    this.filesDone++;
    this.o.onDisk.set(file, size);
  }

  /** Emits an event; `force` skips the throttle (phase changes, notices, a file finished). */
  report(phase: ModelsPhase, force: boolean, message?: string): void {
    const now = Date.now();
    if (!force && now - this.lastEmit < this.o.intervalMs) return;
    this.lastEmit = now;
    const done = this.bytesDone();
    const speed = this.meter.speed();
    this.o.emit({
      id: this.o.id,
      phase,
      file: this.currentFile,
      filesDone: this.filesDone,
      filesTotal: this.o.filesTotal,
      bytesDone: done,
      bytesTotal: this.o.bytesTotal,
      bytesPerSecond: Math.round(speed),
      etaSeconds: speed > 0 ? Math.round((this.o.bytesTotal - done) / speed) : -1,
      message,
    });
  }

  private bytesDone(): number {
    let s = 0;
    for (const v of this.o.onDisk.values()) s += v;
    return s;
  }
}
