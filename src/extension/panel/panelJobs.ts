// The panel's front end to the generation service: a form becomes a job; its progress and queue
// position go to the webview, its images into the results. Several jobs may wait in the engine's queue at once.

import * as vscode from 'vscode';
import type { ProgressEvent } from '../../core/protocol';
import type { PanelSettings, QueuedJob } from '../../core/webviewMessages';
import { type GenerationService, JobRefused } from '../generation/generationService';
import type { Services } from '../services';
import { JobList, type JobSource } from './panelState';
import type { PanelTarget } from './panelTarget';
import type { PanelView } from './panelView';
import { toResultImage } from './resultImage';
import type { ResultStore } from './resultStore';

export interface PanelJobsContext {
  services: Services;
  generation: GenerationService;
  view: PanelView;
  results: ResultStore;
  target: PanelTarget;
  /** Called when new images may lie outside the webview's resource roots. */
  updateRoots: () => void;
}

export class PanelJobs {
  private readonly jobs = new JobList();
  private readonly cancels = new Map<string, vscode.CancellationTokenSource>();
  /** The model of the last job; token counts and inserts name it. */
  modelPath: string | undefined;

  constructor(private readonly c: PanelJobsContext) {}

  list(): QueuedJob[] {
    return this.jobs.list();
  }

  running(): string | undefined {
    return this.jobs.running();
  }

  /** The panel is going away: every job of its own is cancelled. */
  cancelAll(): void {
    for (const cts of this.cancels.values()) cts.cancel();
  }

  /**
   * `document`: the Markdown file the image is for (default: the panel's target). `source`: the
   * image to redraw, with a mask to repaint only part of it. Results are staged in the
   * extension's storage until the teacher inserts one: nothing lands in the course unasked.
   */
  async generate(settings: PanelSettings, document?: vscode.Uri, source?: JobSource): Promise<void> {
    const { services, view } = this.c;
    const jobId = `panel-${Date.now().toString(36)}-${view.nextNumber()}`;
    const cts = new vscode.CancellationTokenSource();
    const doc = document ?? this.c.target.document();
    this.cancels.set(jobId, cts);
    this.jobs.add(jobId, settings.prompt);
    this.postQueue();
    try {
      const outcome = await this.c.generation.run(
        { settings, document: doc, destination: 'staging', source, previews: true },
        {
          jobId,
          token: cts.token,
          onProgress: (p) => this.onProgress(jobId, p),
          onQueue: (q) => {
            this.jobs.setPosition(jobId, q.position);
            this.postQueue();
          },
        },
      );
      this.modelPath = outcome.params.model;
      const result = outcome.result;
      const stored = result.images.map((image) => ({
        id: `img-${Date.now().toString(36)}-${view.nextNumber()}`,
        path: image.path,
        image,
        settings: { ...settings, seed: image.seed, seedLocked: true, batch: 1, width: image.width, height: image.height },
        document: doc?.toString(),
        source: source?.image,
        mask: source?.mask,
      }));
      this.c.results.add(stored);
      this.c.updateRoots();
      view.post({ type: 'results', jobId, images: stored.map((r) => toResultImage(r, view.panel?.webview)), seed: result.images[0]?.seed ?? outcome.params.seed ?? 0 });
      view.post({ type: 'jobEnded', jobId, outcome: 'done' });
      for (const w of result.warnings) services.log.warn(w);
      if (result.warnings.length) view.post({ type: 'notice', level: 'info', message: result.warnings.join(' ') });
    } catch (e) {
      const err = e as Error & { kind?: string };
      if (e instanceof JobRefused) {
        // Refused before it started (declined: the user was already told why).
        const message = e.reason === 'untrusted' ? vscode.l10n.t('This workspace is in Restricted Mode: trust it to generate images.') : e.message;
        view.post({ type: 'jobEnded', jobId, outcome: message ? 'failed' : 'cancelled', message: message || undefined });
        return;
      }
      const cancelled = err.kind === 'cancelled' || cts.token.isCancellationRequested;
      view.post({ type: 'jobEnded', jobId, outcome: cancelled ? 'cancelled' : 'failed', message: cancelled ? undefined : err.message });
      if (!cancelled) services.log.error(`Results panel job ${jobId} failed: ${err.message}`);
    } finally {
      this.cancels.delete(jobId);
      cts.dispose();
      this.jobs.remove(jobId);
      this.postQueue();
    }
  }

  async cancel(jobId: string | undefined): Promise<void> {
    if (!jobId || !this.jobs.has(jobId)) return;
    // The list follows the user at once: a queued job may only be dropped by the engine when
    // it reaches the front, and its last events are not shown.
    this.jobs.remove(jobId);
    this.postQueue();
    this.cancels.get(jobId)?.cancel();
    try {
      await this.c.services.engine.cancel(jobId);
    } catch (e) {
      this.c.services.log.warn(`Cancel ${jobId}: ${(e as Error).message}`);
    }
  }

  private onProgress(jobId: string, p: ProgressEvent): void {
    if (!this.jobs.has(jobId)) return; // cancelled: its last steps are not news
    this.jobs.setPosition(jobId, 0);
    this.c.view.post({
      type: 'progress',
      jobId,
      image: p.image,
      images: p.images,
      step: p.step,
      total: p.total,
      etaMs: p.etaMs,
      stage: p.stage,
      previewPng: p.preview?.pngBase64,
    });
  }

  private postQueue(): void {
    this.c.view.post({ type: 'queue', jobs: this.jobs.list() });
  }
}
