// Keeps a range valid while the user edits the document during a generation, so the image
// lands where the job was started even after lines were added above it.

import * as vscode from 'vscode';
import { Disposable } from '../util/dispose';

export class TrackedRange extends Disposable {
  private _range: vscode.Range;
  private _deleted = false;

  constructor(
    readonly uri: vscode.Uri,
    range: vscode.Range,
  ) {
    super();
    this._range = range;
    this._register(
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document.uri.toString() !== this.uri.toString()) return;
        // Changes in one event are non-overlapping and refer to the document before the event;
        // applying them from the last to the first keeps earlier offsets valid.
        const changes = [...e.contentChanges].sort((a, b) => b.range.start.compareTo(a.range.start));
        for (const c of changes) this.apply(c.range, c.text);
      }),
    );
  }

  get range(): vscode.Range {
    return this._range;
  }

  /** True when an edit overlapped the tracked text (the stub was edited or removed). */
  get deleted(): boolean {
    return this._deleted;
  }

  private apply(changed: vscode.Range, text: string): void {
    const r = this._range;
    if (changed.start.isAfterOrEqual(r.end) && !(r.isEmpty && changed.start.isEqual(r.end))) return;
    if (changed.end.isBeforeOrEqual(r.start)) {
      this._range = new vscode.Range(shift(r.start, changed, text), shift(r.end, changed, text));
      return;
    }
    if (r.isEmpty && changed.start.isEqual(r.start) && changed.end.isEqual(r.start)) {
      // Typing exactly at the cursor: the image goes after what was typed.
      const p = shift(r.start, changed, text);
      this._range = new vscode.Range(p, p);
      return;
    }
    this._deleted = true;
    const p = changed.start;
    this._range = new vscode.Range(p, p);
  }
}

/** Where `p` (at or after changed.end) moves when `changed` is replaced by `text`. */
function shift(p: vscode.Position, changed: vscode.Range, text: string): vscode.Position {
  if (p.isBefore(changed.end)) return p;
  const lines = text.split(/\r\n|\r|\n/);
  const lineDelta = lines.length - 1 - (changed.end.line - changed.start.line);
  if (p.line === changed.end.line) {
    const lastLen = lines[lines.length - 1].length;
    const base = lines.length === 1 ? changed.start.character + lastLen : lastLen;
    return new vscode.Position(p.line + lineDelta, base + (p.character - changed.end.character));
  }
  return new vscode.Position(p.line + lineDelta, p.character);
}
