// Parsed stubs per document version: CodeLenses, diagnostics and commands share one parse.

import * as path from 'path';
import * as vscode from 'vscode';
import { parseStubs, type ImageStub, type MarkdownImage, type ParseResult, type TextRange } from '../../core/stubs';
import { TEMPLATE_IDS } from '../../core/templates';
import { userTemplates } from '../generation/userTemplateStore';

const cache = new Map<string, { version: number; result: ParseResult }>();

export function stubsOf(document: vscode.TextDocument): ParseResult {
  const key = document.uri.toString();
  const hit = cache.get(key);
  if (hit && hit.version === document.version) return hit.result;
  const result = parseStubs(document.getText(), { templateIds: TEMPLATE_IDS, templates: userTemplates() });
  cache.set(key, { version: document.version, result });
  return result;
}

/** Parses every document again (the user's templates changed). */
export function forgetAllDocuments(): void {
  cache.clear();
}

export function forgetDocument(uri: vscode.Uri): void {
  cache.delete(uri.toString());
}

export function toRange(r: TextRange): vscode.Range {
  return new vscode.Range(r.line, r.start, r.line, r.end);
}

export function stubAt(document: vscode.TextDocument, line: number, index = 0): ImageStub | undefined {
  return stubsOf(document).stubs.filter((s) => s.range.line === line)[index];
}

export function imageAt(document: vscode.TextDocument, line: number, index = 0): MarkdownImage | undefined {
  return stubsOf(document).images.filter((s) => s.range.line === line)[index];
}

/** The image file a Markdown image points to, resolved against the document's folder. */
export function imageUri(document: vscode.TextDocument, image: MarkdownImage): vscode.Uri {
  const p = image.path.startsWith('/') ? image.path : path.posix.join(path.posix.dirname(document.uri.path), image.path);
  return document.uri.with({ path: path.posix.normalize(p), query: '', fragment: '' });
}
