// "Remove Model…": installed models and partial downloads, after a confirmation.

import * as vscode from 'vscode';
import { formatBytes } from '../../core/format';
import { errorText, listOrShow } from './modelUi';
import { ModelContext, activeModelId, setActiveModelId } from './modelState';

/** "Remove Model…": installed models and partial downloads, after a confirmation. */
export async function removeModelCommand(m: ModelContext): Promise<void> {
  const list = await listOrShow(m);
  if (!list) return;
  type Item = vscode.QuickPickItem & { id: string; path: string; bytes: number };
  const active = activeModelId(m);
  const items: Item[] = [
    ...list.installed.map((i) => ({
      label: i.title,
      description: `${formatBytes(i.bytes)}${i.id === active ? ' · in use' : ''}`,
      detail: i.path,
      id: i.id,
      path: i.path,
      bytes: i.bytes,
    })),
    ...list.partial.map((p) => ({
      label: `${p.id} (partial download)`,
      description: `${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`,
      detail: `${p.repo}@${p.revision}`,
      id: p.id,
      path: '',
      bytes: p.bytesDone,
    })),
  ];
  if (items.length === 0) {
    void vscode.window.showInformationMessage(`No downloaded model in ${list.store}.`);
    return;
  }
  const pick = await vscode.window.showQuickPick(items, { title: 'Remove a Downloaded Model', placeHolder: list.store });
  if (!pick) return;
  const ok = await vscode.window.showWarningMessage(
    `Remove ${pick.label}?`,
    { modal: true, detail: `This deletes ${formatBytes(pick.bytes)}${pick.path ? ` in ${pick.path}` : ''}. Downloading it again takes a while.` },
    'Remove',
  );
  if (ok !== 'Remove') return;
  try {
    // An engine that has the model open may hold its files (Windows refuses to delete them).
    if (pick.path && m.services.engine.pid !== undefined) {
      const status = await m.services.engine.status().catch(() => undefined);
      if (status?.loadedModels.some((p) => p === pick.path)) await m.services.engine.stop();
    }
    const r = await m.api.remove({ id: pick.id, store: list.store });
    if (pick.id === active) await setActiveModelId(m, undefined);
    void vscode.window.showInformationMessage(r.removed ? `Removed ${pick.label}.` : `${pick.label} was already gone.`);
  } catch (err) {
    void vscode.window.showErrorMessage(`Could not remove ${pick.label}: ${errorText(err)}`);
  }
}
