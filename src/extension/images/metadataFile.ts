// Remembers what engine.info said about each PNG (keyed by path, valid while mtime and size match),
// so reopening a workspace with 1,000 images costs 1,000 stats, not 1,000 PNG reads.
// Stored as JSON outside the workspace; written atomically and at most once per second.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { isRecord } from '../../core/validate';
import type { PngFacts } from '../../core/galleryIndex';

export interface CachedFacts {
  mtimeMs: number;
  size: number;
  facts: PngFacts;
}

// 2: facts keep the whole `parameters` text (Show Parameters reads it from here too).
const VERSION = 2;

function validFacts(x: unknown): PngFacts | undefined {
  if (!isRecord(x) || typeof x.width !== 'number' || typeof x.height !== 'number' || typeof x.madeByCourseIllustrator !== 'boolean') return undefined;
  const fields: Record<string, string> = {};
  if (isRecord(x.fields)) for (const [k, v] of Object.entries(x.fields)) if (typeof v === 'string') fields[k] = v;
  return {
    width: x.width,
    height: x.height,
    prompt: typeof x.prompt === 'string' ? x.prompt : undefined,
    negativePrompt: typeof x.negativePrompt === 'string' ? x.negativePrompt : undefined,
    fields,
    parameters: typeof x.parameters === 'string' ? x.parameters : undefined,
    madeByCourseIllustrator: x.madeByCourseIllustrator,
  };
}

export class MetadataCache {
  private readonly map = new Map<string, CachedFacts>();
  private timer: NodeJS.Timeout | undefined;
  private loaded = false;

  constructor(private readonly file: string) {}

  /** Reads the file once; later calls keep what is in memory (it is newer). */
  load(): void {
    if (this.loaded) return;
    this.loaded = true;
    try {
      const data: unknown = JSON.parse(fs.readFileSync(this.file, 'utf8'));
      if (!isRecord(data) || data.version !== VERSION || !isRecord(data.entries)) return;
      for (const [p, v] of Object.entries(data.entries)) {
        if (!isRecord(v) || typeof v.mtimeMs !== 'number' || typeof v.size !== 'number') continue;
        const facts = validFacts(v.facts);
        if (facts) this.map.set(p, { mtimeMs: v.mtimeMs, size: v.size, facts });
      }
    } catch {
      // missing or corrupt cache: start empty, it is only a speed-up
    }
  }

  has(p: string): boolean {
    return this.map.has(p);
  }

  get(p: string, mtimeMs: number, size: number): PngFacts | undefined {
    const c = this.map.get(p);
    return c && c.mtimeMs === mtimeMs && c.size === size ? c.facts : undefined;
  }

  set(p: string, mtimeMs: number, size: number, facts: PngFacts): void {
    this.map.set(p, { mtimeMs, size, facts });
    this.scheduleSave();
  }

  delete(p: string): void {
    if (this.map.delete(p)) this.scheduleSave();
  }

  /** Forgets files that no longer exist (after a full scan). */
  retainOnly(paths: ReadonlySet<string>): void {
    let changed = false;
    for (const p of this.map.keys()) {
      if (!paths.has(p)) {
        this.map.delete(p);
        changed = true;
      }
    }
    if (changed) this.scheduleSave();
  }

  private scheduleSave(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.saveNow();
    }, 1000);
  }

  saveNow(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const entries: Record<string, CachedFacts> = {};
    for (const [p, v] of this.map) entries[p] = v;
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      fs.writeFileSync(tmp, JSON.stringify({ version: VERSION, entries }));
      fs.renameSync(tmp, this.file);
    } catch {
      // the cache is optional; a failed write only costs a rescan next time
    }
  }

  dispose(): void {
    if (this.timer) this.saveNow();
  }
}
