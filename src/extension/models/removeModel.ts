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
    ...list.installed.map((i) => {
      // The engine's Winograd weights live in the model's folder and go with it.
      const bytes = i.bytes + (i.preparedBytes ?? 0);
      const size = i.preparedBytes ? vscode.l10n.t('{0} ({1} of it prepared for this computer)', formatBytes(bytes), formatBytes(i.preparedBytes)) : formatBytes(bytes);
      return {
        label: i.title,
        description: i.id === active ? vscode.l10n.t('{0} · in use', size) : size,
        detail: i.path,
        id: i.id,
        path: i.path,
        bytes,
      };
    }),
    ...list.partial.map((p) => ({
      label: vscode.l10n.t('{0} (partial download)', p.id),
      description: vscode.l10n.t('{0} of {1}', formatBytes(p.bytesDone), formatBytes(p.bytesTotal)),
      detail: `${p.repo}@${p.revision}`,
      id: p.id,
      path: '',
      bytes: p.bytesDone,
    })),
  ];
  if (items.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('No downloaded model in {0}.', list.store));
    return;
  }
  const pick = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Remove a Downloaded Model'), placeHolder: list.store });
  if (!pick) return;
  const remove = vscode.l10n.t('Remove');
  const ok = await vscode.window.showWarningMessage(
    vscode.l10n.t('Remove {0}?', pick.label),
    {
      modal: true,
      detail: pick.path
        ? vscode.l10n.t('This deletes {0} in {1}. Downloading it again takes a while.', formatBytes(pick.bytes), pick.path)
        : vscode.l10n.t('This deletes {0}. Downloading it again takes a while.', formatBytes(pick.bytes)),
    },
    remove,
  );
  if (ok !== remove) return;
  try {
    // An engine that has the model open may hold its files (Windows refuses to delete them).
    if (pick.path && m.services.engine.pid !== undefined) {
      const status = await m.services.engine.status().catch(() => undefined);
      if (status?.loadedModels.some((p) => p === pick.path)) await m.services.engine.stop();
    }
    const r = await m.api.remove({ id: pick.id, store: list.store });
    if (pick.id === active) await setActiveModelId(m, undefined);
    void vscode.window.showInformationMessage(r.removed ? vscode.l10n.t('Removed {0}.', pick.label) : vscode.l10n.t('{0} was already gone.', pick.label));
  } catch (err) {
    void vscode.window.showErrorMessage(vscode.l10n.t('Could not remove {0}: {1}', pick.label, errorText(err)));
  }
}
