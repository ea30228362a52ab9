// The panel's bookkeeping without vscode: default form values from the settings, the list of
// jobs (running and waiting), and the results kept across reloads.

import { DEFAULTS } from '../../core/limits';
import type { GeneratedImage } from '../../core/protocol';
import { resolveSchedulerName } from '../../core/schedulerNames';
import { isRecord } from '../../core/validate';
import { PanelSettings, QueuedJob, validatePanelSettings } from '../../core/webviewMessages';
import type { ConfigSnapshot } from '../config';

export function defaultSettings(cfg: ConfigSnapshot): PanelSettings {
  return {
    prompt: '',
    negativePrompt: cfg.negativePrompt,
    width: cfg.width,
    height: cfg.height,
    steps: cfg.steps,
    guidance: cfg.guidance,
    scheduler: resolveSchedulerName(cfg.scheduler) ?? 'default',
    seed: undefined,
    seedLocked: false,
    batch: DEFAULTS.batch,
    fast: cfg.fastMode,
  };
}

/** The image a job starts from: img2img, or inpainting when a mask was painted. */
export interface JobSource {
  image: string;
  mask?: string;
}

/** Jobs this panel sent, in the order sent; positions come from the engine's queue events. */
export class JobList {
  private readonly jobs = new Map<string, QueuedJob>();

  add(jobId: string, prompt: string): void {
    this.jobs.set(jobId, { jobId, prompt, position: this.jobs.size });
  }

  setPosition(jobId: string, position: number): void {
    const j = this.jobs.get(jobId);
    if (j) this.jobs.set(jobId, { ...j, position });
  }

  remove(jobId: string): void {
    this.jobs.delete(jobId);
  }

  has(jobId: string): boolean {
    return this.jobs.has(jobId);
  }

  /** The running job: the one the engine reported at position 0, else the oldest. */
  running(): string | undefined {
    for (const j of this.jobs.values()) if (j.position === 0) return j.jobId;
    return this.jobs.keys().next().value;
  }

  list(): QueuedJob[] {
    return [...this.jobs.values()];
  }
}

/** One image in the results list; `path` never leaves the extension host. */
export interface StoredResult {
  id: string;
  path: string;
  image: GeneratedImage;
  settings: PanelSettings;
  /** The Markdown document the job was made for. */
  document?: string;
  /** The image it was redrawn from and the mask painted on it (inpainting). */
  source?: string;
  mask?: string;
  /** The copy in the course once it was inserted (a staged result stays where it is). */
  kept?: string;
}

export const MAX_STORED_RESULTS = 100;

/** Results read back from workspace state; anything malformed is dropped, not trusted. */
export function restoreResults(x: unknown): StoredResult[] {
  if (!Array.isArray(x)) return [];
  const out: StoredResult[] = [];
  for (const r of x.slice(0, MAX_STORED_RESULTS)) {
    try {
      if (!isRecord(r) || !isRecord(r.image)) continue;
      const img = r.image;
      if (typeof r.id !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(r.id) || typeof r.path !== 'string') continue;
      if (typeof img.path !== 'string' || typeof img.seed !== 'number' || typeof img.width !== 'number' || typeof img.height !== 'number') continue;
      out.push({
        id: r.id,
        path: r.path,
        image: { path: img.path, seed: img.seed, width: img.width, height: img.height, infotext: typeof img.infotext === 'string' ? img.infotext : '' },
        settings: validatePanelSettings(r.settings),
        document: typeof r.document === 'string' ? r.document : undefined,
        source: typeof r.source === 'string' ? r.source : undefined,
        mask: typeof r.mask === 'string' ? r.mask : undefined,
        kept: typeof r.kept === 'string' ? r.kept : undefined,
      });
    } catch {
      // a stale or hand-edited entry: skip it
    }
  }
  return out;
}
