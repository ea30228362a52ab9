// The panel's jobs: a form becomes an engine job; its progress and queue position go to the
// webview, its images into the results. Several jobs may wait in the engine's queue at once.

import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { GenerateParams, ProgressEvent } from '../../core/protocol';
import type { PanelSettings, QueuedJob } from '../../core/webviewMessages';
import { templateDeclaration } from '../../core/domain';
import { findTemplate } from '../../core/templates';
import { jobLabel } from '../generation/domainContext';
import { finishParams } from '../generation/jobOptions';
import { userTemplates } from '../generation/userTemplateStore';
import { previewDecoderPath } from '../models/previewDecoder';
import type { Services } from '../services';
import { JobList, JobSource, randomSeed, toGenerateParams } from './panelState';
import type { PanelTarget } from './panelTarget';
import type { PanelView } from './panelView';
import { toResultImage } from './resultImage';
import type { ResultStore } from './resultStore';

export interface PanelJobsContext {
  services: Services;
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
   * image to redraw, with a mask to repaint only part of it; its result is a new file, the
   * source is never written.
   */
  async generate(settings: PanelSettings, document?: vscode.Uri, source?: JobSource): Promise<void> {
    const { services, view } = this.c;
    if (!services.isTrusted()) {
      view.post({ type: 'notice', level: 'error', message: vscode.l10n.t('This workspace is in Restricted Mode: trust it to generate images.') });
      return;
    }
    let jobId: string | undefined;
    try {
      const model = await services.ensureModel();
      if (!model) {
        view.post({ type: 'notice', level: 'error', message: vscode.l10n.t('No model chosen: run "Course Illustrator: Download Model…" or "Use Model Folder…".') });
        return;
      }
      this.modelPath = model;
      const own = userTemplates();
      const template = findTemplate(settings.template, own);
      if (settings.template && !template) {
        view.post({ type: 'notice', level: 'error', message: vscode.l10n.t('The template "{0}" is not known (any more): choose another, or check .course-illustrator/templates.json.', settings.template) });
        return;
      }
      // Checked before any folder is made: a refused job leaves nothing behind.
      if (source && !fs.existsSync(source.image)) throw new Error(vscode.l10n.t('The image to redraw is gone ({0}); choose it again.', source.image));
      const seed = settings.seed ?? randomSeed();
      const dest = await this.destination(document ?? this.c.target.document(), settings.prompt, seed);
      // The engine writes into an existing folder only; the first image of a lesson creates it.
      const createdFolder = !fs.existsSync(dest.folder);
      await vscode.workspace.fs.createDirectory(vscode.Uri.file(dest.folder));
      const markdown = dest.document ? await vscode.workspace.openTextDocument(dest.document) : undefined;
      const label = jobLabel(markdown, [templateDeclaration(template)]);
      const asked = toGenerateParams(settings, model, seed, dest, services.config().previewEvery || 1, source, label.domain, own);
      const params = await finishParams(asked, services.config(), dest.document, settings.fast === true);
      if (!params) {
        if (createdFolder) await fs.promises.rmdir(dest.folder).catch(() => undefined);
        return;
      }
      params.labelLanguage = label.lang;
      params.previewDecoder = await previewDecoderPath();
      params.confineTo = dest.root;
      jobId = `panel-${Date.now().toString(36)}-${view.nextNumber()}`;
      const ok = await this.runJob(jobId, params, settings, dest.document, source);
      // A cancelled or failed first job leaves no empty folder behind.
      if (!ok && createdFolder) await fs.promises.rmdir(dest.folder).catch(() => undefined);
    } catch (e) {
      view.post({ type: 'notice', level: 'error', message: (e as Error).message });
      if (jobId) view.post({ type: 'jobEnded', jobId, outcome: 'failed', message: (e as Error).message });
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

  private async destination(doc: vscode.Uri | undefined, prompt: string, seed: number): Promise<{ file?: string; folder: string; root: string; document?: vscode.Uri }> {
    if (doc && doc.scheme === 'file') {
      const d = await this.c.services.resolveImageDestination(doc, { prompt, seed });
      return { file: d.file.fsPath, folder: d.folder.fsPath, root: d.root.fsPath, document: doc };
    }
    const ws = vscode.workspace.workspaceFolders?.[0];
    if (!ws) throw new Error(vscode.l10n.t('Open a folder (or a Markdown file in a folder) first: images are saved next to your course.'));
    return { folder: vscode.Uri.joinPath(ws.uri, 'images').fsPath, root: ws.uri.fsPath };
  }

  /** True when the job finished and its images are in the results. */
  private async runJob(jobId: string, params: GenerateParams, settings: PanelSettings, document: vscode.Uri | undefined, source: JobSource | undefined): Promise<boolean> {
    const { services, view } = this.c;
    const cts = new vscode.CancellationTokenSource();
    this.cancels.set(jobId, cts);
    this.jobs.add(jobId, settings.prompt);
    this.postQueue();
    try {
      const result = await services.engine.generate(params, {
        jobId,
        token: cts.token,
        onProgress: (p) => this.onProgress(jobId, p),
        onQueue: (q) => {
          this.jobs.setPosition(jobId, q.position);
          this.postQueue();
        },
      });
      const stored = result.images.map((image) => ({
        id: `img-${Date.now().toString(36)}-${view.nextNumber()}`,
        path: image.path,
        image,
        settings: { ...settings, seed: image.seed, seedLocked: true, batch: 1, width: image.width, height: image.height },
        document: document?.toString(),
        source: source?.image,
        mask: source?.mask,
      }));
      this.c.results.add(stored);
      // CodeLenses and the gallery pick the new files up at once (not only through file watching).
      services.fireImagesWritten(document, result.images);
      this.c.updateRoots();
      view.post({ type: 'results', jobId, images: stored.map((r) => toResultImage(r, view.panel?.webview)), seed: result.images[0]?.seed ?? params.seed ?? 0 });
      view.post({ type: 'jobEnded', jobId, outcome: 'done' });
      for (const w of result.warnings) services.log.warn(w);
      if (result.warnings.length) view.post({ type: 'notice', level: 'info', message: result.warnings.join(' ') });
      return true;
    } catch (e) {
      const err = e as Error & { kind?: string };
      const cancelled = err.kind === 'cancelled' || cts.token.isCancellationRequested;
      view.post({ type: 'jobEnded', jobId, outcome: cancelled ? 'cancelled' : 'failed', message: cancelled ? undefined : err.message });
      if (!cancelled) services.log.error(`Results panel job ${jobId} failed: ${err.message}`);
      return false;
    } finally {
      this.cancels.delete(jobId);
      cts.dispose();
      this.jobs.remove(jobId);
      this.postQueue();
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
