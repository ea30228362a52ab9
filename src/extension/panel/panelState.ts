// The panel's bookkeeping without vscode: default form values from the settings, the engine
// parameters for a form, the list of jobs (running and waiting), and the results kept across reloads.

import { DEFAULTS, STRENGTH } from '../../core/limits';
import type { ContentDomain, GenerateParams, GeneratedImage } from '../../core/protocol';
import { cleanPromptText } from '../../core/sanitize';
import { resolveSchedulerName } from '../../core/schedulerNames';
import { type PromptTemplate, applyTemplate, findTemplate } from '../../core/templates';
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

/** A fresh seed in A1111's range. */
export { randomSeed } from '../../core/limits';

/** The image a job starts from: img2img, or inpainting when a mask was painted. */
export interface JobSource {
  image: string;
  mask?: string;
}

export function toGenerateParams(
  s: PanelSettings,
  model: string,
  seed: number,
  out: { file?: string; folder?: string },
  previewEvery: number,
  source?: JobSource,
  /** Decided by declarations (domainContext.ts); without one, the template's. */
  domain?: ContentDomain,
  /** The user's own templates (.course-illustrator/templates.json), besides the built-in ones. */
  userTemplates: readonly PromptTemplate[] = [],
): GenerateParams {
  // As the commands do: the template wraps the subject, its negative prompt fills an empty one,
  // and the template name goes into the PNG's parameters. Prompts go out on one line without
  // control characters (src/core/sanitize.ts), whatever was typed or pasted into the form.
  const template = findTemplate(s.template, userTemplates);
  // An English prompt beside a Chinese one is what the model reads; the form's prompt stays the
  // alt text and the file name (the caller names the file from it).
  const subject = cleanPromptText(s.modelPrompt?.trim() ? s.modelPrompt : s.prompt);
  const prompt = template ? applyTemplate(template, subject) : subject;
  return {
    model,
    prompt,
    negativePrompt: cleanPromptText(s.negativePrompt) || template?.negative || undefined,
    seed,
    steps: s.steps,
    guidance: s.guidance,
    width: s.width,
    height: s.height,
    scheduler: s.scheduler === 'default' ? undefined : s.scheduler,
    batch: s.batch,
    promptWeighting: true,
    // One image: exactly the free name chosen for it; several: the engine names them by seed.
    outFile: s.batch === 1 ? out.file : undefined,
    outDir: s.batch === 1 && out.file ? undefined : out.folder,
    previewEvery,
    // Medical images (declared, or from a medical template) get the visible AI label; an
    // education template marks the image as teaching material.
    domain: domain ?? template?.domain ?? 'general',
    extraParameters: template ? { Template: template.id } : undefined,
    ...(source ? {
      initImage: source.image,
      mask: source.mask,
      strength: s.strength ?? (source.mask ? STRENGTH.inpaintDefault : STRENGTH.default),
    } : {}),
  };
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
      });
    } catch {
      // a stale or hand-edited entry: skip it
    }
  }
  return out;
}
