// Puts `![alt](relative/link.png)` into a Markdown document as one undoable edit. Works on the
// document, not the active editor, so the image lands in the file the job started from even
// when the user moved to another editor meanwhile.

import * as vscode from 'vscode';
import { imageMarkdown, relativeImageLink, toPosixPath } from '../../core/links';
import type { InsertResult, InsertTarget } from '../services';
import { inDocumentQueue } from './documentQueue';
import { ownLineBreaks } from './ownLine';

export interface InsertDeps {
  openTextDocument(uri: vscode.Uri): Thenable<vscode.TextDocument>;
  applyEdit(edit: vscode.WorkspaceEdit): Thenable<boolean>;
}

export const defaultInsertDeps: InsertDeps = {
  openTextDocument: (uri) => vscode.workspace.openTextDocument(uri),
  applyEdit: (edit) => vscode.workspace.applyEdit(edit),
};

/**
 * `target` may be a function: it is called right before the edit is built (after earlier
 * edits to the same document were applied), so a tracked position is read when it is current.
 */
export async function insertImage(
  target: InsertTarget | (() => InsertTarget),
  imagePath: string,
  alt: string,
  deps: InsertDeps = defaultInsertDeps,
): Promise<InsertResult> {
  const current = (): InsertTarget => (typeof target === 'function' ? target() : target);
  const uri = current().uri;
  return inDocumentQueue(uri.toString(), async () => {
    // The user may type between reading the document and applying the edit; VS Code then
    // refuses the edit, and building it once more against the new version succeeds.
    for (let attempt = 1; ; attempt++) {
      const document = await deps.openTextDocument(uri);
      const { edit, result } = buildEdit(document, current(), imagePath, alt);
      if (await deps.applyEdit(edit)) return result;
      if (attempt === 2) {
        throw new Error(vscode.l10n.t('Could not edit {0} (is it read-only?). The image is at {1}.', vscode.workspace.asRelativePath(document.uri), imagePath));
      }
    }
  });
}

/**
 * Several images into one document as ONE edit (one undo step): each target is read against the
 * same version of the document, so targets must not overlap.
 */
export async function insertImages(
  uri: vscode.Uri,
  images: readonly { target: InsertTarget; imagePath: string; alt: string }[],
  deps: InsertDeps = defaultInsertDeps,
): Promise<InsertResult[]> {
  return inDocumentQueue(uri.toString(), async () => {
    for (let attempt = 1; ; attempt++) {
      const document = await deps.openTextDocument(uri);
      const edit = new vscode.WorkspaceEdit();
      const results = images.map((i) => buildEdit(document, i.target, i.imagePath, i.alt, edit).result);
      if (await deps.applyEdit(edit)) return results;
      if (attempt === 2) throw new Error(vscode.l10n.t('Could not edit {0} (is it read-only?). The image is at {1}.', vscode.workspace.asRelativePath(uri), images[0]?.imagePath ?? ''));
    }
  });
}

function buildEdit(document: vscode.TextDocument, target: InsertTarget, imagePath: string, alt: string, edit = new vscode.WorkspaceEdit()): { edit: vscode.WorkspaceEdit; result: InsertResult } {
  const imagePosix = /^[a-z][a-z0-9+.-]+:/i.test(imagePath) && !/^[a-zA-Z]:[\\/]/.test(imagePath) ? vscode.Uri.parse(imagePath).path : toPosixPath(imagePath);
  const markdown = imageMarkdown(alt, relativeImageLink(document.uri.path, imagePosix));
  const eol = document.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n';
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
    const breaks = ownLineBreaks(document.lineAt(at.line).text, at.character, eol);
    edit.insert(document.uri, at, breaks.before + markdown + breaks.after);
    start = breaks.before ? new vscode.Position(at.line + 1, 0) : at;
  }
  return { edit, result: { markdown, range: new vscode.Range(start, start.translate(0, markdown.length)) } };
}
