// Which images the workspace's Markdown documents link (core/imageLinks.ts), for the gallery's
// "not linked" filter and clean-up. Read once when the gallery starts, then kept current cheaply:
// an edit, save, close, create or delete queues that one document and the queue is parsed 300 ms
// after the last event. An open document's text counts, saved or not: it is what the teacher sees
// and will save, and it may link an image that the file on disk does not yet.

import { promises as fs } from 'node:fs';
import * as vscode from 'vscode';
import { ImageLinkIndex, type ImageUse } from '../../core/imageLinks';
import type { Log } from '../services';
import { Disposable } from '../util/dispose';
import { GALLERY_EXCLUDE, isExcluded } from './exclude';
import { limiter } from './limit';

const MARKDOWN_GLOB = '**/*.{md,markdown}';
const MAX_DOCUMENTS = 20000;
/** Larger files are not read (a log or data dump named .md); they are reported as unreadable. */
const MAX_BYTES = 20 * 1024 * 1024;
const DEBOUNCE_MS = 300;

function isMarkdownPath(p: string): boolean {
  return /\.(md|markdown)$/i.test(p);
}

export class DocumentLinks extends Disposable {
  private readonly index = new ImageLinkIndex();
  private readonly _onDidChange = this._register(new vscode.EventEmitter<void>());
  /** Links changed: the gallery asks its webview to query again. */
  readonly onDidChange = this._onDidChange.event;
  private loading: Promise<void> | undefined;
  private loadGeneration = 0;
  private loaded = false;
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly readLimit = limiter(8);
  /** Documents that exist but could not be read: the clean-up says so, since they may link images. */
  private readonly unreadable = new Set<string>();

  constructor(private readonly log: Log) {
    super();
    this._register({ dispose: () => this.timer && clearTimeout(this.timer) });
  }

  /** True once every document was read: before that no image is called unlinked. */
  get isLoaded(): boolean {
    return this.loaded;
  }

  get unreadableCount(): number {
    return this.unreadable.size;
  }

  /** Reads every document (the first call) and follows changes from then on; resolves when all are read. */
  start(): Promise<void> {
    if (!this.loading) {
      this.watch();
      this.loading = this.load();
    }
    return this.loading;
  }

  use(imagePath: string): ImageUse {
    return this.index.use(imagePath);
  }

  /** True when the documents were read and none links the image or names its file. */
  isUnlinked(imagePath: string): boolean {
    return this.loaded && this.index.isUnused(imagePath);
  }

  /**
   * Parses the queued documents and every open one now, without waiting for the debounce: the
   * clean-up decides on this, right before it moves anything.
   */
  async flush(): Promise<void> {
    await this.start();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const d of vscode.workspace.textDocuments) if (d.uri.scheme === 'file' && isMarkdownPath(d.uri.path)) this.pending.add(d.uri.fsPath);
    await this.processPending();
  }

  private watch(): void {
    const md = this._register(vscode.workspace.createFileSystemWatcher(MARKDOWN_GLOB));
    this._register(md.onDidCreate((u) => this.queue(u)));
    this._register(md.onDidChange((u) => this.queue(u)));
    this._register(md.onDidDelete((u) => this.onDeleted(u)));
    // A deleted folder fires one event for itself, none for the documents in it.
    const folders = this._register(vscode.workspace.createFileSystemWatcher('**/*', true, true, false));
    this._register(folders.onDidDelete((u) => this.onDeleted(u)));
    this._register(vscode.workspace.onDidChangeTextDocument((e) => e.contentChanges.length > 0 && this.queue(e.document.uri)));
    // Closed without saving: the text on disk counts again.
    this._register(vscode.workspace.onDidCloseTextDocument((d) => this.queue(d.uri)));
    this._register(vscode.workspace.onDidChangeWorkspaceFolders(() => (this.loading = this.load())));
  }

  private async load(): Promise<void> {
    const generation = ++this.loadGeneration;
    const started = performance.now();
    const files = await vscode.workspace.findFiles(MARKDOWN_GLOB, GALLERY_EXCLUDE, MAX_DOCUMENTS);
    if (generation !== this.loadGeneration) return;
    // Half-read, every image would look unlinked: until the end nothing is called unlinked.
    this.loaded = false;
    this.index.clear();
    this.unreadable.clear();
    const open = this.openDocuments();
    await Promise.all(files.map((f) => this.readLimit(() => this.update(f.fsPath, open))));
    if (generation !== this.loadGeneration) return;
    this.loaded = true;
    this.log.info(
      `Gallery: image links of ${this.index.size} Markdown documents read in ${(performance.now() - started).toFixed(0)} ms` +
        (this.unreadable.size ? ` (${this.unreadable.size} could not be read)` : '') +
        '.',
    );
    this._onDidChange.fire();
  }

  private openDocuments(): Map<string, vscode.TextDocument> {
    const open = new Map<string, vscode.TextDocument>();
    for (const d of vscode.workspace.textDocuments) if (d.uri.scheme === 'file' && !d.isClosed) open.set(d.uri.fsPath, d);
    return open;
  }

  private queue(uri: vscode.Uri): void {
    if (uri.scheme !== 'file' || !isMarkdownPath(uri.path)) return;
    this.pending.add(uri.fsPath);
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.processPending();
    }, DEBOUNCE_MS);
  }

  private async processPending(): Promise<void> {
    const paths = [...this.pending];
    this.pending.clear();
    if (paths.length === 0) return;
    const open = this.openDocuments();
    const changed = await Promise.all(paths.map((p) => this.readLimit(() => this.update(p, open))));
    if (this.loaded && changed.some((c) => c)) this._onDidChange.fire();
  }

  /** Reads one document into the index (or drops it); true when its links changed. */
  private async update(p: string, open: ReadonlyMap<string, vscode.TextDocument>): Promise<boolean> {
    const uri = vscode.Uri.file(p);
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    if (!folder || isExcluded(vscode.workspace.asRelativePath(uri, false))) return this.index.delete(p);
    const doc = open.get(p);
    let text: string | undefined = doc && !doc.isClosed ? doc.getText() : undefined;
    if (text === undefined) {
      try {
        const st = await fs.stat(p);
        if (!st.isFile()) return this.index.delete(p);
        if (st.size > MAX_BYTES) throw new Error(`larger than ${MAX_BYTES / 1024 / 1024} MB`);
        text = await fs.readFile(p, 'utf8');
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') {
          this.unreadable.delete(p);
          return this.index.delete(p);
        }
        if (!this.unreadable.has(p)) this.log.warn(`Gallery could not read ${p} for its image links: ${(e as Error).message}`);
        this.unreadable.add(p);
        return this.index.delete(p);
      }
    }
    this.unreadable.delete(p);
    return this.index.set({ path: p, text, root: folder.uri.fsPath });
  }

  private onDeleted(uri: vscode.Uri): void {
    if (uri.scheme !== 'file') return;
    this.pending.delete(uri.fsPath);
    this.unreadable.delete(uri.fsPath);
    const n = (this.index.delete(uri.fsPath) ? 1 : 0) + this.index.deleteUnder(uri.fsPath);
    if (n && this.loaded) this._onDidChange.fire();
  }
}
