// The results list, newest first, kept in workspace state so it survives a reload; entries whose
// file is gone are dropped when it is read back.

import * as fs from 'node:fs';
import type * as vscode from 'vscode';
import { MAX_STORED_RESULTS, StoredResult, restoreResults } from './panelState';

const RESULTS_KEY = 'courseIllustrator.panel.results';

export class ResultStore {
  private results: StoredResult[];

  constructor(private readonly state: vscode.Memento) {
    this.results = restoreResults(state.get(RESULTS_KEY)).filter((r) => fs.existsSync(r.path));
  }

  all(): readonly StoredResult[] {
    return this.results;
  }

  find(id: string): StoredResult | undefined {
    return this.results.find((x) => x.id === id);
  }

  /** New images go first; the oldest fall off past MAX_STORED_RESULTS. */
  add(stored: StoredResult[]): void {
    this.results = [...stored, ...this.results].slice(0, MAX_STORED_RESULTS);
    void this.save();
  }

  clear(): void {
    this.results = [];
    void this.save();
  }

  private async save(): Promise<void> {
    await this.state.update(RESULTS_KEY, this.results);
  }
}
