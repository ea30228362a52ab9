// Runs a queue of stubs one at a time through generateAndInsert (so every image is made and
// inserted exactly as its lens would), under one notification with Cancel, and "Skip Current
// Stub". What is left is saved in workspaceState before each image, so a reloaded or restarted
// window can resume (illustrateAll.ts offers it).

import * as vscode from 'vscode';
import { type GenerationRequest, type JobRunner, generateAndInsert, reportError } from '../generation/generateAndInsert';
import type { GenerationService } from '../generation/generationService';
import { progressFraction, progressText } from '../generation/progressText';
import type { Services } from '../services';
import { stubsOf } from '../stubs/documentStubs';
import { requestForStub } from '../stubs/requests';
import { type QueueItem, type SavedQueue, matchItem, parseSavedQueue } from './courseQueue';
import type { CourseReview } from './courseReview';
import { applyCourseStyle } from './courseStyle';
import { currentStub } from './findCourseStubs';
import { type CourseStyles, readCourseStyles } from './readCourseStyle';

const QUEUE_KEY = 'courseIllustrator.courseQueue';
/** Context key: a run is going on (shows "Skip Current Stub" in the palette). */
const RUNNING_CONTEXT = 'courseIllustrator.illustratingAll';
/** The same problem twice in a row (no model, engine down) would fail every stub: stop instead. */
const MAX_FAILURES_IN_A_ROW = 2;

export interface RunSummary {
  done: number;
  skipped: number;
  /** Stubs no longer there when their turn came (edited or deleted meanwhile). */
  gone: number;
  failed: number;
  /** Still saved for a later resume (after failures); 0 when the run finished or was cancelled. */
  left: number;
  cancelled: boolean;
}

type ItemOutcome = 'done' | 'skipped' | 'gone' | 'failed' | 'cancelled';

export class CourseRunner {
  private skipCurrent: (() => void) | undefined;
  private busy = false;

  constructor(
    private readonly services: Services,
    private readonly state: vscode.Memento,
    private readonly generation: GenerationService,
    private readonly review: CourseReview,
  ) {}

  get running(): boolean {
    return this.busy;
  }

  /** The queue a previous window left, if any. */
  saved(): SavedQueue | undefined {
    return parseSavedQueue(this.state.get(QUEUE_KEY));
  }

  discardSaved(): Thenable<void> {
    return this.state.update(QUEUE_KEY, undefined);
  }

  /** Skips the running stub (its job is cancelled; the run goes on). False when none runs. */
  skip(): boolean {
    if (!this.skipCurrent) return false;
    this.skipCurrent();
    return true;
  }

  async run(queue: SavedQueue): Promise<RunSummary | undefined> {
    if (this.busy) return undefined;
    const styles = await readCourseStyles([...new Set(queue.items.map((i) => i.uri))].map((u) => vscode.Uri.parse(u)));
    if (!styles) return undefined;
    this.busy = true;
    void vscode.commands.executeCommand('setContext', RUNNING_CONTEXT, true);
    try {
      await this.state.update(QUEUE_KEY, queue);
      const summary = await vscode.window.withProgress(
        // No title: the message says it all ("Illustrating 5 of 23: a plant cell — step 7/20").
        { location: vscode.ProgressLocation.Notification, cancellable: true },
        (progress, token) => this.runItems(queue, styles, progress, token),
      );
      this.report(summary);
      return summary;
    } finally {
      this.busy = false;
      this.skipCurrent = undefined;
      void vscode.commands.executeCommand('setContext', RUNNING_CONTEXT, false);
    }
  }

  private async runItems(queue: SavedQueue, styles: CourseStyles, progress: vscode.Progress<{ message?: string; increment?: number }>, token: vscode.CancellationToken): Promise<RunSummary> {
    const summary: RunSummary = { done: 0, skipped: 0, gone: 0, failed: 0, left: 0, cancelled: false };
    const thisRun = queue.items.length;
    let items = queue.items;
    let reported = 0;
    let failuresInARow = 0;
    for (let i = 0; items.length; i++) {
      if (token.isCancellationRequested) break;
      const item = items[0];
      const place = queue.total - items.length;
      const title = vscode.l10n.t('Illustrating {0} of {1}: {2}', place + 1, queue.total, shortPrompt(item.prompt));
      progress.report({ message: title });
      const outcome = await this.runItem(item, queue, (r) => ({ ...r, settings: applyCourseStyle(r.settings, styles(r.document) ?? {}, place) }), token, (e) => {
        const percent = ((i + progressFraction(e)) / thisRun) * 100;
        progress.report({ message: vscode.l10n.t('{0} — {1}', title, progressText(e)), increment: Math.max(0, percent - reported) });
        reported = Math.max(reported, percent);
      });
      if (outcome === 'cancelled') break;
      summary[outcome]++;
      failuresInARow = outcome === 'failed' ? failuresInARow + 1 : 0;
      items = items.slice(1);
      // Saved before the next image starts: a reload from here on resumes after this one.
      await this.state.update(QUEUE_KEY, items.length ? { ...queue, items } : undefined);
      if (failuresInARow >= MAX_FAILURES_IN_A_ROW && items.length) {
        summary.left = items.length;
        return summary;
      }
    }
    if (token.isCancellationRequested) {
      // The teacher stopped it: nothing to resume (Illustrate All Stubs finds what is left).
      summary.cancelled = true;
      await this.state.update(QUEUE_KEY, undefined);
    }
    return summary;
  }

  private async runItem(item: QueueItem, queue: SavedQueue, styled: (r: GenerationRequest) => GenerationRequest, runToken: vscode.CancellationToken, onProgress: JobRunner['onProgress']): Promise<ItemOutcome> {
    let document: vscode.TextDocument;
    try {
      document = await vscode.workspace.openTextDocument(vscode.Uri.parse(item.uri));
    } catch {
      this.services.log.warn(`illustrate all: ${item.uri} cannot be opened any more; skipped`);
      return 'gone';
    }
    // Found again by its prompt: images inserted above it since it was queued moved it.
    const stubs = stubsOf(document).stubs;
    const index = matchItem(item, stubs.map(currentStub), queue.includeIllustrated);
    if (index === undefined) {
      this.services.log.info(`illustrate all: "${item.prompt}" is no longer a stub in ${vscode.workspace.asRelativePath(document.uri)}; skipped`);
      return 'gone';
    }
    const cancel = new vscode.CancellationTokenSource();
    const stop = runToken.onCancellationRequested(() => cancel.cancel());
    let skipped = false;
    this.skipCurrent = () => {
      skipped = true;
      cancel.cancel();
    };
    // A run goes through lessons nobody has open: each is saved after its image goes in, so a
    // run over twenty lessons leaves no twenty unsaved documents, and a reload or crash loses no
    // link. One the teacher was editing (unsaved already) is left for them to save.
    const wasDirty = document.isDirty;
    try {
      if (queue.review) {
        // Review first: the picture waits in the Course Review view; the stub stays as it is.
        const request = styled(requestForStub(document, stubs[index]));
        request.target.dispose();
        try {
          await this.review.stage(document, stubs[index], item, request.settings, { token: cancel.token, onProgress });
          return 'done';
        } catch (e) {
          if (runToken.isCancellationRequested) return 'cancelled';
          if (skipped) return 'skipped';
          reportError(this.services, e);
          return 'failed';
        }
      }
      const outcome = await generateAndInsert(this.generation, styled(requestForStub(document, stubs[index])), { token: cancel.token, onProgress });
      if (outcome && !wasDirty && !(await document.save())) this.services.log.warn(`illustrate all: ${vscode.workspace.asRelativePath(document.uri)} could not be saved`);
      if (outcome) return 'done';
      return runToken.isCancellationRequested ? 'cancelled' : skipped ? 'skipped' : 'failed';
    } finally {
      this.skipCurrent = undefined;
      stop.dispose();
      cancel.dispose();
    }
  }

  private report(s: RunSummary): void {
    const others = [
      s.skipped ? vscode.l10n.t('{0} skipped', s.skipped) : '',
      s.gone ? vscode.l10n.t('{0} no longer there', s.gone) : '',
      s.failed ? vscode.l10n.t('{0} failed (see the messages)', s.failed) : '',
    ].filter(Boolean);
    const done = others.length ? vscode.l10n.t('{0} illustrated, {1}.', s.done, others.join(', ')) : vscode.l10n.t('{0} illustrated.', s.done);
    if (s.left) {
      const resume = vscode.l10n.t('Resume');
      void vscode.window
        .showWarningMessage(vscode.l10n.t('Stopped illustrating after two failures in a row: {0} {1} stubs left. Fix the problem, then Resume.', done, s.left), resume)
        .then((a) => a === resume && vscode.commands.executeCommand('courseIllustrator.resumeIllustrateAll'));
    } else if (s.cancelled) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Stopped illustrating: {0} Run Illustrate All Stubs again for the rest.', done));
    } else {
      void vscode.window.showInformationMessage(vscode.l10n.t('Done illustrating: {0}', done));
    }
  }
}

/** A prompt short enough for a notification line. */
function shortPrompt(prompt: string): string {
  return prompt.length > 48 ? `${prompt.slice(0, 47)}…` : prompt;
}
