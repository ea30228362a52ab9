// The buttons on a finished image: insert into the Markdown file, copy its Markdown, save a copy,
// make it again with a new seed, reuse its settings, show its parameters.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatOfFileName } from '../../core/convertProtocol';
import { EngineRequests } from '../../core/engineRequests';
import { parseInfotext } from '../../core/infotext';
import type { ImageAction } from '../../core/webviewMessages';
import { fromReplyError } from '../engine/engineError';
import { altForImage } from '../generation/domainContext';
import type { GenerationService } from '../generation/generationService';
import type { InsertTarget, Services } from '../services';
import { stubsOf } from '../stubs/documentStubs';
import { stubInsertTarget } from '../stubs/stubTarget';
import { altFromPrompt, markdownImage } from './markdownLink';
import type { PanelJobs } from './panelJobs';
import type { StoredResult } from './panelState';
import type { PanelTarget } from './panelTarget';
import type { PanelView } from './panelView';
import { isInside } from '../util/paths';
import type { ResultStore } from './resultStore';

export interface ResultActionsContext {
  services: Services;
  generation: GenerationService;
  view: PanelView;
  results: ResultStore;
  target: PanelTarget;
  jobs: PanelJobs;
  /** Makes a file the panel's source image (to redraw or repaint). */
  redraw: (file: string) => Promise<void>;
}

export class ResultActions {
  constructor(private readonly c: ResultActionsContext) {}

  /** `id`: an image id from the results list; a failure becomes an error notice in the panel. */
  async run(action: ImageAction, id: string): Promise<void> {
    const r = this.c.results.find(id);
    if (!r) {
      this.c.view.post({ type: 'notice', level: 'error', message: vscode.l10n.t('That image is no longer in the results list.') });
      return;
    }
    try {
      switch (action) {
        case 'insert':
          return await this.insert(r);
        case 'copyMarkdown':
          return await this.copyMarkdown(r);
        case 'saveAs':
          return await this.saveAs(r);
        case 'regenerate': {
          // Next to the original: the document it was made for, when known; from the same source
          // image and mask when it was redrawn.
          const source = r.source && fs.existsSync(r.source) ? { image: r.source, mask: r.mask && fs.existsSync(r.mask) ? r.mask : undefined } : undefined;
          return await this.c.jobs.generate({ ...r.settings, seed: undefined, seedLocked: false }, r.document ? vscode.Uri.parse(r.document) : undefined, source);
        }
        case 'redraw':
          return await this.c.redraw(r.path);
        case 'reuse':
          // All of its settings, its template or the lack of one included.
          this.c.view.post({ type: 'prefill', settings: { ...r.settings, template: r.settings.template ?? '' } });
          return;
        case 'showParameters':
          return await this.showParameters(r);
      }
    } catch (e) {
      this.c.view.post({ type: 'notice', level: 'error', message: (e as Error).message });
    }
  }

  private docFor(r: StoredResult): vscode.Uri | undefined {
    return this.c.target.document() ?? (r.document ? vscode.Uri.parse(r.document) : undefined);
  }

  private async insert(r: StoredResult): Promise<void> {
    const { services, target } = this.c;
    if (!services.isTrusted()) throw new Error(vscode.l10n.t('This workspace is in Restricted Mode: nothing is written.'));
    const doc = this.docFor(r);
    if (!doc) throw new Error(vscode.l10n.t('Open a Markdown file to insert into, then press Insert again.'));
    if (!fs.existsSync(r.path)) throw new Error(vscode.l10n.t('{0} no longer exists.', r.path));
    const document = await vscode.workspace.openTextDocument(doc);
    // Opened on a stub: the image takes the stub's place (its alt text too), as the lens does.
    const stub = stubTarget(document, target.stubIn(doc));
    const alt = altForImage(stub?.alt ?? altFromPrompt(r.settings.prompt), parseInfotext(r.image.infotext).fields, document);
    const file = await this.inCourse(r, doc);
    const done = await services.insertImage(stub?.target ?? { uri: doc, position: target.cursorIn(doc) }, file, alt);
    if (stub) target.clearStub();
    target.setCursor(doc, done.range.end);
    services.setLastImage({ path: file, alt, image: { ...r.image, path: file }, params: { model: this.c.jobs.modelPath ?? '', prompt: r.settings.prompt } });
    this.c.view.post({ type: 'notice', level: 'info', message: vscode.l10n.t('Inserted into {0}.', vscode.workspace.asRelativePath(doc, false)) });
  }

  private async copyMarkdown(r: StoredResult): Promise<void> {
    const doc = this.docFor(r);
    const ws = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    // A link must point into the course: a staged image is kept next to the document first.
    const file = doc && this.c.services.isTrusted() ? await this.inCourse(r, doc) : r.path;
    const alt = altForImage(altFromPrompt(r.settings.prompt), parseInfotext(r.image.infotext).fields, doc && (await vscode.workspace.openTextDocument(doc)));
    await vscode.env.clipboard.writeText(markdownImage(doc?.fsPath, file, alt, ws));
    this.c.view.post({ type: 'notice', level: 'info', message: vscode.l10n.t('Markdown copied to the clipboard.') });
  }

  /**
   * The result's file in the course: a staged result is copied next to `doc` the first time (its
   * image folder, a name from the prompt and seed) and that copy is used from then on.
   */
  private async inCourse(r: StoredResult, doc: vscode.Uri): Promise<string> {
    if (r.kept && fs.existsSync(r.kept)) return r.kept;
    if (!isInside(r.path, this.c.generation.stagingRoot.fsPath)) return r.path;
    const kept = await this.c.generation.keep(r.image, doc, r.settings.prompt);
    this.c.results.update(r.id, { kept: kept.path });
    return kept.path;
  }

  /**
   * A copy where the user chooses; its extension decides the format. PNG is a plain copy; JPEG
   * and WebP are converted by the engine (engine/convert), which keeps the parameters (EXIF, as
   * A1111 writes them) and the XMP AI label. Not confined to the workspace: the user picked the
   * place in the dialog, which also asked before replacing a file.
   */
  private async saveAs(r: StoredResult): Promise<void> {
    const dest = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.file(r.path),
      filters: {
        [vscode.l10n.t('PNG image')]: ['png'],
        [vscode.l10n.t('JPEG image (smaller, for slides and uploads)')]: ['jpg', 'jpeg'],
        [vscode.l10n.t('WebP image')]: ['webp'],
      },
      title: vscode.l10n.t('Save a copy of the illustration'),
    });
    if (!dest) return;
    if (dest.fsPath === r.path) return;
    const format = formatOfFileName(dest.fsPath);
    if (!format) throw new Error(vscode.l10n.t('Cannot save as {0}: choose a name ending in .png, .jpg or .webp.', path.basename(dest.fsPath)));
    if (format === 'png') {
      // Write through a temp file so a failure leaves no half file.
      const tmp = vscode.Uri.file(`${dest.fsPath}.${process.pid}.tmp`);
      await vscode.workspace.fs.copy(vscode.Uri.file(r.path), tmp, { overwrite: true });
      await vscode.workspace.fs.rename(tmp, dest, { overwrite: true });
    } else {
      const { services } = this.c;
      if (!services.isTrusted()) throw new Error(vscode.l10n.t('Saving as JPEG or WebP runs the engine, which is off in Restricted Mode. Trust this workspace, or save as PNG.'));
      const params = { source: r.path, dest: dest.fsPath, format, overwrite: true };
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Saving {0}…', path.basename(dest.fsPath)) }, async () => {
        try {
          await services.engine.models(EngineRequests.convert, params);
        } catch (e) {
          throw fromReplyError(EngineRequests.convert.method, e);
        }
      });
    }
    this.c.view.post({ type: 'notice', level: 'info', message: vscode.l10n.t('Saved {0}.', dest.fsPath) });
  }

  private async showParameters(r: StoredResult): Promise<void> {
    const copy = vscode.l10n.t('Copy');
    const answer = await vscode.window.showInformationMessage(
      vscode.l10n.t('Parameters of {0}', path.basename(r.path)),
      { modal: true, detail: r.image.infotext || JSON.stringify(r.settings, null, 2) },
      copy,
    );
    if (answer === copy) await vscode.env.clipboard.writeText(r.image.infotext);
  }
}

/**
 * Where an image for the stub the panel was opened on goes: the stub found again in the document
 * (by its prompt, nearest to where it was: lines may have moved), or undefined when it is gone.
 */
function stubTarget(document: vscode.TextDocument, wanted: { line: number; prompt: string } | undefined): { target: InsertTarget; alt: string } | undefined {
  if (!wanted) return undefined;
  const candidates = stubsOf(document).stubs.filter((s) => s.prompt === wanted.prompt);
  const stub = candidates.sort((a, b) => Math.abs(a.range.line - wanted.line) - Math.abs(b.range.line - wanted.line))[0];
  if (!stub) return undefined;
  return { target: stubInsertTarget(document.uri, stub), alt: stub.alt };
}
