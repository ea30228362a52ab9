// Arguments that CodeLenses and tests pass to the stub and image commands.

import * as vscode from 'vscode';

export interface LineArgs {
  uri: vscode.Uri;
  line: number;
  /** Which stub/image on that line (0 = first). */
  index: number;
}

/** Where a stub or image command acts: the opened document and the line arguments. */
export interface LineTarget extends LineArgs {
  document: vscode.TextDocument;
}

/** Accepts (uri, line, index?) or ({ uri, line, index }); uri as Uri or string. */
export function lineArgs(args: unknown[]): LineArgs | undefined {
  let [a, line, index] = args as [unknown, unknown, unknown];
  if (a && typeof a === 'object' && !(a instanceof vscode.Uri) && 'line' in (a as object)) {
    const o = a as { uri: unknown; line: unknown; index?: unknown };
    a = o.uri;
    line = o.line;
    index = o.index;
  }
  const uri = a instanceof vscode.Uri ? a : typeof a === 'string' ? vscode.Uri.parse(a) : isUriLike(a) ? vscode.Uri.from(a) : vscode.window.activeTextEditor?.document.uri;
  const ln = typeof line === 'number' ? line : vscode.window.activeTextEditor?.selection.active.line;
  if (!uri || ln === undefined) return undefined;
  return { uri, line: ln, index: typeof index === 'number' ? index : 0 };
}

/** lineArgs, then the document they name, opened. */
export async function lineTarget(args: unknown[]): Promise<LineTarget | undefined> {
  const at = lineArgs(args);
  return at && { ...at, document: await vscode.workspace.openTextDocument(at.uri) };
}

/** Shows why nothing was done (a whole sentence, already translated); commands return its undefined. */
export function warnNothingOnLine(sentence: string): undefined {
  void vscode.window.showWarningMessage(sentence);
  return undefined;
}

function isUriLike(x: unknown): x is { scheme: string; path: string } {
  return !!x && typeof x === 'object' && typeof (x as { scheme?: unknown }).scheme === 'string' && typeof (x as { path?: unknown }).path === 'string';
}
