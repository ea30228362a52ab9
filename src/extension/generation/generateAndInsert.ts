// The one generation flow behind every command and CodeLens: check trust and model, pick a
// destination, run the engine with a cancellable progress notification, then insert the link
// into the document the job came from.

import * as vscode from 'vscode';
import type { ContentDomain, GenerateParams, GenerateResult, GeneratedImage, ProgressEvent } from '../../core/protocol';
import { randomSeed } from '../../core/limits';
import { cleanPromptText } from '../../core/sanitize';
import { type DomainDeclaration, labelledAlt, looksMedical, templateDeclaration } from '../../core/domain';
import { withoutLoraTags } from '../../core/loraTags';
import { applyTemplate, findTemplate } from '../../core/templates';
import { isCancelled, isEngineError } from '../engine/engineError';
import { UntitledDocumentError } from '../insert/destinationFs';
import { createFolder, removeIfEmpty } from '../insert/jobFolder';
import type { TrackedRange } from '../insert/trackedPosition';
import type { CancelToken, InsertResult, InsertTarget, Services } from '../services';
import { declareMedical, jobLabel } from './domainContext';
import { finishParams } from './jobOptions';
import { userTemplates } from './userTemplateStore';
import { progressFraction, progressText } from './progressText';
import { cleanRequestText, requestTextProblem } from './requestText';

/** The engine's own parameters a request may set; missing ones come from the settings. */
type RequestParams = Pick<GenerateParams, 'prompt' | 'negativePrompt' | 'seed' | 'steps' | 'guidance' | 'width' | 'height' | 'scheduler'>;

export interface GenerationRequest extends RequestParams {
  document: vscode.Uri;
  /** Where the link goes; followed through edits while the job runs. */
  target: TrackedRange;
  /** insert at target / replace target / new line after target's line. */
  mode: 'insert' | 'replace' | 'lineAfter';
  alt: string;
  template?: string;
  /** The prompt already has the template applied (regenerating from PNG metadata). */
  templateApplied?: boolean;
  /** >1: generate this many variations and let the user choose one. */
  variations?: number;
  /** The job's own label declaration: a directive's `domain:`, or the image being made again. */
  domain?: DomainDeclaration;
  /** Words added after the prompt and its template (a course's style, course/courseStyle.ts); not in the file name or alt text. */
  style?: string;
  /** Fast mode for this image (a directive's `fast:`); undefined: the setting. */
  fast?: boolean;
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

export async function generateAndInsert(services: Services, request: GenerationRequest, storage: vscode.Uri, runner?: JobRunner): Promise<GenerationOutcome | undefined> {
  // Prompts, negative prompt and alt text go on into the job, the PNG and the document on one
  // line, without control characters (requestText.ts).
  const req = cleanRequestText(request);
  let createdFolder: vscode.Uri | undefined;
  let succeeded = false;
  try {
    if (!services.isTrusted()) {
      const manage = vscode.l10n.t('Manage Workspace Trust');
      void vscode.window.showWarningMessage(restrictedMessage(), manage).then((a) => a === manage && vscode.commands.executeCommand('workbench.trust.manage'));
      return undefined;
    }
    const problem = requestTextProblem(req);
    if (problem) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Course Illustrator: {0}', problem));
      return undefined;
    }
    for (const w of req.warnings ?? []) {
      services.log.warn(w);
      void vscode.window.showWarningMessage(vscode.l10n.t('Course Illustrator: {0}', w));
    }
    const model = await services.ensureModel();
    if (!model) return undefined;
    const config = services.config();
    const template = findTemplate(req.template, userTemplates());
    const batch = Math.max(1, req.variations ?? 1);
    const seed = req.seed ?? randomSeed();
    // The template wraps the user's subject; the alt text and the file name keep the subject.
    const templated = req.templateApplied ? req.prompt : applyTemplate(template, req.prompt);
    const prompt = req.style ? `${templated}, ${req.style}` : templated;
    // Declared, never guessed: the document, its folder or workspace, the directive, the
    // template or the image itself (domain.ts). Words that look medical only make us ask.
    const document = await vscode.workspace.openTextDocument(req.document);
    const label = jobLabel(document, [req.domain, templateDeclaration(template)]);
    const domain: ContentDomain = label.domain;
    if (domain !== 'medical' && looksMedical(prompt)) suggestMedical(services, document);
    // Resolve first: a bad destination fails before minutes of computing.
    const dest = await services.resolveImageDestination(req.document, { prompt: req.prompt, seed });
    const jobDir = batch > 1 ? vscode.Uri.joinPath(storage, 'variations', `${Date.now().toString(36)}-${seed}`) : undefined;
    // The engine writes into an existing folder; a folder made here and left empty by a failed
    // or cancelled job is removed again.
    createdFolder = await createFolder(jobDir ?? dest.folder);
    const asked: GenerateParams = {
      model,
      prompt,
      negativePrompt: req.negativePrompt ?? (cleanPromptText(config.negativePrompt) || template?.negative || undefined),
      seed,
      steps: req.steps ?? config.steps,
      guidance: req.guidance ?? config.guidance,
      width: req.width ?? config.width,
      height: req.height ?? config.height,
      scheduler: req.scheduler ?? (config.scheduler === 'default' ? undefined : config.scheduler),
      batch,
      // Only the panel shows previews; a notification has no room for them.
      previewEvery: 0,
      domain,
      labelLanguage: label.lang,
      extraParameters: template ? { Template: template.id } : undefined,
      // The engine checks again, by real path, where it writes into the workspace.
      ...(jobDir ? { outDir: jobDir.fsPath } : { outFile: dest.file.fsPath, confineTo: dest.root.fsPath }),
    };
    const params = await finishParams(asked, config, req.document, req.fast);
    if (!params) return undefined;
    services.log.info(`generate "${prompt}" (${domain}) seed ${seed} ${params.width}x${params.height} ${params.steps} steps${batch > 1 ? ` x${batch}` : ''} -> ${jobDir?.fsPath ?? dest.file.fsPath} (${dest.source})`);
    const started = Date.now();
    const result = runner ? await services.engine.generate(params, { token: runner.token, onProgress: (e) => runner.onProgress(e) }) : await generateWithProgress(services, params, batch);
    const chosen = jobDir ? await keepChosenVariation(services, req, result.images, jobDir) : result.images[0];
    if (!chosen) return undefined;
    const file = chosen.path;
    if (req.target.deleted && req.mode === 'replace') {
      void vscode.window.showWarningMessage(vscode.l10n.t('The stub was edited while the image was being made; the image was inserted where it was.'));
    }
    // Read the tracked target only when this edit's turn comes: another job's image may be
    // inserted into the same document first and move it.
    const alt = labelledAlt(withoutLoraTags(req.alt) || req.alt, domain, label.lang);
    const insert = await services.insertImage(() => insertTarget(req), file, alt);
    services.setLastImage({ path: file, alt, image: chosen, params });
    services.fireImagesWritten(req.document, [chosen]);
    services.log.info(`inserted ${insert.markdown} into ${vscode.workspace.asRelativePath(req.document)} (${Date.now() - started} ms end to end)`);
    succeeded = true;
    return { insert, file, result };
  } catch (e) {
    if (!(runner && isCancelled(e))) reportError(services, e);
    return undefined;
  } finally {
    req.target.dispose();
    if (!succeeded && createdFolder) await removeIfEmpty(createdFolder);
  }
}

/** Runs the job under a cancellable notification: engine start, queue position, steps. */
function generateWithProgress(services: Services, params: GenerateParams, batch: number): Thenable<GenerateResult> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: batch > 1 ? vscode.l10n.t('Illustrating ({0} variations)', batch) : vscode.l10n.t('Illustrating'), cancellable: true },
    async (progress, token) => {
      progress.report({ message: services.engine.pid ? vscode.l10n.t('preparing…') : vscode.l10n.t('starting the engine…') });
      let done = 0;
      return services.engine.generate(params, {
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

/**
 * Lets the user pick one of the variations in `jobDir`, copies it to the document's image
 * folder and deletes `jobDir`; returns the kept image (its new path), or undefined when none.
 */
async function keepChosenVariation(services: Services, req: GenerationRequest, images: GeneratedImage[], jobDir: vscode.Uri): Promise<GeneratedImage | undefined> {
  const chosen = await services.chooseImage(images, vscode.l10n.t('Choose a variation of "{0}"', req.prompt));
  if (!chosen) {
    await vscode.workspace.fs.delete(jobDir, { recursive: true, useTrash: false });
    return undefined;
  }
  const final = await services.resolveImageDestination(req.document, { prompt: req.prompt, seed: chosen.seed });
  await vscode.workspace.fs.copy(vscode.Uri.file(chosen.path), final.file, { overwrite: false });
  await vscode.workspace.fs.delete(jobDir, { recursive: true, useTrash: false });
  return { ...chosen, path: final.file.fsPath };
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

/** Documents whose medical-looking prompts the user said are not medical (this session). */
const notMedical = new Set<string>();

/**
 * Words that look medical in a document that declares nothing: ask whether its images should
 * carry the label, without holding up the job (the answer applies to the next images).
 */
function suggestMedical(services: Services, document: vscode.TextDocument): void {
  const key = document.uri.toString();
  if (notMedical.has(key)) return;
  notMedical.add(key); // asked once per document and session
  const name = vscode.workspace.asRelativePath(document.uri, false);
  const label = vscode.l10n.t('Label This Document');
  void vscode.window
    .showInformationMessage(
      vscode.l10n.t('This looks medical. Label the images of {0} as AI-generated teaching material, not for diagnosis?', name),
      { detail: vscode.l10n.t('Adds "illustrate: { domain: medical }" to its front matter. The image being made now is not labelled; Regenerate it after.') },
      label,
      vscode.l10n.t('Not Medical'),
    )
    .then(async (answer) => {
      if (answer !== label) return;
      if (await declareMedical(document)) services.log.info(`declared ${name} medical (front matter)`);
    });
}
