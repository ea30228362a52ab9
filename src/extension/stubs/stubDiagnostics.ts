// Problems in illustrate comments (unknown keys, bad values) as Diagnostics, refreshed as the
// document changes (debounced).

import * as vscode from 'vscode';
import { Disposable } from '../util/dispose';
import { forgetDocument, stubsOf, toRange } from './documentStubs';

export class StubDiagnostics extends Disposable {
  private readonly collection = this._register(vscode.languages.createDiagnosticCollection('courseIllustrator'));
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor() {
    super();
    this._register(vscode.workspace.onDidOpenTextDocument((d) => this.update(d)));
    this._register(vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document)));
    this._register(
      vscode.workspace.onDidCloseTextDocument((d) => {
        this.collection.delete(d.uri);
        forgetDocument(d.uri);
      }),
    );
    this._register({ dispose: () => this.timers.forEach((t) => clearTimeout(t)) });
    for (const d of vscode.workspace.textDocuments) this.update(d);
  }

  private schedule(document: vscode.TextDocument): void {
    if (document.languageId !== 'markdown') return;
    const key = document.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        if (!document.isClosed) this.update(document);
      }, 300),
    );
  }

  update(document: vscode.TextDocument): void {
    if (document.languageId !== 'markdown') return;
    const diagnostics = stubsOf(document).diagnostics.map((d) => {
      const severity = d.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning;
      const diag = new vscode.Diagnostic(toRange(d.range), d.message, severity);
      // The product's name, as the Problems view shows it beside every message.
      diag.source = 'Course Illustrator';
      return diag;
    });
    this.collection.set(document.uri, diagnostics);
  }
}
