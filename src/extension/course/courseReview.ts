// The "Course Review" view: images an Illustrate All run made with "Review First" wait here,
// outside the course, by lesson. Each can be made again (new seed), varied (four to choose
// from) or dropped; "Insert" puts a lesson's accepted images in place of their stubs as ONE
// edit, so one Undo takes the whole lesson back. The list survives a reload.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { labelledAlt } from '../../core/domain';
import type { GenerationSettings } from '../../core/generationSettings';
import { withoutLoraTags } from '../../core/loraTags';
import type { GeneratedImage } from '../../core/protocol';
import type { ImageStub } from '../../core/stubs';
import { reportError } from '../generation/generateAndInsert';
import type { GenerationService, JobSink } from '../generation/generationService';
import { progressText } from '../generation/progressText';
import { insertImages } from '../insert/insertImage';
import { stubsOf } from '../stubs/documentStubs';
import { stubInsertTarget } from '../stubs/stubTarget';
import { isInside } from '../util/paths';
import { Disposable } from '../util/dispose';
import { type QueueItem, matchItem } from './courseQueue';
import { currentStub } from './findCourseStubs';
import { type ReviewItem, byDocument, parseSavedReview, savedReview, withItem } from './reviewList';

const REVIEW_KEY = 'courseIllustrator.courseReview';
/** Context key: images are waiting (shows the view's title actions). */
const WAITING_CONTEXT = 'courseIllustrator.reviewWaiting';
export const REVIEW_VIEW_ID = 'courseIllustrator.review';

type Node = { kind: 'document'; uri: string; count: number } | { kind: 'image'; item: ReviewItem };

export class CourseReview extends Disposable implements vscode.TreeDataProvider<Node> {
  private items: ReviewItem[];
  private readonly _onDidChangeTreeData = this._register(new vscode.EventEmitter<Node | undefined>());
  readonly onDidChangeTreeData = this._onDidChangeTreeData.event;

  constructor(
    private readonly generation: GenerationService,
    private readonly state: vscode.Memento,
  ) {
    super();
    this.items = parseSavedReview(state.get(REVIEW_KEY), (f) => fs.existsSync(f));
    void this.changed();
  }

  /** The images waiting, in lesson order (tests and the view read it). */
  waiting(): readonly ReviewItem[] {
    return byDocument(this.items).flatMap((g) => g.items);
  }

  /** Makes the image for a stub into the staging folder and lists it; the stub is not touched. */
  async stage(document: vscode.TextDocument, stub: ImageStub, item: QueueItem, settings: GenerationSettings, sink: JobSink): Promise<ReviewItem> {
    const outcome = await this.generation.run(
      { settings, document: document.uri, destination: 'staging', declaration: stub.options.domain ? { domain: stub.options.domain, source: 'directive' } : undefined },
      sink,
    );
    const image = outcome.result.images[0];
    const listed: ReviewItem = {
      id: `review-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
      stub: item,
      ...facts(image),
      settings,
      alt: stub.alt,
      label: { domain: outcome.label.domain, lang: outcome.label.lang },
    };
    await this.update(withItem(this.items, listed));
    return listed;
  }

  // ---------------------------------------------------------------- the view

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'document') {
      const uri = vscode.Uri.parse(node.uri);
      const t = new vscode.TreeItem(vscode.workspace.asRelativePath(uri, false), vscode.TreeItemCollapsibleState.Expanded);
      t.description = node.count === 1 ? vscode.l10n.t('1 image waiting') : vscode.l10n.t('{0} images waiting', node.count);
      t.resourceUri = uri;
      t.contextValue = 'reviewDocument';
      t.id = node.uri;
      return t;
    }
    const i = node.item;
    const t = new vscode.TreeItem(i.alt || i.settings.prompt, vscode.TreeItemCollapsibleState.None);
    t.id = i.id;
    // The picture itself as the icon; the tooltip names what goes in and how it was made.
    t.iconPath = vscode.Uri.file(i.image);
    t.description = vscode.l10n.t('line {0}, seed {1}', i.stub.line + 1, i.seed);
    t.tooltip = new vscode.MarkdownString(`![](${vscode.Uri.file(i.image).toString()}|width=256)\n\n${escapeMarkdown(i.settings.prompt)}`);
    t.contextValue = 'reviewImage';
    t.command = { command: 'vscode.open', title: vscode.l10n.t('Open Image'), arguments: [vscode.Uri.file(i.image)] };
    return t;
  }

  getChildren(node?: Node): Node[] {
    if (!node) return byDocument(this.items).map((g) => ({ kind: 'document', uri: g.uri, count: g.items.length }));
    if (node.kind === 'document') return byDocument(this.items).find((g) => g.uri === node.uri)?.items.map((item) => ({ kind: 'image', item })) ?? [];
    return [];
  }

  // ---------------------------------------------------------------- actions

  /** A new picture for the same stub (a new seed), under a notification. */
  async regenerate(id: string): Promise<void> {
    const item = this.find(id);
    if (!item) return;
    const made = await this.withNotification(vscode.l10n.t('Making "{0}" again', short(item.alt)), (sink) => this.remake(item, { ...item.settings, seed: undefined, batch: 1 }, sink));
    if (!made) return;
    const image = made.result.images[0];
    await this.replace(item, image);
  }

  /** Four new pictures for the stub; the teacher keeps one. */
  async vary(id: string): Promise<void> {
    const item = this.find(id);
    if (!item) return;
    const made = await this.withNotification(vscode.l10n.t('Making 4 variations of "{0}"', short(item.alt)), (sink) => this.remake(item, { ...item.settings, seed: undefined, batch: 4 }, sink));
    if (!made) return;
    const chosen = await this.generation.services.chooseImage(made.result.images, vscode.l10n.t('Choose a variation of "{0}"', short(item.alt)));
    if (chosen) await this.replace(item, chosen);
    for (const other of made.result.images) if (other.path !== chosen?.path) await this.removeStaged(other.path);
  }

  /** Leaves the stub as it is; the staged picture is deleted. */
  async drop(id: string): Promise<void> {
    const item = this.find(id);
    if (!item) return;
    await this.update(this.items.filter((x) => x.id !== id));
    await this.removeStaged(item.image);
  }

  /**
   * Puts the waiting images of a document (all documents when undefined) in place of their stubs:
   * one edit per document. An image whose stub is gone (edited meanwhile) stays listed, and says so.
   */
  async insert(documentUri?: string): Promise<number> {
    if (!this.generation.services.isTrusted()) return 0;
    let inserted = 0;
    for (const group of byDocument(this.items)) {
      if (documentUri && group.uri !== documentUri) continue;
      try {
        inserted += await this.insertDocument(vscode.Uri.parse(group.uri), group.items);
      } catch (e) {
        reportError(this.generation.services, e);
      }
    }
    return inserted;
  }

  private async insertDocument(uri: vscode.Uri, items: readonly ReviewItem[]): Promise<number> {
    const document = await vscode.workspace.openTextDocument(uri);
    const stubs = stubsOf(document).stubs;
    const current = stubs.map(currentStub);
    const ready: { item: ReviewItem; stub: ImageStub }[] = [];
    const free = current.map((_, i) => i);
    for (const item of items) {
      // Two stubs with the same prompt: each image takes the nearest one not taken yet.
      const found = matchItem(item.stub, free.map((i) => current[i]), true);
      if (found === undefined) continue;
      ready.push({ item, stub: stubs[free[found]] });
      free.splice(found, 1);
    }
    const missing = items.length - ready.length;
    if (missing) {
      void vscode.window.showWarningMessage(
        vscode.l10n.t('{0} of the waiting images of {1} have no stub any more (edited or deleted); they stay in the review list.', missing, vscode.workspace.asRelativePath(uri, false)),
      );
    }
    if (!ready.length) return 0;
    // Copied into the course first (the document's image folder, a name from prompt and seed):
    // the edit then only links files that exist.
    const entries = [];
    for (const { item, stub } of ready) {
      const kept = await this.generation.keep(toImage(item), uri, item.settings.prompt);
      entries.push({ target: stubInsertTarget(uri, stub), imagePath: kept.path, alt: labelledAlt(withoutLoraTags(item.alt) || item.alt, item.label.domain, item.label.lang) });
    }
    await insertImages(uri, entries);
    const done = new Set(ready.map((r) => r.item.id));
    await this.update(this.items.filter((x) => !done.has(x.id)));
    for (const { item } of ready) await this.removeStaged(item.image);
    this.generation.services.log.info(`course review: inserted ${ready.length} images into ${vscode.workspace.asRelativePath(uri)} as one edit`);
    return ready.length;
  }

  private remake(item: ReviewItem, settings: GenerationSettings, sink: JobSink) {
    const uri = vscode.Uri.parse(item.stub.uri);
    return this.generation.run({ settings, document: uri, destination: 'staging', declaration: item.label.domain === 'medical' ? { domain: 'medical', source: 'image' } : undefined }, sink);
  }

  private async replace(item: ReviewItem, image: GeneratedImage): Promise<void> {
    await this.update(withItem(this.items, { ...item, ...facts(image) }));
    await this.removeStaged(item.image);
  }

  private withNotification<T>(title: string, run: (sink: JobSink) => Promise<T>): Promise<T | undefined> {
    return Promise.resolve(
      vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
        try {
          return await run({ token, onProgress: (e) => progress.report({ message: progressText(e) }) });
        } catch (e) {
          reportError(this.generation.services, e);
          return undefined;
        }
      }),
    );
  }

  /** A staged file and, when it was the last, its job folder; never anything outside the staging folder. */
  private async removeStaged(file: string): Promise<void> {
    if (!isInside(file, this.generation.stagingRoot.fsPath)) return;
    await fs.promises.unlink(file).catch(() => undefined);
    await fs.promises.rmdir(path.dirname(file)).catch(() => undefined);
  }

  private find(id: string): ReviewItem | undefined {
    const item = this.items.find((x) => x.id === id);
    if (!item) void vscode.window.showInformationMessage(vscode.l10n.t('That image is no longer waiting for review.'));
    return item;
  }

  private async update(items: ReviewItem[]): Promise<void> {
    this.items = items;
    await this.state.update(REVIEW_KEY, savedReview(items));
    await this.changed();
  }

  private async changed(): Promise<void> {
    this._onDidChangeTreeData.fire(undefined);
    await vscode.commands.executeCommand('setContext', WAITING_CONTEXT, this.items.length > 0);
  }
}

function facts(image: GeneratedImage): Pick<ReviewItem, 'image' | 'seed' | 'width' | 'height' | 'infotext'> {
  return { image: image.path, seed: image.seed, width: image.width, height: image.height, infotext: image.infotext };
}

function toImage(item: ReviewItem): GeneratedImage {
  return { path: item.image, seed: item.seed, width: item.width, height: item.height, infotext: item.infotext };
}

function short(text: string): string {
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+!|<>-]/g, (c) => `\\${c}`);
}
