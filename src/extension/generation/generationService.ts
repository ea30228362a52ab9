// The one way an image is made, whichever front end asked (palette, CodeLens, course queue,
// results panel, gallery): trust → model → settings → destination → engine → result. Front ends
// only say what they want (GenerationSettings, the document, where the result goes) and pass a
// sink for progress; how they show refusals, progress and results is theirs.

import * as vscode from 'vscode';
import { templateDeclaration, looksMedical, type DomainDeclaration } from '../../core/domain';
import { toEngineParams, type GenerationSettings } from '../../core/generationSettings';
import { randomSeed } from '../../core/limits';
import type { GenerateParams, GenerateResult, GeneratedImage, ProgressEvent, QueueEvent } from '../../core/protocol';
import { findTemplate } from '../../core/templates';
import { createFolder, exists, removeIfEmpty } from '../insert/jobFolder';
import { previewDecoderPath } from '../models/previewDecoder';
import type { CancelToken, Services } from '../services';
import { type JobLabel, jobLabel } from './domainContext';
import { finishParams } from './jobOptions';
import { suggestMedical } from './suggestMedical';
import { userTemplates } from './userTemplateStore';

export interface JobRequest {
  settings: GenerationSettings;
  /** The Markdown file the image is for: its image folder, label, language and LoRA folders. */
  document?: vscode.Uri;
  /**
   * 'course': one image straight into the document's image folder. 'staging': the extension's
   * storage, where results wait until the teacher chooses one (variations, the results panel);
   * nothing lands in the course that was not asked for.
   */
  destination: 'course' | 'staging';
  /** The job's own label declaration: a directive's `domain:`, or the image being made again. */
  declaration?: DomainDeclaration;
  /** img2img, or inpainting with a mask; only read, never written. */
  source?: { image: string; mask?: string };
  /** Latent previews as the settings ask (the panel shows them; a notification has no room). */
  previews?: boolean;
}

/** Where a front end hears about its job. */
export interface JobSink {
  token?: CancelToken;
  /** The id to cancel by and to match events with; default: a fresh one. */
  jobId?: string;
  onProgress?(event: ProgressEvent): void;
  onQueue?(event: QueueEvent): void;
}

export type RefusalReason = 'untrusted' | 'no-model' | 'unknown-template' | 'source-gone' | 'no-folder' | 'declined';

/** A job that was not started; `message` says why and what to do (empty: the user was already told). */
export class JobRefused extends Error {
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
    this.name = 'JobRefused';
  }
}

export interface JobOutcome {
  params: GenerateParams;
  result: GenerateResult;
  label: JobLabel;
  /** The staging folder of this job ('staging' only): remove it when the results are dealt with. */
  stagingFolder?: vscode.Uri;
}

export class GenerationService {
  constructor(
    readonly services: Services,
    /** The extension's own storage: staged results live under it, never in the course. */
    private readonly storage: vscode.Uri,
  ) {}

  /** Staged results of all jobs; the panel tidies old ones. */
  get stagingRoot(): vscode.Uri {
    return vscode.Uri.joinPath(this.storage, 'results');
  }

  /** Runs one job; rejects with JobRefused before anything starts, or with the engine's error. */
  async run(req: JobRequest, sink: JobSink = {}): Promise<JobOutcome> {
    const { services } = this;
    if (!services.isTrusted()) throw new JobRefused('untrusted', vscode.l10n.t('Course Illustrator does not generate or write files in Restricted Mode. Trust this workspace to use it.'));
    const model = await services.ensureModel();
    if (!model) throw new JobRefused('no-model', vscode.l10n.t('No model chosen: run "Course Illustrator: Download Model…" or "Use Model Folder…".'));
    const own = userTemplates();
    const template = findTemplate(req.settings.template, own);
    if (req.settings.template && !template) {
      throw new JobRefused('unknown-template', vscode.l10n.t('The template "{0}" is not known (any more): choose another, or check .course-illustrator/templates.json.', req.settings.template));
    }
    // Checked before any folder is made: a refused job leaves nothing behind.
    if (req.source && !(await exists(vscode.Uri.file(req.source.image)))) {
      throw new JobRefused('source-gone', vscode.l10n.t('The image to redraw is gone ({0}); choose it again.', req.source.image));
    }
    const config = services.config();
    const seed = req.settings.seed ?? randomSeed();
    // Declared, never guessed: the document, its folder or workspace, the job, the template
    // (domain.ts). Words that look medical only make us ask.
    const markdown = req.document?.scheme === 'file' ? await vscode.workspace.openTextDocument(req.document) : undefined;
    const label = jobLabel(markdown, [req.declaration, templateDeclaration(template)]);
    const output = await this.output(req, seed);
    const asked = toEngineParams(req.settings, {
      model,
      seed,
      defaults: config,
      template,
      domain: label.domain,
      labelLanguage: label.lang,
      output: output.params,
      previewEvery: req.previews ? config.previewEvery || 1 : 0,
      source: req.source,
    });
    if (label.domain !== 'medical' && markdown && looksMedical(asked.prompt)) suggestMedical(services, markdown);
    // The engine writes into an existing folder only; one made here and left empty by a failed
    // or cancelled job is removed again.
    const created = await createFolder(output.folder);
    let succeeded = false;
    try {
      const params = await finishParams(asked, config, req.document, req.settings.fast);
      if (!params) throw new JobRefused('declined', '');
      if (req.previews) params.previewDecoder = await previewDecoderPath();
      services.log.info(
        `generate "${params.prompt}" (${label.domain}) seed ${seed} ${params.width}x${params.height} ${params.steps} steps${(params.batch ?? 1) > 1 ? ` x${params.batch}` : ''} -> ${params.outFile ?? params.outDir}`,
      );
      const result = await services.engine.generate(params, { token: sink.token, jobId: sink.jobId, onProgress: sink.onProgress, onQueue: sink.onQueue });
      succeeded = true;
      return { params, result, label, stagingFolder: req.destination === 'staging' ? output.folder : undefined };
    } finally {
      if (!succeeded && created) await removeIfEmpty(created);
    }
  }

  /**
   * Copies a staged image into the course next to `document` (its image folder, a free name from
   * the prompt and seed); the staged file stays, so the results list keeps working.
   */
  async keep(image: GeneratedImage, document: vscode.Uri, prompt: string): Promise<GeneratedImage> {
    const dest = await this.services.resolveImageDestination(document, { prompt, seed: image.seed });
    await createFolder(dest.folder);
    await vscode.workspace.fs.copy(vscode.Uri.file(image.path), dest.file, { overwrite: false });
    this.services.fireImagesWritten(document, [{ ...image, path: dest.file.fsPath }]);
    return { ...image, path: dest.file.fsPath };
  }

  private async output(req: JobRequest, seed: number): Promise<{ folder: vscode.Uri; params: { outFile: string; confineTo: string } | { outDir: string } }> {
    const batch = req.settings.batch ?? 1;
    if (req.destination === 'course' && batch === 1) {
      if (!req.document) throw new JobRefused('no-folder', vscode.l10n.t('Open a Markdown file first: the illustration is inserted at its cursor.'));
      // Resolved first: a bad destination fails before minutes of computing. The engine checks
      // again, by real path, where it writes into the workspace.
      const dest = await this.services.resolveImageDestination(req.document, { prompt: req.settings.prompt, seed });
      return { folder: dest.folder, params: { outFile: dest.file.fsPath, confineTo: dest.root.fsPath } };
    }
    const folder = vscode.Uri.joinPath(this.stagingRoot, `${Date.now().toString(36)}-${seed}`);
    return { folder, params: { outDir: folder.fsPath } };
  }
}
