// The results panel controller: one WebviewPanel, restored after a reload by its serializer.
// It owns the panel's lifetime and routes the webview's messages to the parts that handle them:
// jobs (panelJobs), actions on finished images (resultActions), choosing among variations
// (variationChooser: for the extension's lifetime, opening the panel when needed), token counts
// (tokenCount). The webview names images only by result ids.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { isRecord } from '../../core/validate';
import { FromPanel, PanelSettings, ToPanel, clampPanelPrefill, validateFromPanel, validatePanelSettings } from '../../core/webviewMessages';
import type { GenerationService } from '../generation/generationService';
import type { Services } from '../services';
import { Disposable } from '../util/dispose';
import { panelBody } from './panelHtml';
import { declarationName, declareMedical, jobLabel } from '../generation/domainContext';
import { listLoras } from '../generation/loraList';
import { onDidChangeUserTemplates, userTemplates } from '../generation/userTemplateStore';
import { PanelJobs } from './panelJobs';
import { PanelSource } from './panelSource';
import { panelRoots, updateRoots } from './panelRoots';
import { defaultSettings } from './panelState';
import { PREFILL_SOURCE } from './prefillSettings';
import { PanelTarget, isMarkdown } from './panelTarget';
import { PanelView } from './panelView';
import { ResultActions } from './resultActions';
import { toResultImage } from './resultImage';
import { ResultStore } from './resultStore';
import { countTokens } from './tokenCount';
import { translateForPanel } from '../translate/panelTranslate';
import { VariationChooser } from './variationChooser';
import { webviewHtml } from './webviewHtml';

export const PANEL_VIEW_TYPE = 'courseIllustrator.panel';

export interface PanelPrefill {
  settings?: Partial<PanelSettings>;
  /** The Markdown document images are for (default: the active Markdown editor). */
  document?: vscode.Uri;
  /** The stub of `document` the panel was opened on: Insert replaces it. */
  stub?: { line: number; prompt: string };
  /** Start generating at once. */
  generate?: boolean;
  /** An image file to redraw (img2img) or repaint part of (inpainting); read, never written. */
  source?: string;
}

export class ResultsPanelController extends Disposable {
  private readonly view = new PanelView();
  private panelDisposables: vscode.Disposable[] = [];
  private restoredSettings: PanelSettings | undefined;
  private pendingPrefill: PanelPrefill | undefined;
  private readonly results: ResultStore;
  private readonly target: PanelTarget;
  private readonly jobs: PanelJobs;
  private readonly chooser: VariationChooser;
  private readonly actions: ResultActions;
  private readonly source: PanelSource;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly services: Services,
    private readonly generation: GenerationService,
  ) {
    super();
    this.results = new ResultStore(context.workspaceState, generation.stagingRoot.fsPath);
    this.source = new PanelSource(path.join((context.storageUri ?? context.globalStorageUri).fsPath, 'panel-sources'));
    this.target = this._register(new PanelTarget(context.workspaceState));
    const widen = () => updateRoots(this.view.panel, () => this.roots());
    this.jobs = new PanelJobs({ services, generation, view: this.view, results: this.results, target: this.target, updateRoots: widen });
    this.chooser = new VariationChooser(services, this.view, widen, () => this.show());
    // The panel is where variations made by commands are chosen, open or not: it opens for them.
    this._register(services.setImageChooser((images, title) => this.chooser.choose(images, title)));
    this.actions = new ResultActions({
      services, generation, view: this.view, results: this.results, target: this.target, jobs: this.jobs,
      redraw: (file) => this.setSource(() => this.source.setFile(file)),
    });
    this._register(
      vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state) => this.restore(panel, state),
      }),
    );
    this._register({ dispose: () => this.disposePanel() });
    // A declaration made or removed elsewhere (front matter saved, a setting changed) shows at once.
    this._register(vscode.workspace.onDidSaveTextDocument(() => this.view.panel && void this.postLabel()));
    this._register(vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('courseIllustrator.domain') && this.view.panel && void this.postLabel()));
    this._register(vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('courseIllustrator.loraFolders') && this.view.panel && void this.postLoras()));
    this._register(onDidChangeUserTemplates(() => this.view.post({ type: 'templates', templates: userTemplates() })));
  }

  /** Opens (or reveals) the panel, optionally pre-filling the form. */
  open(prefill: PanelPrefill = {}): void {
    if (prefill.source) {
      const file = prefill.source;
      void this.setSource(() => this.source.setFile(file));
    }
    if (!prefill.settings && !prefill.source) {
      // From the palette with text selected in a Markdown editor: that text is the prompt.
      const e = vscode.window.activeTextEditor;
      const selected = e && isMarkdown(e.document) ? e.document.getText(e.selection).trim() : '';
      if (selected) prefill = { ...prefill, settings: { prompt: selected.replace(/\s+/g, ' ').slice(0, 1000) } };
    }
    if (prefill.settings) {
      // Whoever opens the panel (the gallery from a PNG's metadata, another extension), the form
      // only ever shows values within the limits, and prompts without control characters.
      const { settings, warnings } = clampPanelPrefill(prefill.settings, PREFILL_SOURCE);
      prefill = { ...prefill, settings };
      for (const w of warnings) {
        this.services.log.warn(`Results panel: ${w}`);
        void vscode.window.showWarningMessage(vscode.l10n.t('Course Illustrator: {0}', w));
      }
    }
    const doc = prefill.document ?? this.target.activeMarkdown();
    if (doc) {
      this.target.set(doc);
      // Opened on a stub: that stub is where Insert goes; opened otherwise: the cursor is.
      this.target.setStub(doc, prefill.stub);
    }
    if (this.view.panel) {
      this.view.panel.reveal(undefined, false);
      this.postTarget();
      if (prefill.settings || prefill.generate) this.applyPrefill(prefill);
      return;
    }
    this.pendingPrefill = prefill;
    this.create();
  }

  /**
   * The panel, opened or revealed as it is: its form, its Markdown file and the stub it works
   * for stay (a variation chosen here goes where the command that made it says, not there).
   */
  private show(): vscode.WebviewPanel {
    if (this.view.panel) {
      this.view.panel.reveal(undefined, false);
      return this.view.panel;
    }
    return this.create();
  }

  private create(): vscode.WebviewPanel {
    const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, vscode.l10n.t('Illustrations'), vscode.ViewColumn.Beside, {
      enableScripts: true,
      localResourceRoots: this.roots(),
    });
    this.attach(panel);
    return panel;
  }

  private restore(panel: vscode.WebviewPanel, state: unknown): void {
    if (this.view.panel) {
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
    this.view.panel = panel;
    this.view.ready = false;
    panel.iconPath = vscode.Uri.joinPath(this.context.extensionUri, 'media', 'icon.svg');
    panel.webview.html = webviewHtml(panel.webview, this.context.extensionUri, { name: 'panel', title: vscode.l10n.t('Illustrations'), body: panelBody(vscode.env.language) });
    this.panelDisposables.push(
      panel.webview.onDidReceiveMessage((m: unknown) => this.onMessage(m)),
      panel.onDidDispose(() => {
        // First: nothing may be posted to the disposed webview (postMessage would throw).
        this.view.detach();
        // Closing the panel while it asks is choosing none.
        this.chooser.end(undefined);
        vscode.Disposable.from(...this.panelDisposables.splice(0)).dispose();
      }),
      panel.onDidChangeViewState((e) => {
        // A hidden webview is torn down (no retainContextWhenHidden); it says 'ready' again when shown.
        if (!e.webviewPanel.visible) this.view.ready = false;
      }),
    );
  }

  private disposePanel(): void {
    this.jobs.cancelAll();
    this.view.panel?.dispose();
  }

  private roots(): vscode.Uri[] {
    const s = this.source.get();
    return panelRoots(this.context.extensionUri, this.results.all(), this.generation.stagingRoot.fsPath, [...this.chooser.folders, this.source.folder, ...(s ? [path.dirname(s.path)] : [])]);
  }

  /** Sets the source image with `set` (which throws a sentence for the user) and shows it. */
  private async setSource(set: () => Promise<unknown>): Promise<void> {
    try {
      await set();
    } catch (e) {
      this.view.post({ type: 'notice', level: 'error', message: (e as Error).message });
      return;
    }
    updateRoots(this.view.panel, () => this.roots());
    this.postSource();
  }

  private postSource(): void {
    this.view.post({ type: 'source', source: this.source.toWebview(this.view.panel?.webview, (f) => vscode.Uri.file(f)) });
  }

  private async generateFrom(m: FromPanel.Generate): Promise<void> {
    if (!m.source) return this.jobs.generate(m.settings);
    const s = this.source.get();
    if (!s || s.id !== m.source.id) {
      this.view.post({ type: 'notice', level: 'error', message: vscode.l10n.t('The image to redraw has changed since; press Generate again.') });
      this.postSource();
      return;
    }
    let mask: string | undefined;
    try {
      mask = m.source.maskPng ? await this.source.writeMask(m.source.maskPng) : undefined;
    } catch (e) {
      this.view.post({ type: 'notice', level: 'error', message: (e as Error).message });
      return;
    }
    return this.jobs.generate(m.settings, undefined, { image: s.path, mask });
  }

  /** A URI dragged from VS Code: a local image file (the workspace's or elsewhere). */
  private async dropUri(raw: string): Promise<void> {
    let uri: vscode.Uri;
    try {
      uri = vscode.Uri.parse(raw, true);
    } catch {
      this.view.post({ type: 'notice', level: 'error', message: vscode.l10n.t('That is not a file: drop an image file or an image.') });
      return;
    }
    if (uri.scheme !== 'file') {
      this.view.post({ type: 'notice', level: 'error', message: vscode.l10n.t('Only local files can be redrawn, not {0}: links.', uri.scheme) });
      return;
    }
    await this.setSource(() => this.source.setFile(uri.fsPath));
  }

  private async pickSource(): Promise<void> {
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false,
      openLabel: vscode.l10n.t('Redraw This Image'),
      title: vscode.l10n.t('Choose an image to redraw'),
      defaultUri: this.target.document() ? vscode.Uri.joinPath(this.target.document() as vscode.Uri, '..') : vscode.workspace.workspaceFolders?.[0]?.uri,
      filters: { [vscode.l10n.t('Images')]: ['png', 'jpg', 'jpeg', 'webp'] },
    });
    if (picked?.[0]) await this.setSource(() => this.source.setFile(picked[0].fsPath));
  }

  private onMessage(raw: unknown): void {
    let m: FromPanel.Type;
    try {
      m = validateFromPanel(raw);
    } catch (e) {
      this.services.log.warn(`Results panel sent an invalid message: ${(e as Error).message}`);
      this.view.post({ type: 'notice', level: 'error', message: (e as Error).message });
      return;
    }
    switch (m.type) {
      case 'ready':
        this.onReady();
        break;
      case 'tokenize':
        void countTokens(this.services, this.view, this.jobs.modelPath, m);
        break;
      case 'translate':
        void translateForPanel(this.services, this.view, m);
        break;
      case 'generate':
        void this.generateFrom(m);
        break;
      case 'pickSource':
        void this.pickSource();
        break;
      case 'dropSource':
        void this.setSource(() => this.source.setBytes(m.name, m.dataBase64));
        break;
      case 'dropUri':
        void this.dropUri(m.uri);
        break;
      case 'clearSource':
        this.source.clear();
        this.postSource();
        break;
      case 'declareMedical':
        void this.declareMedical();
        break;
      case 'cancel':
        void this.jobs.cancel(m.jobId ?? this.jobs.running());
        break;
      case 'imageAction':
        void this.actions.run(m.action, m.imageId);
        break;
      case 'choice':
        this.chooser.answer(m.requestId, m.imageId);
        break;
      case 'clearResults':
        this.results.clear();
        break;
    }
  }

  private onReady(): void {
    this.view.ready = true;
    const prefill = this.pendingPrefill;
    this.pendingPrefill = undefined;
    const base = this.restoredSettings ?? defaultSettings(this.services.config());
    this.restoredSettings = undefined;
    const webview = this.view.panel?.webview;
    // Before init: the form it restores may have chosen one of them.
    this.view.send({ type: 'templates', templates: userTemplates() });
    this.view.send({
      type: 'init',
      settings: prefill?.settings ? { ...base, ...prefill.settings } : base,
      prefilled: !!prefill?.settings,
      results: this.results.all().map((r) => toResultImage(r, webview)),
      queue: this.jobs.list(),
      target: this.target.label(),
      trusted: this.services.isTrusted(),
    } satisfies ToPanel.Init);
    for (const queued of this.view.takeOutbox()) if (queued.type !== 'choose' && queued.type !== 'source') this.view.send(queued);
    void this.postLabel();
    void this.postLoras();
    // The source image as it is now (a queued 'source' message may be older).
    this.view.send({ type: 'source', source: this.source.toWebview(webview, (f) => vscode.Uri.file(f)) });
    // A pending choice survives the webview being reloaded or hidden.
    const pending = this.chooser.pending();
    if (pending) this.view.send(pending);
    if (prefill?.generate) this.view.post({ type: 'prefill', settings: {}, generate: true });
  }

  private applyPrefill(prefill: PanelPrefill): void {
    this.view.post({ type: 'prefill', settings: prefill.settings ?? {}, generate: prefill.generate });
  }

  private postTarget(): void {
    this.view.post({ type: 'target', target: this.target.label() });
    void this.postLabel();
  }

  /** Whether the target document's images get the medical label, and who said so. */
  private async postLabel(): Promise<void> {
    const uri = this.target.document();
    const document = uri ? await Promise.resolve(vscode.workspace.openTextDocument(uri)).catch(() => undefined) : undefined;
    const label = jobLabel(document, [], uri);
    const by = label.declaredBy && declarationName(label.declaredBy);
    this.view.post({ type: 'label', medical: label.domain === 'medical', declaredBy: by, canDeclare: !!document && isMarkdown(document) });
  }

  private async postLoras(): Promise<void> {
    const loras = await listLoras(this.services.config(), this.target.document()).catch(() => []);
    this.view.post({ type: 'loras', names: loras.map((l) => l.name) });
  }

  private async declareMedical(): Promise<void> {
    const uri = this.target.document();
    if (!uri || !this.services.isTrusted()) return;
    const document = await vscode.workspace.openTextDocument(uri);
    if (await declareMedical(document)) {
      this.view.post({ type: 'notice', level: 'info', message: vscode.l10n.t('{0} now declares its images medical (front matter); save it to keep that.', vscode.workspace.asRelativePath(uri, false)) });
    }
    await this.postLabel();
  }
}
