// The results list, newest first, kept in workspace state so it survives a reload; entries whose
// file is gone are dropped when it is read back. Results wait in the staging folder (outside the
// course) until inserted; a staged file leaves with its entry, and old staged jobs are tidied.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as vscode from 'vscode';
import { isInside } from '../util/paths';
import { MAX_STORED_RESULTS, StoredResult, restoreResults } from './panelState';

const RESULTS_KEY = 'courseIllustrator.panel.results';
/** Staged jobs untouched this long are removed when the panel starts (any workspace's). */
export const STAGED_RESULT_MAX_AGE_MS = 14 * 24 * 3600 * 1000;

export class ResultStore {
  private results: StoredResult[];

  constructor(
    private readonly state: vscode.Memento,
    /** Where the generation service stages results; files elsewhere are never deleted here. */
    private readonly stagingRoot?: string,
  ) {
    this.results = restoreResults(state.get(RESULTS_KEY)).filter((r) => fs.existsSync(r.path));
    if (stagingRoot) void removeOldJobs(stagingRoot, Date.now() - STAGED_RESULT_MAX_AGE_MS);
  }

  all(): readonly StoredResult[] {
    return this.results;
  }

  find(id: string): StoredResult | undefined {
    return this.results.find((x) => x.id === id);
  }

  /** New images go first; the oldest fall off past MAX_STORED_RESULTS, their staged files with them. */
  add(stored: StoredResult[]): void {
    const all = [...stored, ...this.results];
    this.results = all.slice(0, MAX_STORED_RESULTS);
    void this.forget(all.slice(MAX_STORED_RESULTS));
    void this.save();
  }

  /** Changes one result (by id) and saves the list. */
  update(id: string, change: Partial<StoredResult>): void {
    this.results = this.results.map((r) => (r.id === id ? { ...r, ...change } : r));
    void this.save();
  }

  clear(): void {
    const gone = this.results;
    this.results = [];
    void this.forget(gone);
    void this.save();
  }

  /** Deletes the staged files of results no longer listed (inserted copies in the course stay). */
  private async forget(gone: readonly StoredResult[]): Promise<void> {
    const root = this.stagingRoot;
    if (!root) return;
    for (const r of gone) {
      if (!isInside(r.path, root) || this.results.some((x) => x.path === r.path)) continue;
      await fs.promises.unlink(r.path).catch(() => undefined);
      // The job's folder goes when its last image did.
      await fs.promises.rmdir(path.dirname(r.path)).catch(() => undefined);
    }
  }

  private async save(): Promise<void> {
    await this.state.update(RESULTS_KEY, this.results);
  }
}

async function removeOldJobs(root: string, before: number): Promise<void> {
  const entries = await fs.promises.readdir(root, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const dir = path.join(root, e.name);
    const st = await fs.promises.stat(dir).catch(() => undefined);
    if (st && st.mtimeMs < before) await fs.promises.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}
