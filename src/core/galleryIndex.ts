// The gallery's index of images made by Course Illustrator in the workspace: entries built from
// PNG metadata, newest first, searched by prompt text and served in pages so that 1,000+ images
// stay cheap to show. Pure: the extension feeds it file facts; no fs, no vscode.

import { modelPromptFor, settingsFromInfotext } from './generationSettings';
import { findTemplate } from './templates';
import type { PanelSettings, SchedulerChoice } from './webviewMessages';

export interface GalleryEntry {
  /** Stable handle derived from the path; the only thing a webview may name. */
  id: string;
  /** Absolute file path (stays in the extension host). */
  path: string;
  /** Workspace-relative path for display and search. */
  label: string;
  fileName: string;
  mtimeMs: number;
  size: number;
  width: number;
  height: number;
  prompt: string;
  negativePrompt: string;
  /** Parsed A1111 infotext pairs ("Steps", "Sampler", "Seed", ...). */
  fields: Record<string, string>;
}

export interface GalleryQuery {
  text: string;
  offset: number;
  limit: number;
  /** A filter applied with the search, before paging (the gallery's "not linked" view). */
  only?: (entry: GalleryEntry) => boolean;
}

export interface GalleryPage {
  total: number;
  offset: number;
  items: GalleryEntry[];
}

/** 16 hex digits from two FNV-1a passes over the path: stable across sessions, safe in ids and file names. */
export function entryId(path: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ path.length;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c ^ (i & 0xff), 0x01000193 + 0x3c6ef372) >>> 0;
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}

/** Cache file name for a thumbnail; changes when the image changes, so stale thumbnails are never shown. */
export function thumbnailName(entry: Pick<GalleryEntry, 'id' | 'mtimeMs' | 'size'>, px: number): string {
  return `${entry.id}-${Math.floor(entry.mtimeMs).toString(36)}-${entry.size.toString(36)}-${px}.png`;
}

/** Newest first; ties broken by label so the order is stable. */
export function compareNewestFirst(a: GalleryEntry, b: GalleryEntry): number {
  return b.mtimeMs - a.mtimeMs || a.label.localeCompare(b.label);
}

function terms(text: string): string[] {
  return text.toLowerCase().split(/\s+/).filter((t) => t.length > 0);
}

/** Every word of the query must appear in the prompt or the file's path (case-insensitive). */
export function matchesQuery(entry: GalleryEntry, text: string): boolean {
  const words = terms(text);
  if (words.length === 0) return true;
  const hay = `${entry.prompt}\n${entry.label}`.toLowerCase();
  return words.every((w) => hay.includes(w));
}

export class GalleryIndex {
  private readonly byId = new Map<string, GalleryEntry>();
  private sorted: GalleryEntry[] | undefined;

  get size(): number {
    return this.byId.size;
  }

  get(id: string): GalleryEntry | undefined {
    return this.byId.get(id);
  }

  getByPath(path: string): GalleryEntry | undefined {
    return this.byId.get(entryId(path));
  }

  /** Adds or replaces the entry for `entry.path`. */
  upsert(entry: GalleryEntry): void {
    this.byId.set(entry.id, entry);
    this.sorted = undefined;
  }

  /** Removes the entry for a path; true when there was one. */
  removePath(path: string): boolean {
    const removed = this.byId.delete(entryId(path));
    if (removed) this.sorted = undefined;
    return removed;
  }

  /** Removes every entry under a folder (a deleted folder fires one event). */
  removeUnder(folder: string, sep = '/'): number {
    const prefix = folder.endsWith(sep) ? folder : folder + sep;
    let n = 0;
    for (const [id, e] of this.byId) {
      if (e.path.startsWith(prefix)) {
        this.byId.delete(id);
        n++;
      }
    }
    if (n) this.sorted = undefined;
    return n;
  }

  clear(): void {
    this.byId.clear();
    this.sorted = undefined;
  }

  /** All entries, newest first (sorted once per change, not per query). */
  all(): readonly GalleryEntry[] {
    if (!this.sorted) this.sorted = [...this.byId.values()].sort(compareNewestFirst);
    return this.sorted;
  }

  query(q: GalleryQuery): GalleryPage {
    const only = q.only;
    const text = q.text.trim();
    const list = text || only ? this.all().filter((e) => (!only || only(e)) && (!text || matchesQuery(e, text))) : this.all();
    const offset = Math.max(0, Math.min(q.offset, list.length));
    const limit = Math.max(0, q.limit);
    return { total: list.length, offset, items: list.slice(offset, offset + limit) };
  }
}

/**
 * The panel settings that reproduce an image, from its metadata (generationSettings.ts's one
 * reader): values outside the limits are brought within them, missing ones come from `defaults`.
 */
export function settingsFromEntry(
  entry: Pick<GalleryEntry, 'prompt' | 'negativePrompt' | 'fields' | 'width' | 'height'>,
  defaults: PanelSettings,
): PanelSettings {
  const read = settingsFromInfotext(entry)?.settings;
  // The panel has no field for a course's style: its words stay in the prompt, as the model read
  // them (and the template, which they follow, stays in the text too).
  const s = read?.style ? { ...read, prompt: modelPromptFor(read, findTemplate(read.template)), template: undefined } : read;
  return {
    prompt: s?.prompt ?? defaults.prompt,
    negativePrompt: entry.negativePrompt,
    width: s?.width ?? defaults.width,
    height: s?.height ?? defaults.height,
    steps: s?.steps ?? defaults.steps,
    guidance: s?.guidance ?? defaults.guidance,
    scheduler: (s?.scheduler as SchedulerChoice | undefined) ?? 'default',
    seed: s?.seed,
    seedLocked: s?.seed !== undefined,
    batch: 1,
    ...(s?.template ? { template: s.template } : {}),
  };
}

/** What the engine says about a PNG (engine.info), reduced to what the gallery needs. */
export interface PngFacts {
  width: number;
  height: number;
  prompt?: string;
  negativePrompt?: string;
  fields?: Record<string, string>;
  /** The A1111 `parameters` text as written. */
  parameters?: string;
  madeByCourseIllustrator: boolean;
}

/** True for an image made by us, or one with AUTOMATIC1111's parameters (A1111, ComfyUI, Forge…). */
export function hasGenerationParameters(info: Pick<PngFacts, 'madeByCourseIllustrator' | 'prompt' | 'fields'>): boolean {
  if (info.madeByCourseIllustrator) return true;
  const f = info.fields ?? {};
  return !!info.prompt?.trim() && ('Steps' in f || 'Seed' in f || 'Sampler' in f);
}

/**
 * A gallery entry for a file: one Course Illustrator made, or another tool's PNG with A1111
 * parameters (a teacher's earlier pictures belong in the same gallery); else undefined.
 */
export function entryFromPng(
  file: { path: string; label: string; mtimeMs: number; size: number },
  info: PngFacts,
): GalleryEntry | undefined {
  if (!hasGenerationParameters(info)) return undefined;
  const fileName = file.path.split(/[\\/]/).pop() ?? file.path;
  return {
    id: entryId(file.path),
    path: file.path,
    label: file.label,
    fileName,
    mtimeMs: file.mtimeMs,
    size: file.size,
    width: info.width,
    height: info.height,
    prompt: info.prompt ?? '',
    negativePrompt: info.negativePrompt ?? '',
    fields: { ...(info.fields ?? {}) },
  };
}
