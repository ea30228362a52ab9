// The results panel controller: one WebviewPanel, restored after a reload by its serializer.
// It turns form submissions into engine jobs, forwards progress and queue events, and carries out
// the actions on finished images. The webview names images only by ids from `results`.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { settingsFromEntry } from '../../core/galleryIndex';
import { parseInfotext } from '../../core/infotext';
import type { GenerateParams, GeneratedImage, ProgressEvent } from '../../core/protocol';
import { formatTokenCount } from '../../core/tokenDisplay';
import { isRecord } from '../../core/validate';
import {
  FromPanel,
  ImageAction,
  PanelSettings,
  ResultImage,
  ToPanel,
  validateFromPanel,
  validatePanelSettings,
} from '../../core/webviewMessages';
import type { Services } from '../services';
import { Disposable } from '../util/dispose';
import { altFromPrompt, markdownImage } from './markdownLink';
import { panelBody } from './panelHtml';
import { JobList, MAX_STORED_RESULTS, StoredResult, defaultSettings, randomSeed, restoreResults, toGenerateParams } from './panelState';
import { resourceRoots, webviewHtml } from './webviewHtml';

export const PANEL_VIEW_TYPE = 'courseIllustrator.panel';
const RESULTS_KEY = 'courseIllustrator.panel.results';
const TARGET_KEY = 'courseIllustrator.panel.target';

export interface PanelPrefill {
  settings?: Partial<PanelSettings>;
  /** The Markdown document images are for (default: the active Markdown editor). */
  document?: vscode.Uri;
  /** Start generating at once. */
  generate?: boolean;
}

function isMarkdown(doc: vscode.TextDocument): boolean {
  return doc.languageId === 'markdown';
}

export class ResultsPanelController extends Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private panelDisposables: vscode.Disposable[] = [];
  private ready = false;
  private outbox: ToPanel.Type[] = [];
  private restoredSettings: PanelSettings | undefined;
  private pendingPrefill: PanelPrefill | undefined;
  private target: vscode.Uri | undefined;
  private lastMarkdown: vscode.Uri | undefined;
  private readonly cursors = new Map<string, vscode.Position>();
  private readonly jobs = new JobList();
  private readonly cancels = new Map<string, vscode.CancellationTokenSource>();
  private results: StoredResult[];
  private counter = 0;
  private modelPath: string | undefined;
  /** While the panel is open it chooses among variations made by commands (else: a quick pick). */
  private chooserRegistration: vscode.Disposable | undefined;
  private choosing: { message: ToPanel.Choose; images: Map<string, GeneratedImage>; resolve: (image: GeneratedImage | undefined) => void } | undefined;
  private readonly chooserFolders = new Set<string>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly services: Services,
  ) {
    super();
    this.results = restoreResults(context.workspaceState.get(RESULTS_KEY)).filter((r) => fs.existsSync(r.path));
    // The Markdown file the panel works for survives a reload too (if it still exists).
    const target = context.workspaceState.get<unknown>(TARGET_KEY);
    if (typeof target === 'string') {
      const uri = vscode.Uri.parse(target);
      if (uri.scheme === 'file' && fs.existsSync(uri.fsPath)) this.target = uri;
    }
    this._register(
      vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state) => this.restore(panel, state),
      }),
    );
    this.trackEditor(vscode.window.activeTextEditor);
    this._register(vscode.window.onDidChangeActiveTextEditor((e) => this.trackEditor(e)));
    this._register(
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (isMarkdown(e.textEditor.document)) this.cursors.set(e.textEditor.document.uri.toString(), e.selections[0].active);
      }),
    );
    this._register({ dispose: () => this.disposePanel() });
  }

  /** Opens (or reveals) the panel, optionally pre-filling the form. */
  open(prefill: PanelPrefill = {}): void {
    if (!prefill.settings) {
      // From the palette with text selected in a Markdown editor: that text is the prompt.
      const e = vscode.window.activeTextEditor;
      const selected = e && isMarkdown(e.document) ? e.document.getText(e.selection).trim() : '';
      if (selected) prefill = { ...prefill, settings: { prompt: selected.replace(/\s+/g, ' ').slice(0, 1000) } };
    }
    const doc = prefill.document ?? this.activeMarkdown();
    if (doc) {
      this.target = doc;
      void this.context.workspaceState.update(TARGET_KEY, doc.toString());
    }
    if (this.panel) {
      this.panel.reveal(undefined, false);
      this.postTarget();
      if (prefill.settings || prefill.generate) this.applyPrefill(prefill);
      return;
    }
    this.pendingPrefill = prefill;
    const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, 'Illustrations', vscode.ViewColumn.Beside, {
      enableScripts: true,
      localResourceRoots: this.roots(),
    });
    this.attach(panel);
  }

  private restore(panel: vscode.WebviewPanel, state: unknown): void {
    if (this.panel) {
      // A second restored copy (should not happen): keep one panel only.
      panel.dispose();
      return;
    }
    if (isRecord(state)) {
      try {
        this.restoredSettings = validatePanelSettings(state.settings);
      } catch {
        this.restoredSettings = undefined;
      }
    }
    panel.webview.options = { enableScripts: true, localResourceRoots: this.roots() };
    this.attach(panel);
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    this.ready = false;
    panel.iconPath = vscode.Uri.joinPath(this.context.extensionUri, 'media', 'icon.svg');
    panel.webview.html = webviewHtml(panel.webview, this.context.extensionUri, { name: 'panel', title: 'Illustrations', body: panelBody() });
    this.chooserRegistration = this.services.setImageChooser((images, title) => this.choose(images, title));
    this.panelDisposables.push(
      panel.webview.onDidReceiveMessage((m: unknown) => this.onMessage(m)),
      panel.onDidDispose(() => {
        this.chooserRegistration?.dispose();
        this.chooserRegistration = undefined;
        this.endChoice(undefined);
        this.panel = undefined;
        this.ready = false;
        this.outbox = [];
        vscode.Disposable.from(...this.panelDisposables.splice(0)).dispose();
      }),
      panel.onDidChangeViewState((e) => {
        // A hidden webview is torn down (no retainContextWhenHidden); it says 'ready' again when shown.
        if (!e.webviewPanel.visible) this.ready = false;
      }),
    );
  }

  private disposePanel(): void {
    for (const cts of this.cancels.values()) cts.cancel();
    this.panel?.dispose();
  }

  // ---------------------------------------------------------------- messaging

  private post(message: ToPanel.Type): void {
    if (!this.panel) return;
    if (!this.ready) {
      // Progress is only worth showing live; everything else waits for the webview.
      if (message.type !== 'progress' && message.type !== 'tokens') this.outbox.push(message);
      return;
    }
    void this.panel.webview.postMessage(message);
  }

  private onMessage(raw: unknown): void {
    let m: FromPanel.Type;
    try {
      m = validateFromPanel(raw);
    } catch (e) {
      this.services.log.warn(`Results panel sent an invalid message: ${(e as Error).message}`);
      this.post({ type: 'notice', level: 'error', message: (e as Error).message });
      return;
    }
    switch (m.type) {
      case 'ready':
        this.onReady();
        break;
      case 'tokenize':
        void this.tokenize(m);
        break;
      case 'generate':
        void this.generate(m.settings);
        break;
      case 'cancel':
        void this.cancel(m.jobId ?? this.jobs.running());
        break;
      case 'imageAction':
        void this.imageAction(m.action, m.imageId);
        break;
      case 'choice':
        if (this.choosing && this.choosing.message.requestId === m.requestId) {
          this.endChoice(m.imageId === undefined ? undefined : this.choosing.images.get(m.imageId));
        }
        break;
      case 'clearResults':
        this.results = [];
        void this.saveResults();
        break;
    }
  }

  private onReady(): void {
    this.ready = true;
    const prefill = this.pendingPrefill;
    this.pendingPrefill = undefined;
    const base = this.restoredSettings ?? defaultSettings(this.services.config());
    this.restoredSettings = undefined;
    void this.panel?.webview.postMessage({
      type: 'init',
      settings: prefill?.settings ? { ...base, ...prefill.settings } : base,
      prefilled: !!prefill?.settings,
      results: this.results.map((r) => this.toResultImage(r)),
      queue: this.jobs.list(),
      target: this.targetLabel(),
      trusted: this.services.isTrusted(),
    } satisfies ToPanel.Init);
    for (const queued of this.outbox.splice(0)) if (queued.type !== 'choose') void this.panel?.webview.postMessage(queued);
    // A pending choice survives the webview being reloaded or hidden.
    if (this.choosing) void this.panel?.webview.postMessage(this.choosing.message);
    if (prefill?.generate) this.post({ type: 'prefill', settings: {}, generate: true });
  }

  private applyPrefill(prefill: PanelPrefill): void {
    this.post({ type: 'prefill', settings: prefill.settings ?? {}, generate: prefill.generate });
  }

  // ---------------------------------------------------------------- target document

  private trackEditor(editor: vscode.TextEditor | undefined): void {
    if (!editor || !isMarkdown(editor.document)) return;
    this.lastMarkdown = editor.document.uri;
    this.cursors.set(editor.document.uri.toString(), editor.selection.active);
  }

  private activeMarkdown(): vscode.Uri | undefined {
    const e = vscode.window.activeTextEditor;
    return e && isMarkdown(e.document) ? e.document.uri : this.lastMarkdown;
  }

  private targetDocument(): vscode.Uri | undefined {
    return this.target ?? this.activeMarkdown();
  }

  private targetLabel(): string | undefined {
    const t = this.targetDocument();
    return t ? vscode.workspace.asRelativePath(t, false) : undefined;
  }

  private postTarget(): void {
    this.post({ type: 'target', target: this.targetLabel() });
  }

  private cursorIn(doc: vscode.Uri): vscode.Position {
    const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === doc.toString());
    return this.cursors.get(doc.toString()) ?? visible?.selection.active ?? new vscode.Position(0, 0);
  }

  // ---------------------------------------------------------------- tokens

  private async tokenize(m: FromPanel.Tokenize): Promise<void> {
    const model = this.modelPath ?? (this.services.config().modelPath || undefined);
    if (!model) {
      this.post({ type: 'tokens', field: m.field, requestId: m.requestId, error: 'Token count appears once a model is chosen.' });
      return;
    }
    try {
      const r = await this.services.engine.tokenize({ model, text: m.text, promptWeighting: true });
      this.post({ type: 'tokens', field: m.field, requestId: m.requestId, info: formatTokenCount(r.count, r.windows) });
    } catch (e) {
      this.post({ type: 'tokens', field: m.field, requestId: m.requestId, error: (e as Error).message });
    }
  }

  // ---------------------------------------------------------------- jobs

  private roots(): vscode.Uri[] {
    const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri);
    const outside = new Set<string>();
    for (const r of this.results) {
      const uri = vscode.Uri.file(path.dirname(r.path));
      if (!vscode.workspace.getWorkspaceFolder(uri)) outside.add(uri.fsPath);
    }
    for (const f of this.chooserFolders) outside.add(f);
    return resourceRoots(this.context.extensionUri, [...folders, ...[...outside].map((p) => vscode.Uri.file(p))]);
  }

  /** Widens localResourceRoots only when an image lies outside them (changing options reloads the webview). */
  private updateRoots(): void {
    if (!this.panel) return;
    const now = (this.panel.webview.options.localResourceRoots ?? []).map((u) => u.toString()).sort().join('|');
    const roots = this.roots();
    if (roots.map((u) => u.toString()).sort().join('|') === now) return;
    // If the webview reloads for this, its 'ready' brings everything back (init + a pending choice).
    this.panel.webview.options = { enableScripts: true, localResourceRoots: roots };
  }

  private async destination(doc: vscode.Uri | undefined, prompt: string, seed: number): Promise<{ file?: string; folder: string; document?: vscode.Uri }> {
    if (doc && doc.scheme === 'file') {
      const d = await this.services.resolveImageDestination(doc, { prompt, seed });
      return { file: d.file.fsPath, folder: d.folder.fsPath, document: doc };
    }
    const ws = vscode.workspace.workspaceFolders?.[0];
    if (!ws) throw new Error('Open a folder (or a Markdown file in a folder) first: images are saved next to your course.');
    return { folder: vscode.Uri.joinPath(ws.uri, 'images').fsPath };
  }

  /** `document`: the Markdown file the image is for (default: the panel's target). */
  async generate(settings: PanelSettings, document?: vscode.Uri): Promise<void> {
    if (!this.services.isTrusted()) {
      this.post({ type: 'notice', level: 'error', message: 'This workspace is in restricted mode: trust it to generate images.' });
      return;
    }
    let jobId: string | undefined;
    try {
      const model = await this.services.ensureModel();
      if (!model) {
        this.post({ type: 'notice', level: 'error', message: 'No model chosen: run "Course Illustrator: Download Model…" or "Use Model Folder…".' });
        return;
      }
      this.modelPath = model;
      const seed = settings.seed ?? randomSeed();
      const dest = await this.destination(document ?? this.targetDocument(), settings.prompt, seed);
      // The engine writes into an existing folder only; the first image of a lesson creates it.
      const createdFolder = !fs.existsSync(dest.folder);
      await vscode.workspace.fs.createDirectory(vscode.Uri.file(dest.folder));
      const params = toGenerateParams(settings, model, seed, dest, this.services.config().previewEvery || 1);
      jobId = `panel-${Date.now().toString(36)}-${++this.counter}`;
      const ok = await this.runJob(jobId, params, settings, dest.document);
      // A cancelled or failed first job leaves no empty folder behind.
      if (!ok && createdFolder) await fs.promises.rmdir(dest.folder).catch(() => undefined);
    } catch (e) {
      this.post({ type: 'notice', level: 'error', message: (e as Error).message });
      if (jobId) this.post({ type: 'jobEnded', jobId, outcome: 'failed', message: (e as Error).message });
    }
  }

  /** True when the job finished and its images are in the results. */
  private async runJob(jobId: string, params: GenerateParams, settings: PanelSettings, document: vscode.Uri | undefined): Promise<boolean> {
    const cts = new vscode.CancellationTokenSource();
    this.cancels.set(jobId, cts);
    this.jobs.add(jobId, settings.prompt);
    this.postQueue();
    try {
      const result = await this.services.engine.generate(params, {
        jobId,
        token: cts.token,
        onProgress: (p) => this.onProgress(jobId, p),
        onQueue: (q) => {
          this.jobs.setPosition(jobId, q.position);
          this.postQueue();
        },
      });
      const stored = result.images.map((image) => ({
        id: `img-${Date.now().toString(36)}-${++this.counter}`,
        path: image.path,
        image,
        settings: { ...settings, seed: image.seed, seedLocked: true, batch: 1, width: image.width, height: image.height },
        document: document?.toString(),
      }));
      this.results = [...stored, ...this.results].slice(0, MAX_STORED_RESULTS);
      void this.saveResults();
      // CodeLenses and the gallery pick the new files up at once (not only through file watching).
      this.services.fireImagesWritten(document, result.images);
      this.updateRoots();
      this.post({ type: 'results', jobId, images: stored.map((r) => this.toResultImage(r)), seed: result.images[0]?.seed ?? params.seed ?? 0 });
      this.post({ type: 'jobEnded', jobId, outcome: 'done' });
      for (const w of result.warnings) this.services.log.warn(w);
      if (result.warnings.length) this.post({ type: 'notice', level: 'info', message: result.warnings.join(' ') });
      return true;
    } catch (e) {
      const err = e as Error & { kind?: string };
      const cancelled = err.kind === 'cancelled' || cts.token.isCancellationRequested;
      this.post({ type: 'jobEnded', jobId, outcome: cancelled ? 'cancelled' : 'failed', message: cancelled ? undefined : err.message });
      if (!cancelled) this.services.log.error(`Results panel job ${jobId} failed: ${err.message}`);
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
    this.post({
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
    this.post({ type: 'queue', jobs: this.jobs.list() });
  }

  private async cancel(jobId: string | undefined): Promise<void> {
    if (!jobId || !this.jobs.has(jobId)) return;
    // The list follows the user at once: a queued job may only be dropped by the engine when
    // it reaches the front, and its last events are not shown.
    this.jobs.remove(jobId);
    this.postQueue();
    this.cancels.get(jobId)?.cancel();
    try {
      await this.services.engine.cancel(jobId);
    } catch (e) {
      this.services.log.warn(`Cancel ${jobId}: ${(e as Error).message}`);
    }
  }

  // ---------------------------------------------------------------- choosing among variations

  /** The ImageChooser the variations commands call while the panel is open. */
  private choose(images: GeneratedImage[], title: string): Promise<GeneratedImage | undefined> {
    if (images.length <= 1 || !this.panel) return Promise.resolve(images[0]);
    this.endChoice(undefined); // a newer request replaces an unanswered one
    const requestId = ++this.counter;
    const map = new Map<string, GeneratedImage>();
    const defaults = defaultSettings(this.services.config());
    const cards = images.map((image, i) => {
      const id = `var-${requestId}-${i}`;
      map.set(id, image);
      this.chooserFolders.add(path.dirname(image.path));
      const info = parseInfotext(image.infotext);
      const settings = settingsFromEntry({ ...info, width: image.width, height: image.height }, defaults);
      return this.toResultImage({ id, path: image.path, image, settings });
    });
    const message: ToPanel.Choose = { type: 'choose', requestId, title, images: cards };
    this.updateRoots();
    this.panel.reveal(undefined, false);
    return new Promise((resolve) => {
      this.choosing = { message, images: map, resolve };
      this.post(message);
    });
  }

  private endChoice(image: GeneratedImage | undefined): void {
    const c = this.choosing;
    if (!c) return;
    this.choosing = undefined;
    c.resolve(image);
    this.post({ type: 'chooseEnded', requestId: c.message.requestId });
  }

  // ---------------------------------------------------------------- results and actions

  private toResultImage(r: StoredResult): ResultImage {
    const uri = vscode.Uri.file(r.path);
    const stamp = fs.existsSync(r.path) ? fs.statSync(r.path).mtimeMs.toString(36) : '0';
    return {
      id: r.id,
      // The query defeats the webview's cache when a file is replaced under the same name.
      uri: this.panel ? this.panel.webview.asWebviewUri(uri).with({ query: `v=${stamp}` }).toString() : '',
      fileName: path.basename(r.path),
      width: r.image.width,
      height: r.image.height,
      seed: r.image.seed,
      settings: r.settings,
      infotext: r.image.infotext,
    };
  }

  private async saveResults(): Promise<void> {
    await this.context.workspaceState.update(RESULTS_KEY, this.results);
  }

  private async imageAction(action: ImageAction, id: string): Promise<void> {
    const r = this.results.find((x) => x.id === id);
    if (!r) {
      this.post({ type: 'notice', level: 'error', message: 'That image is no longer in the results list.' });
      return;
    }
    try {
      switch (action) {
        case 'insert':
          return await this.insert(r);
        case 'copyMarkdown': {
          const doc = this.docFor(r);
          const ws = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
          await vscode.env.clipboard.writeText(markdownImage(doc?.fsPath, r.path, altFromPrompt(r.settings.prompt), ws));
          this.post({ type: 'notice', level: 'info', message: 'Markdown copied to the clipboard.' });
          return;
        }
        case 'saveAs':
          return await this.saveAs(r);
        case 'regenerate':
          // Next to the original: the document it was made for, when known.
          return await this.generate({ ...r.settings, seed: undefined, seedLocked: false }, r.document ? vscode.Uri.parse(r.document) : undefined);
        case 'reuse':
          this.post({ type: 'prefill', settings: r.settings });
          return;
        case 'showParameters': {
          const copy = await vscode.window.showInformationMessage(
            `Parameters of ${path.basename(r.path)}`,
            { modal: true, detail: r.image.infotext || JSON.stringify(r.settings, null, 2) },
            'Copy',
          );
          if (copy === 'Copy') await vscode.env.clipboard.writeText(r.image.infotext);
          return;
        }
      }
    } catch (e) {
      this.post({ type: 'notice', level: 'error', message: (e as Error).message });
    }
  }

  private docFor(r: StoredResult): vscode.Uri | undefined {
    return this.targetDocument() ?? (r.document ? vscode.Uri.parse(r.document) : undefined);
  }

  private async insert(r: StoredResult): Promise<void> {
    if (!this.services.isTrusted()) throw new Error('This workspace is in restricted mode: nothing is written.');
    const doc = this.docFor(r);
    if (!doc) throw new Error('Open a Markdown file to insert into, then press Insert again.');
    if (!fs.existsSync(r.path)) throw new Error(`${r.path} no longer exists.`);
    const alt = altFromPrompt(r.settings.prompt);
    const done = await this.services.insertImage({ uri: doc, position: this.cursorIn(doc) }, r.path, alt);
    this.cursors.set(doc.toString(), done.range.end);
    this.services.setLastImage({ path: r.path, alt, image: r.image, params: { model: this.modelPath ?? '', prompt: r.settings.prompt } });
    this.post({ type: 'notice', level: 'info', message: `Inserted into ${vscode.workspace.asRelativePath(doc, false)}.` });
  }

  private async saveAs(r: StoredResult): Promise<void> {
    const dest = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.file(r.path),
      filters: { 'PNG image': ['png'] },
      title: 'Save a copy of the illustration',
    });
    if (!dest) return;
    if (dest.fsPath === r.path) return;
    // The dialog already asked before replacing a file; write through a temp file so a failure leaves no half file.
    const tmp = vscode.Uri.file(`${dest.fsPath}.${process.pid}.tmp`);
    await vscode.workspace.fs.copy(vscode.Uri.file(r.path), tmp, { overwrite: true });
    await vscode.workspace.fs.rename(tmp, dest, { overwrite: true });
    this.post({ type: 'notice', level: 'info', message: `Saved ${dest.fsPath}.` });
  }
}
