// The gallery view: every PNG in the workspace that Course Illustrator made (found by its metadata
// through engine.info), newest first, with thumbnails made by the engine and cached outside the
// workspace. The index is built lazily on first show and kept current by file watchers, which
// also start on first show. Only regular files whose real path is inside the workspace are listed
// (and so can be deleted). Which images the workspace's Markdown documents link is followed
// beside it (documentLinks.ts), for the "not linked" filter, the tiles' badges and the clean-up.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  GalleryEntry,
  GalleryIndex,
  entryFromPng,
  settingsFromEntry,
  thumbnailName,
} from '../../core/galleryIndex';
import { FromGallery, GalleryAction, GalleryCard, type GalleryStart, ToGallery, validateFromGallery } from '../../core/webviewMessages';
import { openResultsPanel } from '../panel';
import { altForImage } from '../generation/domainContext';
import { altFromPrompt, markdownImage } from '../panel/markdownLink';
import { defaultSettings } from '../panel/panelState';
import { resourceRoots, webviewHtml } from '../panel/webviewHtml';
import type { Services } from '../services';
import { Disposable } from '../util/dispose';
import { containedRegularFile, type ContainedFile } from '../insert/fsRealPath';
import { cleanUpUnlinkedImages } from './cleanUpCommand';
import { DocumentLinks } from './documentLinks';
import { GALLERY_EXCLUDE as EXCLUDE } from './exclude';
import { galleryBody } from './galleryHtml';
import { limiter } from './limit';
import { moveToTrash } from './trash';
import type { ImageMetadataStore } from '../images/imageMetadata';

export const GALLERY_VIEW_ID = 'courseIllustrator.gallery';
const THUMB_PX = 256;
const MAX_FILES = 20000;

/** The empty gallery's buttons: the commands they run (the webview only names one of these). */
const START_COMMANDS: Record<GalleryStart, [string, ...unknown[]]> = {
  generate: ['courseIllustrator.generate'],
  openPanel: ['courseIllustrator.openPanel'],
  illustrateAll: ['courseIllustrator.illustrateAll'],
  walkthrough: ['workbench.action.openWalkthrough', 'course-illustrator.course-illustrator#courseIllustrator.gettingStarted', false],
};

export class GalleryViewProvider extends Disposable implements vscode.WebviewViewProvider {
  private view: vscode.WebviewView | undefined;
  private readonly index = new GalleryIndex();
  private readonly thumbDir: vscode.Uri;
  private readonly infoLimit = limiter(4);
  private readonly thumbLimit = limiter(2);
  private started = false;
  private scanning = false;
  private scanned = false;
  private scanGeneration = 0;
  private changedTimer: NodeJS.Timeout | undefined;
  private readonly pendingPaths = new Set<string>();
  private pendingTimer: NodeJS.Timeout | undefined;
  private lastMarkdown: vscode.TextEditor | undefined;
  private infoFailures = 0;
  private scanDone: Promise<void> | undefined;
  /** Which images the Markdown documents link; read from the first show on. */
  private readonly links: DocumentLinks;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly services: Services,
    /** What each PNG says; images we write are in it already, others are read once. */
    private readonly metadata: ImageMetadataStore,
  ) {
    super();
    const storage = context.storageUri ?? context.globalStorageUri;
    this.thumbDir = vscode.Uri.joinPath(storage, 'thumbnails');
    this._register(
      vscode.window.onDidChangeActiveTextEditor((e) => {
        if (e?.document.languageId === 'markdown') this.lastMarkdown = e;
      }),
    );
    const active = vscode.window.activeTextEditor;
    if (active?.document.languageId === 'markdown') this.lastMarkdown = active;
    this._register({ dispose: () => [this.changedTimer, this.pendingTimer].forEach((t) => t && clearTimeout(t)) });
    this.links = this._register(new DocumentLinks(services.log));
    this._register(this.links.onDidChange(() => this.notifyChanged()));
  }

  /**
   * Starts watching the workspace. Only once the gallery has been shown (or refreshed): until
   * then no PNG in the workspace is read, so files dropped into a workspace that the user never
   * browses cost nothing.
   */
  private start(): void {
    if (this.started) return;
    this.started = true;
    void this.links.start();
    const watcher = this._register(vscode.workspace.createFileSystemWatcher('**/*.png'));
    this._register(watcher.onDidCreate((u) => this.queuePath(u)));
    this._register(watcher.onDidChange((u) => this.queuePath(u)));
    this._register(watcher.onDidDelete((u) => this.onDeleted(u)));
    // A deleted folder fires one event for the folder, none for the PNGs in it; a new folder's
    // files can be written before the watcher follows it (inotify), so a new folder is searched.
    const folders = this._register(vscode.workspace.createFileSystemWatcher('**/*', false, true, false));
    this._register(folders.onDidDelete((u) => this.onDeleted(u)));
    this._register(folders.onDidCreate((u) => void this.onFolderCreated(u)));
    this._register(this.services.onDidWriteImages((e) => e.images.forEach((i) => this.queuePath(vscode.Uri.file(i.path)))));
    this._register(vscode.workspace.onDidChangeWorkspaceFolders(() => void this.rescan()));
    // Restricted Mode: the engine does not run, so only images already in the metadata cache show.
    this._register(vscode.workspace.onDidGrantWorkspaceTrust(() => void this.rescan()));
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.start();
    this.view = view;
    view.webview.options = { enableScripts: true, localResourceRoots: this.roots() };
    view.webview.html = webviewHtml(view.webview, this.context.extensionUri, { name: 'gallery', title: vscode.l10n.t('Gallery'), body: galleryBody() });
    const subs = [
      view.webview.onDidReceiveMessage((m: unknown) => void this.onMessage(m)),
      view.onDidDispose(() => {
        if (this.view === view) this.view = undefined;
        subs.forEach((d) => d.dispose());
      }),
    ];
    if (!this.scanned && !this.scanning) void this.rescan();
  }

  private roots(): vscode.Uri[] {
    return resourceRoots(this.context.extensionUri, [this.thumbDir, ...(vscode.workspace.workspaceFolders ?? []).map((f) => f.uri)]);
  }

  private post(m: ToGallery.Type): void {
    void this.view?.webview.postMessage(m);
  }

  /** Tells the webview to ask again, at most every 250 ms while a scan or a burst of file events runs. */
  private notifyChanged(now = false): void {
    if (this.changedTimer && !now) return;
    if (this.changedTimer) clearTimeout(this.changedTimer);
    this.changedTimer = setTimeout(
      () => {
        this.changedTimer = undefined;
        this.post({ type: 'changed', total: this.index.size, scanning: this.scanning });
      },
      now ? 0 : 250,
    );
  }

  // ---------------------------------------------------------------- indexing

  /** Builds the index from scratch (refresh command, folder changes, first show). */
  rescan(): Promise<void> {
    return (this.scanDone = this.scan());
  }

  /** The index once a scan has finished (the clean-up must see every image, not the first ones found). */
  private async scannedIndex(): Promise<GalleryIndex> {
    if (!this.scanned || this.scanning) await (this.scanning && this.scanDone ? this.scanDone : this.rescan());
    return this.index;
  }

  private async scan(): Promise<void> {
    this.start();
    const generation = ++this.scanGeneration;
    const started = Date.now();
    this.metadata.hits = 0;
    this.scanning = true;
    this.notifyChanged(true);
    try {
      const files = await vscode.workspace.findFiles('**/*.png', EXCLUDE, MAX_FILES);
      if (generation !== this.scanGeneration) return;
      const seen = new Set(files.map((f) => f.fsPath));
      for (const e of [...this.index.all()]) if (!seen.has(e.path)) this.index.removePath(e.path);
      await Promise.all(files.map((f) => this.indexFile(f, generation)));
      if (generation !== this.scanGeneration) return;
      this.metadata.retainOnly(seen);
      this.scanned = true;
      void this.pruneThumbnails();
      this.services.log.info(
        `Gallery: ${this.index.size} of ${files.length} PNG files are Course Illustrator images ` +
          `(${this.metadata.hits} known without reading the file) in ${Date.now() - started} ms.`,
      );
    } catch (e) {
      this.services.log.error(`Gallery scan failed: ${(e as Error).message}`);
      this.post({ type: 'notice', level: 'error', message: vscode.l10n.t('Could not scan the workspace for images: {0}', (e as Error).message) });
    } finally {
      if (generation === this.scanGeneration) {
        this.scanning = false;
        this.notifyChanged(true);
      }
    }
  }

  private async indexFile(uri: vscode.Uri, generation = this.scanGeneration): Promise<void> {
    const p = uri.fsPath;
    // Only regular files whose real path is in the workspace: a PNG reached through a symbolic
    // link to a folder outside (search follows links) is neither listed nor, so, deleted.
    const contained = await this.contained(p);
    if (!contained) {
      if (this.index.removePath(p)) this.notifyChanged();
      this.metadata.forget(p);
      return;
    }
    const st = contained.stat;
    const facts = await this.infoLimit(() => this.metadata.get(p, st));
    if (!facts || generation !== this.scanGeneration) return;
    const entry = entryFromPng({ path: p, label: vscode.workspace.asRelativePath(uri, false), mtimeMs: st.mtimeMs, size: st.size }, facts);
    if (entry) this.index.upsert(entry);
    else this.index.removePath(p);
    this.notifyChanged();
  }

  /** The file when it is a regular file whose real path is inside a workspace folder's real path. */
  private contained(p: string): Promise<ContainedFile | undefined> {
    const roots = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
    return containedRegularFile(p, roots);
  }

  private queuePath(uri: vscode.Uri): void {
    if (uri.scheme !== 'file' || !vscode.workspace.getWorkspaceFolder(uri)) return;
    this.pendingPaths.add(uri.fsPath);
    if (this.pendingTimer) return;
    this.pendingTimer = setTimeout(() => {
      this.pendingTimer = undefined;
      const paths = [...this.pendingPaths];
      this.pendingPaths.clear();
      void Promise.all(paths.map((p) => this.indexFile(vscode.Uri.file(p))));
    }, 300);
  }

  private async onFolderCreated(uri: vscode.Uri): Promise<void> {
    if (uri.scheme !== 'file' || uri.path.toLowerCase().endsWith('.png') || !vscode.workspace.getWorkspaceFolder(uri)) return;
    const st = await fs.promises.stat(uri.fsPath).catch(() => undefined);
    if (!st?.isDirectory()) return;
    const files = await vscode.workspace.findFiles(new vscode.RelativePattern(uri, '**/*.png'), EXCLUDE, MAX_FILES);
    files.forEach((f) => this.queuePath(f));
  }

  private onDeleted(uri: vscode.Uri): void {
    const n = (this.index.removePath(uri.fsPath) ? 1 : 0) + this.index.removeUnder(uri.fsPath, path.sep);
    this.metadata.forget(uri.fsPath);
    if (n) this.notifyChanged();
  }

  // ---------------------------------------------------------------- messages

  private async onMessage(raw: unknown): Promise<void> {
    let m: FromGallery.Type;
    try {
      m = validateFromGallery(raw);
    } catch (e) {
      this.services.log.warn(`Gallery sent an invalid message: ${(e as Error).message}`);
      return;
    }
    switch (m.type) {
      case 'ready':
        if (!this.services.isTrusted()) {
          this.post({ type: 'notice', level: 'info', message: vscode.l10n.t('Restricted Mode: only images indexed before are listed. Trust the workspace to find new ones.') });
        }
        if (!this.scanned && !this.scanning) void this.rescan();
        return;
      case 'query':
        return this.sendPage(m);
      case 'thumbs':
        return this.sendThumbs(m.ids);
      case 'action':
        return this.action(m.action, m.id);
      case 'cleanUp':
        await vscode.commands.executeCommand('courseIllustrator.cleanUpUnlinkedImages');
        return;
      case 'start':
        await vscode.commands.executeCommand(...START_COMMANDS[m.what]);
        return;
    }
  }

  private async sendPage(q: FromGallery.Query): Promise<void> {
    // "Not linked" is only known once every document was read (a fraction of a second).
    if (q.filter === 'unlinked') await this.links.start();
    const only = q.filter === 'unlinked' ? (e: GalleryEntry) => this.links.isUnlinked(e.path) : undefined;
    const page = this.index.query({ text: q.query, offset: q.offset, limit: q.limit, only });
    this.post({
      type: 'page',
      requestId: q.requestId,
      query: q.query,
      offset: page.offset,
      total: page.total,
      items: page.items.map((e) => this.card(e)),
      scanning: this.scanning,
    });
  }

  private card(e: GalleryEntry): GalleryCard {
    const webview = this.view?.webview;
    const thumb = path.join(this.thumbDir.fsPath, thumbnailName(e, THUMB_PX));
    const stamp = `v=${Math.floor(e.mtimeMs).toString(36)}`;
    return {
      id: e.id,
      fileName: e.fileName,
      label: e.label,
      prompt: e.prompt,
      mtimeMs: e.mtimeMs,
      width: e.width,
      height: e.height,
      imageUri: webview ? webview.asWebviewUri(vscode.Uri.file(e.path)).with({ query: stamp }).toString() : '',
      thumbUri: webview && fs.existsSync(thumb) ? webview.asWebviewUri(vscode.Uri.file(thumb)).toString() : undefined,
      ...this.linkFacts(e.path),
    };
  }

  /** The card's badge and tooltip: unlinked, or which documents link or name it (a few). */
  private linkFacts(p: string): Pick<GalleryCard, 'unlinked' | 'linkedFrom'> {
    if (!this.links.isLoaded) return {};
    const use = this.links.use(p);
    const docs = [...new Set([...use.linkedFrom, ...use.namedIn])];
    if (docs.length === 0) return { unlinked: true };
    return { unlinked: false, linkedFrom: docs.slice(0, 5).map((d) => vscode.workspace.asRelativePath(d, false)) };
  }

  /** The "Move Unlinked Images to Trash…" command; the moved files leave the index at once. */
  async cleanUpUnlinked(): Promise<void> {
    const result = await cleanUpUnlinkedImages(this.services, {
      index: () => this.scannedIndex(),
      links: this.links,
      roots: () => (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath),
    });
    for (const f of result?.moved ?? []) this.onDeleted(vscode.Uri.file(f.path));
    if (result) this.notifyChanged(true);
  }

  private async sendThumbs(ids: readonly string[]): Promise<void> {
    const webview = this.view?.webview;
    if (!webview) return;
    await fs.promises.mkdir(this.thumbDir.fsPath, { recursive: true });
    // Answer in small groups so the first thumbnails appear while the rest are made.
    const pending = ids.map((id) => this.index.get(id)).filter((e): e is GalleryEntry => !!e);
    await Promise.all(
      pending.map(async (e) => {
        const uri = await this.thumbLimit(() => this.thumbnail(e));
        this.post({ type: 'thumbs', thumbs: [{ id: e.id, uri: webview.asWebviewUri(uri).toString() }] });
      }),
    );
  }

  /** Deletes cached thumbnails of images that changed or are gone (their names no longer match). */
  private async pruneThumbnails(): Promise<void> {
    const keep = new Set(this.index.all().map((e) => thumbnailName(e, THUMB_PX)));
    const names = await fs.promises.readdir(this.thumbDir.fsPath).catch(() => [] as string[]);
    await Promise.all(
      names
        .filter((n) => /^[0-9a-f]{16}-.*\.png$/.test(n) && !keep.has(n))
        .map((n) => fs.promises.rm(path.join(this.thumbDir.fsPath, n), { force: true }).catch(() => undefined)),
    );
  }

  /** The cached thumbnail, made by the engine when missing; the full image if the engine cannot. */
  private async thumbnail(e: GalleryEntry): Promise<vscode.Uri> {
    const dest = path.join(this.thumbDir.fsPath, thumbnailName(e, THUMB_PX));
    if (fs.existsSync(dest)) return vscode.Uri.file(dest);
    if (!this.services.isTrusted()) return vscode.Uri.file(e.path);
    try {
      const r = await this.services.engine.thumbnail({ source: e.path, dest, size: THUMB_PX });
      return vscode.Uri.file(r.path);
    } catch (err) {
      if (++this.infoFailures <= 3) this.services.log.warn(`Gallery thumbnail for ${e.path}: ${(err as Error).message}`);
      return vscode.Uri.file(e.path);
    }
  }

  // ---------------------------------------------------------------- actions

  private markdownEditor(): vscode.TextEditor | undefined {
    const a = vscode.window.activeTextEditor;
    if (a?.document.languageId === 'markdown') return a;
    const last = this.lastMarkdown;
    return last && vscode.window.visibleTextEditors.includes(last) ? last : vscode.window.visibleTextEditors.find((e) => e.document.languageId === 'markdown');
  }

  private async action(action: GalleryAction, id: string): Promise<void> {
    const e = this.index.get(id);
    if (!e) {
      this.post({ type: 'notice', level: 'error', message: vscode.l10n.t('That image is no longer in the gallery.') });
      return;
    }
    const uri = vscode.Uri.file(e.path);
    try {
      switch (action) {
        case 'insert': {
          if (!this.services.isTrusted()) throw new Error(vscode.l10n.t('This workspace is in Restricted Mode: nothing is written.'));
          const editor = this.markdownEditor();
          if (!editor) throw new Error(vscode.l10n.t('Open a Markdown file and put the cursor where the image goes, then insert again.'));
          const r = await this.services.insertImage({ uri: editor.document.uri, position: editor.selection.active }, e.path, altForImage(altFromPrompt(e.prompt), e.fields, editor.document));
          this.post({ type: 'notice', level: 'info', message: vscode.l10n.t('Inserted {0} into {1}.', r.markdown, vscode.workspace.asRelativePath(editor.document.uri, false)) });
          return;
        }
        case 'copyMarkdown': {
          const doc = this.markdownEditor()?.document.uri.fsPath;
          const ws = vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath;
          await vscode.env.clipboard.writeText(markdownImage(doc, e.path, altForImage(altFromPrompt(e.prompt), e.fields, this.markdownEditor()?.document), ws));
          this.post({ type: 'notice', level: 'info', message: vscode.l10n.t('Markdown copied to the clipboard.') });
          return;
        }
        case 'reveal':
          await vscode.commands.executeCommand('revealInExplorer', uri);
          return;
        case 'open':
          await vscode.commands.executeCommand('vscode.open', uri, { preview: true });
          return;
        case 'openInPanel':
          openResultsPanel({ settings: settingsFromEntry(e, defaultSettings(this.services.config())) });
          return;
        case 'redraw':
          openResultsPanel({ source: e.path, settings: { ...settingsFromEntry(e, defaultSettings(this.services.config())), seed: undefined, seedLocked: false } });
          return;
        case 'regenerate':
          openResultsPanel({
            settings: { ...settingsFromEntry(e, defaultSettings(this.services.config())), seed: undefined, seedLocked: false },
            generate: true,
          });
          return;
        case 'delete':
          return await this.delete(e, uri);
      }
    } catch (err) {
      this.post({ type: 'notice', level: 'error', message: (err as Error).message });
    }
  }

  private async delete(e: GalleryEntry, uri: vscode.Uri): Promise<void> {
    if (!this.services.isTrusted()) throw new Error(vscode.l10n.t('This workspace is in Restricted Mode: nothing is deleted.'));
    // Checked again now: a folder on the way may have become a symbolic link since it was listed.
    if (!(await this.contained(e.path))) {
      this.onDeleted(uri);
      this.notifyChanged(true);
      throw new Error(vscode.l10n.t('"{0}" is not a file inside the workspace (any more); nothing was deleted.', e.label));
    }
    const trash = vscode.l10n.t('Move to Trash');
    const ok = await vscode.window.showWarningMessage(
      vscode.l10n.t('Move "{0}" to the trash?', e.label),
      { modal: true, detail: this.deleteDetail(e.path) },
      trash,
    );
    if (ok !== trash) return;
    try {
      await moveToTrash(uri);
    } catch (err) {
      const deletePermanently = vscode.l10n.t('Delete Permanently');
      const again = await vscode.window.showWarningMessage(
        vscode.l10n.t('The trash is not available here ({0}). Delete "{1}" permanently?', (err as Error).message, e.label),
        { modal: true },
        deletePermanently,
      );
      if (again !== deletePermanently) return;
      await vscode.workspace.fs.delete(uri, { useTrash: false });
    }
    this.onDeleted(uri);
    this.notifyChanged(true);
  }

  private deleteDetail(p: string): string {
    if (!this.links.isLoaded) return vscode.l10n.t('Links to it in your Markdown files will break.');
    const use = this.links.use(p);
    const docs = [...new Set([...use.linkedFrom, ...use.namedIn])].map((d) => vscode.workspace.asRelativePath(d, false));
    if (docs.length === 0) return vscode.l10n.t('No Markdown document links to it.');
    const shown = docs.length > 3 ? [...docs.slice(0, 3), vscode.l10n.t('… and {0} more', docs.length - 3)] : docs;
    return vscode.l10n.t('Links to it will break in: {0}', shown.join(', '));
  }
}
