// Shared helpers of the in-host tests (they run inside the real extension host).

import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { CourseIllustratorApi } from '../../../src/extension/extension.shared';

export const EXTENSION_ID = 'course-illustrator.course-illustrator';

export async function api(): Promise<CourseIllustratorApi> {
  const ext = vscode.extensions.getExtension<CourseIllustratorApi>(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not loaded`);
  return ext.activate();
}

export function workspaceDir(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the tests need a workspace folder');
  return folder.uri.fsPath;
}

export function wsUri(rel: string): vscode.Uri {
  return vscode.Uri.file(path.join(workspaceDir(), rel));
}

/** Writes a fresh Markdown file and opens it in an editor. */
export async function freshMarkdown(rel: string, text: string): Promise<vscode.TextEditor> {
  const file = path.join(workspaceDir(), rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  return vscode.window.showTextDocument(doc);
}

export async function waitFor<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function isPng(file: string): boolean {
  const b = fs.readFileSync(file);
  return b.length > 8 && b.readUInt32BE(0) === 0x89504e47;
}

/** All files under a folder (relative), [] when it does not exist. */
export function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** A line in the test report (console output of the remote extension host is not shown). */
export function note(message: string): void {
  const report = process.env.COURSE_ILLUSTRATOR_HOST_REPORT;
  if (report) fs.appendFileSync(report, `      · ${message}\n`);
  console.log(message);
}
