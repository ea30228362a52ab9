// The one generation flow behind every command and CodeLens: check trust and model, pick a
// destination, run the engine with a cancellable progress notification, then insert the link
// into the document the job came from.

import * as vscode from 'vscode';
import type { DomainDeclaration } from '../../core/domain';
import { labelledAlt } from '../../core/domain';
import type { GenerationSettings } from '../../core/generationSettings';
import type { GenerateResult, GeneratedImage, ProgressEvent } from '../../core/protocol';
import { withoutLoraTags } from '../../core/loraTags';
import { isCancelled, isEngineError } from '../engine/engineError';
import { UntitledDocumentError } from '../insert/destinationFs';
import type { TrackedRange } from '../insert/trackedPosition';
import type { CancelToken, InsertResult, InsertTarget, Services } from '../services';
import { type GenerationService, JobRefused } from './generationService';
import { progressFraction, progressText } from './progressText';
import { cleanRequestText, requestTextProblem } from './requestText';

export interface GenerationRequest {
  /** What to make; `batch` > 1: that many variations, and the user chooses one. */
  settings: GenerationSettings;
  document: vscode.Uri;
  /** Where the link goes; followed through edits while the job runs. */
  target: TrackedRange;
  /** insert at target / replace target / new line after target's line. */
  mode: 'insert' | 'replace' | 'lineAfter';
  alt: string;
  /** The job's own label declaration: a directive's `domain:`, or the image being made again. */
  domain?: DomainDeclaration;
  /** The prompt was read from an image's parameters: it may be a whole prompt, a template's words included. */
  fromImage?: boolean;
  /**
   * What was changed to bring the request within the limits (values from a PNG's metadata),
   * one sentence each; shown before the job starts.
   */
  warnings?: string[];
}

export interface GenerationOutcome {
  insert: InsertResult;
  file: string;
  result: GenerateResult;
}

export function restrictedMessage(): string {
  return vscode.l10n.t('Course Illustrator does not generate or write files in Restricted Mode. Trust this workspace to use it.');
}

/**
 * A caller that shows progress itself ("Illustrate All Stubs": one notification for the whole
 * run): the job reports to it and stops with its token, and a cancelled job says nothing.
 */
export interface JobRunner {
  token: CancelToken;
  onProgress(event: ProgressEvent): void;
}

/** The commands' and CodeLenses' front end to the generation service: a notification, then the link. */
export async function generateAndInsert(generation: GenerationService, request: GenerationRequest, runner?: JobRunner): Promise<GenerationOutcome | undefined> {
  const { services } = generation;
  // Prompts, negative prompt and alt text go on into the job, the PNG and the document on one
  // line, without control characters (requestText.ts).
  const req = cleanRequestText(request);
  let stagingFolder: vscode.Uri | undefined;
  try {
    const problem = requestTextProblem(req);
    if (problem) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Course Illustrator: {0}', problem));
      return undefined;
    }
    for (const w of req.warnings ?? []) {
      services.log.warn(w);
      void vscode.window.showWarningMessage(vscode.l10n.t('Course Illustrator: {0}', w));
    }
    const batch = Math.max(1, req.settings.batch ?? 1);
    const started = Date.now();
    const job = { settings: req.settings, document: req.document, declaration: req.domain, destination: batch > 1 ? ('staging' as const) : ('course' as const) };
    const outcome = runner
      ? await generation.run(job, { token: runner.token, onProgress: (e) => runner.onProgress(e) })
      : await withProgressNotification(services, batch, (sink) => generation.run(job, sink));
    stagingFolder = outcome.stagingFolder;
    const chosen = stagingFolder ? await chooseVariation(generation, req, outcome.result.images) : outcome.result.images[0];
    if (!chosen) return undefined;
    const file = chosen.path;
    if (req.target.deleted && req.mode === 'replace') {
      void vscode.window.showWarningMessage(vscode.l10n.t('The stub was edited while the image was being made; the image was inserted where it was.'));
    }
    // Read the tracked target only when this edit's turn comes: another job's image may be
    // inserted into the same document first and move it.
    const alt = labelledAlt(withoutLoraTags(req.alt) || req.alt, outcome.label.domain, outcome.label.lang);
    const insert = await services.insertImage(() => insertTarget(req), file, alt);
    services.setLastImage({ path: file, alt, image: chosen, params: outcome.params });
    if (!stagingFolder) services.fireImagesWritten(req.document, [chosen]);
    services.log.info(`inserted ${insert.markdown} into ${vscode.workspace.asRelativePath(req.document)} (${Date.now() - started} ms end to end)`);
    return { insert, file, result: outcome.result };
  } catch (e) {
    if (!(runner && isCancelled(e))) reportError(services, e);
    return undefined;
  } finally {
    req.target.dispose();
    if (stagingFolder) await vscode.workspace.fs.delete(stagingFolder, { recursive: true, useTrash: false }).then(undefined, () => undefined);
  }
}

/** Runs the job under a cancellable notification: engine start, queue position, steps. */
function withProgressNotification<T>(services: Services, batch: number, run: (sink: { token: CancelToken; onProgress: (e: ProgressEvent) => void; onQueue: (q: { position: number }) => void }) => Promise<T>): Thenable<T> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: batch > 1 ? vscode.l10n.t('Illustrating ({0} variations)', batch) : vscode.l10n.t('Illustrating'), cancellable: true },
    async (progress, token) => {
      progress.report({ message: services.engine.pid ? vscode.l10n.t('preparing…') : vscode.l10n.t('starting the engine…') });
      let done = 0;
      return run({
        token,
        onQueue: (q) => q.position > 0 && progress.report({ message: q.position > 1 ? vscode.l10n.t('waiting ({0} jobs ahead)…', q.position) : vscode.l10n.t('waiting (1 job ahead)…') }),
        onProgress: (e) => {
          const fraction = progressFraction(e) * 100;
          progress.report({ message: progressText(e), increment: Math.max(0, fraction - done) });
          done = Math.max(done, fraction);
        },
      });
    },
  );
}

/** Lets the user pick one of the staged variations and keeps it in the course; undefined when none. */
async function chooseVariation(generation: GenerationService, req: GenerationRequest, images: GeneratedImage[]): Promise<GeneratedImage | undefined> {
  const chosen = await generation.services.chooseImage(images, vscode.l10n.t('Choose a variation of "{0}"', req.settings.prompt));
  return chosen && generation.keep(chosen, req.document, req.settings.prompt);
}

function insertTarget(req: GenerationRequest): InsertTarget {
  const r = req.target.range;
  if (req.mode === 'replace' && !req.target.deleted) return { uri: req.document, range: r };
  if (req.mode === 'lineAfter' && !req.target.deleted) return { uri: req.document, lineAfter: r.start.line };
  return { uri: req.document, position: r.start };
}

export function reportError(services: Services, e: unknown): void {
  if (isCancelled(e)) {
    void vscode.window.showInformationMessage(vscode.l10n.t('Illustration cancelled.'));
    return;
  }
  if (e instanceof JobRefused) {
    if (e.reason === 'untrusted') {
      const manage = vscode.l10n.t('Manage Workspace Trust');
      void vscode.window.showWarningMessage(e.message, manage).then((a) => a === manage && vscode.commands.executeCommand('workbench.trust.manage'));
    } else if (e.message && e.reason !== 'no-model') {
      // no model: the first-run choice already asked; declined: the user was told why.
      void vscode.window.showErrorMessage(vscode.l10n.t('Course Illustrator: {0}', e.message));
    }
    return;
  }
  if (e instanceof UntitledDocumentError) {
    const save = vscode.l10n.t('Save');
    void vscode.window.showWarningMessage(e.message, save).then((a) => a === save && vscode.commands.executeCommand('workbench.action.files.save'));
    return;
  }
  const message = e instanceof Error ? e.message : String(e);
  if (!isEngineError(e)) services.log.error(message);
  const showLog = vscode.l10n.t('Show Engine Log');
  void vscode.window.showErrorMessage(message, showLog).then((a) => a === showLog && services.log.show());
}
