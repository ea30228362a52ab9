// "Illustrate All Stubs": the pure part, without vscode, so it is unit-tested in plain Node:
// the order of the documents, what is saved in workspaceState between windows, finding a saved
// stub again after lines moved, the engine's measured speed and the time estimate.

import * as l10n from '@vscode/l10n';

export type StubKind = 'empty-link' | 'directive';

/** One stub waiting in the queue. Lines move as images go in: the prompt identifies it. */
export interface QueueItem {
  /** The document, as vscode.Uri.toString(). */
  uri: string;
  /** 0-based line when it was found (a hint: the nearest stub with this prompt is taken). */
  line: number;
  prompt: string;
  kind: StubKind;
}

/** What workspaceState keeps while a run goes on; a reloaded window offers to resume it. */
export interface SavedQueue {
  version: 1;
  /** Items the run started with (for "5 of 23"). */
  total: number;
  /** Directives that already have an image are made again too. */
  includeIllustrated: boolean;
  /** Images wait in the Course Review view instead of going in at once (courseReview.ts). */
  review?: boolean;
  /** Still to do, in order; the running one stays first until its link is in. */
  items: QueueItem[];
}

/** A stub as the document shows it now, for matching a saved item. */
export interface CurrentStub {
  line: number;
  prompt: string;
  kind: StubKind;
  /** A directive with an image on the line below. */
  illustrated: boolean;
}

/** Lesson order: by path, with numbers compared as numbers (lesson-2 before lesson-10). */
export function orderDocuments(paths: readonly string[]): string[] {
  const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
  return [...paths].sort((a, b) => collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** Whether a run takes this stub: directives with an image are only made again when asked. */
export function wanted(stub: Pick<CurrentStub, 'illustrated'>, includeIllustrated: boolean): boolean {
  return includeIllustrated || !stub.illustrated;
}

/**
 * The index in `stubs` of the saved item: same kind and prompt, still wanted, the nearest to its
 * old line (earlier images put lines in between; an identical stub further away is a later
 * item's). Undefined when it is gone: replaced by its link already, or deleted.
 */
export function matchItem(item: QueueItem, stubs: readonly CurrentStub[], includeIllustrated: boolean): number | undefined {
  let best: number | undefined;
  stubs.forEach((s, i) => {
    if (s.kind !== item.kind || s.prompt !== item.prompt || !wanted(s, includeIllustrated)) return;
    if (best === undefined || Math.abs(s.line - item.line) < Math.abs(stubs[best].line - item.line)) best = i;
  });
  return best;
}

/** workspaceState's value read back: anything malformed (an older version, a hand edit) is none. */
export function parseSavedQueue(raw: unknown): SavedQueue | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const q = raw as Partial<SavedQueue>;
  if (q.version !== 1 || !Array.isArray(q.items) || typeof q.total !== 'number') return undefined;
  const items = q.items.filter(
    (i): i is QueueItem =>
      !!i &&
      typeof i.uri === 'string' &&
      typeof i.prompt === 'string' &&
      Number.isInteger(i.line) &&
      i.line >= 0 &&
      (i.kind === 'empty-link' || i.kind === 'directive'),
  );
  if (!items.length) return undefined;
  return { version: 1, total: Math.max(q.total, items.length), includeIllustrated: q.includeIllustrated === true, ...(q.review === true ? { review: true } : {}), items: items.map((i) => ({ uri: i.uri, line: i.line, prompt: i.prompt, kind: i.kind })) };
}

// ------------------------------------------------------------------ speed and estimate

/** The engine's measured speed, kept in workspaceState from finished jobs. */
export interface Speed {
  /** Seconds per UNet step per megapixel of image (VAE and prompt included, model loading not). */
  secondsPerStepPerMegapixel: number;
  /** Jobs measured so far. */
  jobs: number;
}

/**
 * A first guess before any job was measured: about 2.5 min for 20 steps at 512x512, a laptop
 * CPU's speed (README: "a few minutes"). Said as a guess wherever it is used.
 */
export const DEFAULT_SECONDS_PER_STEP_PER_MEGAPIXEL = 30;

export interface MeasuredJob {
  steps: number;
  width: number;
  height: number;
  images: number;
  totalMs: number;
  /** Loading the model happens once per engine start, not once per image: left out. */
  loadMs: number;
}

/** The running figure after one more job: a moving average that follows a changed machine or setting in a few jobs. */
export function updateSpeed(old: Speed | undefined, job: MeasuredJob): Speed | undefined {
  const work = job.steps * ((job.width * job.height) / 1e6) * Math.max(1, job.images);
  const seconds = (job.totalMs - job.loadMs) / 1000;
  if (!(work > 0) || !(seconds > 0) || !Number.isFinite(seconds)) return old;
  const measured = seconds / work;
  if (!old) return { secondsPerStepPerMegapixel: measured, jobs: 1 };
  return { secondsPerStepPerMegapixel: old.secondsPerStepPerMegapixel * 0.7 + measured * 0.3, jobs: old.jobs + 1 };
}

export function parseSpeed(raw: unknown): Speed | undefined {
  const s = raw as Partial<Speed> | undefined;
  return s && typeof s.secondsPerStepPerMegapixel === 'number' && s.secondsPerStepPerMegapixel > 0 && typeof s.jobs === 'number' ? { secondsPerStepPerMegapixel: s.secondsPerStepPerMegapixel, jobs: s.jobs } : undefined;
}

export interface JobSize {
  steps: number;
  width: number;
  height: number;
}

/** Seconds the jobs take at `speed` (the default guess when none was measured). */
export function estimateSeconds(jobs: readonly JobSize[], speed: Speed | undefined): number {
  const rate = speed?.secondsPerStepPerMegapixel ?? DEFAULT_SECONDS_PER_STEP_PER_MEGAPIXEL;
  return jobs.reduce((sum, j) => sum + j.steps * ((j.width * j.height) / 1e6) * rate, 0);
}

/** "under a minute", "about 40 min", "about 2 h 10 min": an estimate, so rounded. */
export function estimateText(seconds: number): string {
  if (seconds < 60) return l10n.t('under a minute');
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return l10n.t('about {0} min', minutes);
  const rounded = Math.round(minutes / 10) * 10;
  return rounded % 60 ? l10n.t('about {0} h {1} min', Math.floor(rounded / 60), rounded % 60) : l10n.t('about {0} h', rounded / 60);
}
