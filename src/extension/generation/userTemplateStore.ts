// The teacher's own templates (core/userTemplates.ts), read from each workspace folder's
// .course-illustrator/templates.json and the courseIllustrator.templates setting, kept current as
// the file or the setting changes. Parsing stubs is synchronous, so readers get the last list.

import * as vscode from 'vscode';
import type { PromptTemplate } from '../../core/templates';
import { parseUserTemplates } from '../../core/userTemplates';
import type { Log } from '../services';
import { Disposable } from '../util/dispose';

export const TEMPLATES_FILE = '.course-illustrator/templates.json';
const MAX_FILE_BYTES = 1 << 20;

let current: readonly PromptTemplate[] = [];
const changed = new vscode.EventEmitter<void>();
/** Fires when the teacher's templates were read again (the panel offers them). */
export const onDidChangeUserTemplates = changed.event;
let checkStale: (() => void) | undefined;

/**
 * The user's templates as last read (none before the store starts). Also looks, at most once a
 * second, whether a file changed without the watcher saying so (file watchers miss some changes,
 * e.g. in a folder created after they started); the next reader gets the new list.
 */
export function userTemplates(): readonly PromptTemplate[] {
  checkStale?.();
  return current;
}

export class UserTemplateStore extends Disposable {
  private readonly _onDidChange = this._register(new vscode.EventEmitter<void>());
  readonly onDidChange = this._onDidChange.event;

  private stamps = '';
  private lastCheck = 0;

  constructor(private readonly log: Log) {
    super();
    const check = () => this.checkStale();
    checkStale = check;
    this._register({
      dispose: () => {
        if (checkStale === check) checkStale = undefined;
      },
    });
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const watcher = this._register(vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, TEMPLATES_FILE)));
      for (const e of [watcher.onDidCreate, watcher.onDidChange, watcher.onDidDelete]) this._register(e(() => void this.reload()));
    }
    // Saved in VS Code: read at once, whatever the watcher does with a dot folder.
    this._register(vscode.workspace.onDidSaveTextDocument((d) => d.uri.path.endsWith(`/${TEMPLATES_FILE}`) && void this.reload()));
    this._register(vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('courseIllustrator.templates') && void this.reload()));
    this._register(vscode.workspace.onDidChangeWorkspaceFolders(() => void this.reload()));
    void this.reload();
  }

  checkStale(): void {
    const now = Date.now();
    if (now - this.lastCheck < 1000) return;
    this.lastCheck = now;
    void this.fileStamps().then(async (s) => {
      if (s !== this.stamps) await this.reload();
    });
  }

  private async fileStamps(): Promise<string> {
    const parts: string[] = [];
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const st = await Promise.resolve(vscode.workspace.fs.stat(vscode.Uri.joinPath(folder.uri, TEMPLATES_FILE))).catch(() => undefined);
      parts.push(st ? `${st.mtime}:${st.size}` : '-');
    }
    return parts.join('|');
  }

  async reload(): Promise<void> {
    this.stamps = await this.fileStamps();
    const all: PromptTemplate[] = [];
    const problems: string[] = [];
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const file = vscode.Uri.joinPath(folder.uri, TEMPLATES_FILE);
      let bytes: Uint8Array;
      try {
        bytes = await vscode.workspace.fs.readFile(file);
      } catch {
        continue; // no file: no templates from this folder
      }
      const where = vscode.workspace.asRelativePath(file, true);
      if (bytes.byteLength > MAX_FILE_BYTES) {
        problems.push(vscode.l10n.t('{0} is larger than 1 MB; it is not read.', where));
        continue;
      }
      try {
        const parsed = parseUserTemplates(JSON.parse(new TextDecoder().decode(bytes)), where);
        all.push(...parsed.templates.filter((t) => !all.some((a) => a.id === t.id)));
        problems.push(...parsed.problems);
      } catch (e) {
        problems.push(vscode.l10n.t('{0} is not valid JSON ({1}); fix it to use its templates.', where, (e as Error).message));
      }
    }
    const setting = vscode.workspace.getConfiguration('courseIllustrator').get<unknown>('templates');
    if (Array.isArray(setting) && setting.length) {
      const parsed = parseUserTemplates(setting, 'courseIllustrator.templates');
      all.push(...parsed.templates.filter((t) => !all.some((a) => a.id === t.id)));
      problems.push(...parsed.problems);
    }
    current = Object.freeze(all);
    this.log.info(`templates: ${all.length} of your own${all.length ? ` (${all.map((t) => t.id).join(', ')})` : ''}`);
    for (const p of problems) this.log.warn(`Templates: ${p}`);
    if (problems.length) void vscode.window.showWarningMessage(vscode.l10n.t('Some of your templates are not used: {0}', problems[0]));
    this._onDidChange.fire();
    changed.fire();
  }
}
