// The Markdown file the panel's images are for, and where the cursor was in each Markdown file,
// so Insert lands where the user last was even after focus moved to the panel.

import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { Disposable } from '../util/dispose';

const TARGET_KEY = 'courseIllustrator.panel.target';

export function isMarkdown(doc: vscode.TextDocument): boolean {
  return doc.languageId === 'markdown';
}

export class PanelTarget extends Disposable {
  private target: vscode.Uri | undefined;
  private lastMarkdown: vscode.Uri | undefined;
  private readonly cursors = new Map<string, vscode.Position>();
  /** The stub the panel was opened on ("Open in panel"): Insert replaces it. */
  private stub: { doc: string; line: number; prompt: string } | undefined;

  constructor(private readonly state: vscode.Memento) {
    super();
    // The Markdown file the panel works for survives a reload too (if it still exists).
    const saved = state.get<unknown>(TARGET_KEY);
    if (typeof saved === 'string') {
      const uri = vscode.Uri.parse(saved);
      if (uri.scheme === 'file' && fs.existsSync(uri.fsPath)) this.target = uri;
    }
    this.trackEditor(vscode.window.activeTextEditor);
    this._register(vscode.window.onDidChangeActiveTextEditor((e) => this.trackEditor(e)));
    this._register(
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (isMarkdown(e.textEditor.document)) this.cursors.set(e.textEditor.document.uri.toString(), e.selections[0].active);
      }),
    );
  }

  set(doc: vscode.Uri): void {
    if (this.stub && this.stub.doc !== doc.toString()) this.stub = undefined;
    this.target = doc;
    void this.state.update(TARGET_KEY, doc.toString());
  }

  /** The panel works for this stub of `doc` until an image replaces it. */
  setStub(doc: vscode.Uri, stub: { line: number; prompt: string } | undefined): void {
    this.stub = stub && { doc: doc.toString(), ...stub };
  }

  stubIn(doc: vscode.Uri): { line: number; prompt: string } | undefined {
    return this.stub?.doc === doc.toString() ? { line: this.stub.line, prompt: this.stub.prompt } : undefined;
  }

  clearStub(): void {
    this.stub = undefined;
  }

  activeMarkdown(): vscode.Uri | undefined {
    const e = vscode.window.activeTextEditor;
    return e && isMarkdown(e.document) ? e.document.uri : this.lastMarkdown;
  }

  document(): vscode.Uri | undefined {
    return this.target ?? this.activeMarkdown();
  }

  label(): string | undefined {
    const t = this.document();
    return t ? vscode.workspace.asRelativePath(t, false) : undefined;
  }

  cursorIn(doc: vscode.Uri): vscode.Position {
    const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === doc.toString());
    return this.cursors.get(doc.toString()) ?? visible?.selection.active ?? new vscode.Position(0, 0);
  }

  setCursor(doc: vscode.Uri, position: vscode.Position): void {
    this.cursors.set(doc.toString(), position);
  }

  private trackEditor(editor: vscode.TextEditor | undefined): void {
    if (!editor || !isMarkdown(editor.document)) return;
    this.lastMarkdown = editor.document.uri;
    this.cursors.set(editor.document.uri.toString(), editor.selection.active);
  }
}
