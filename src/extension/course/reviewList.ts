// "Review before inserting": the images an Illustrate All run made, waiting outside the course
// until the teacher accepts them. The pure part, without vscode: what one waiting image is, how
// the list is kept in workspaceState and read back (anything malformed is dropped), grouping by
// document in lesson order.

import type { ContentDomain } from '../../core/protocol';
import type { GenerationSettings } from '../../core/generationSettings';
import { type QueueItem, type StubKind, orderDocuments } from './courseQueue';

/** One image made for a stub and not inserted yet. */
export interface ReviewItem {
  /** Unique in the list; the tree and the commands name it. */
  id: string;
  /** The stub it is for, found again by its prompt when it goes in (courseQueue.matchItem). */
  stub: QueueItem;
  /** The staged PNG (the generation service's staging folder, outside the course). */
  image: string;
  seed: number;
  width: number;
  height: number;
  infotext: string;
  /** The settings it was made with (a course style applied): Regenerate and Variations reuse them. */
  settings: GenerationSettings;
  alt: string;
  label: { domain: ContentDomain; lang: 'en' | 'zh' };
}

const KEY_VERSION = 1;

export interface SavedReview {
  version: typeof KEY_VERSION;
  items: ReviewItem[];
}

export function savedReview(items: readonly ReviewItem[]): SavedReview | undefined {
  return items.length ? { version: KEY_VERSION, items: [...items] } : undefined;
}

/** workspaceState's value read back; `exists` drops items whose staged file is gone. */
export function parseSavedReview(raw: unknown, exists: (file: string) => boolean): ReviewItem[] {
  if (!raw || typeof raw !== 'object') return [];
  const r = raw as Partial<SavedReview>;
  if (r.version !== KEY_VERSION || !Array.isArray(r.items)) return [];
  return r.items.filter((i): i is ReviewItem => isItem(i) && exists(i.image));
}

function isItem(i: unknown): boolean {
  if (!i || typeof i !== 'object') return false;
  const x = i as Partial<ReviewItem>;
  const s = x.stub as Partial<QueueItem> | undefined;
  const kinds: StubKind[] = ['empty-link', 'directive'];
  return (
    typeof x.id === 'string' &&
    typeof x.image === 'string' &&
    typeof x.seed === 'number' &&
    typeof x.width === 'number' &&
    typeof x.height === 'number' &&
    typeof x.infotext === 'string' &&
    typeof x.alt === 'string' &&
    !!x.settings &&
    typeof x.settings.prompt === 'string' &&
    !!x.label &&
    ['general', 'education', 'medical'].includes(x.label.domain) &&
    ['en', 'zh'].includes(x.label.lang) &&
    !!s &&
    typeof s.uri === 'string' &&
    typeof s.prompt === 'string' &&
    Number.isInteger(s.line) &&
    kinds.includes(s.kind as StubKind)
  );
}

/** The waiting images by document, documents in lesson order, images in document order. */
export function byDocument(items: readonly ReviewItem[]): { uri: string; items: ReviewItem[] }[] {
  const groups = new Map<string, ReviewItem[]>();
  for (const i of items) groups.set(i.stub.uri, [...(groups.get(i.stub.uri) ?? []), i]);
  return orderDocuments([...groups.keys()]).map((uri) => ({ uri, items: groups.get(uri)!.sort((a, b) => a.stub.line - b.stub.line) }));
}

/** The list with `item` in place of the one with its id, or added. */
export function withItem(items: readonly ReviewItem[], item: ReviewItem): ReviewItem[] {
  const i = items.findIndex((x) => x.id === item.id);
  return i < 0 ? [...items, item] : items.map((x, j) => (j === i ? item : x));
}
