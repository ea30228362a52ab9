// Puts `![alt](relative/link.png)` into a Markdown document as one undoable edit. Works on the
// document, not the active editor, so the image lands in the file the job started from even
// when the user moved to another editor meanwhile.

import * as vscode from 'vscode';
import { imageMarkdown, relativeImageLink, toPosixPath } from '../../core/links';
import type { InsertResult, InsertTarget } from '../services';

export interface InsertDeps {
  openTextDocument(uri: vscode.Uri): Thenable<vscode.TextDocument>;
  applyEdit(edit: vscode.WorkspaceEdit): Thenable<boolean>;
}

export const defaultInsertDeps: InsertDeps = {
  openTextDocument: (uri) => vscode.workspace.openTextDocument(uri),
  applyEdit: (edit) => vscode.workspace.applyEdit(edit),
};

export async function insertImage(target: InsertTarget, imagePath: string, alt: string, deps: InsertDeps = defaultInsertDeps): Promise<InsertResult> {
  const document = await deps.openTextDocument(target.uri);
  const imagePosix = /^[a-z][a-z0-9+.-]+:/i.test(imagePath) && !/^[a-zA-Z]:[\\/]/.test(imagePath) ? vscode.Uri.parse(imagePath).path : toPosixPath(imagePath);
  const markdown = imageMarkdown(alt, relativeImageLink(document.uri.path, imagePosix));
  const eol = document.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n';
  const edit = new vscode.WorkspaceEdit();
  let start: vscode.Position;
  if ('range' in target) {
    const range = document.validateRange(target.range);
    edit.replace(document.uri, range, markdown);
    start = range.start;
  } else if ('lineAfter' in target) {
    const line = Math.min(target.lineAfter, document.lineCount - 1);
    const end = document.lineAt(line).range.end;
    edit.insert(document.uri, end, eol + markdown);
    start = new vscode.Position(line + 1, 0);
  } else {
    const at = document.validatePosition(target.position);
    edit.insert(document.uri, at, markdown);
    start = at;
  }
  if (!(await deps.applyEdit(edit))) {
    throw new Error(`Could not edit ${vscode.workspace.asRelativePath(document.uri)} (is it read-only?). The image is at ${imagePath}.`);
  }
  return { markdown, range: new vscode.Range(start, start.translate(0, markdown.length)) };
}
