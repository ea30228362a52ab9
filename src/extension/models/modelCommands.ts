// Registers "Download Model…", "Use Model Folder…", "Remove Model…" and "Use a Checkpoint File…" (one file each) and hooks
// the first-run choice, ensureModel(), into the services.

import * as vscode from 'vscode';
import type { Services } from '../services';
import { downloadModelCommand } from './downloadModel';
import { ensureModel } from './ensureModel';
import { importCheckpointCommand } from './importCheckpoint';
import { setModelContext } from './modelState';
import { removeModelCommand } from './removeModel';
import { useModelFolderCommand } from './useModelFolder';

export { downloadWithProgress } from './downloadWithProgress';

export const COMMANDS = {
  download: 'courseIllustrator.downloadModel',
  useFolder: 'courseIllustrator.useModelFolder',
  remove: 'courseIllustrator.removeModel',
  importCheckpoint: 'courseIllustrator.importCheckpoint',
} as const;

/**
 * Registers the model commands and makes ensureModel() the services' model provider.
 */
export function registerModelCommands(context: vscode.ExtensionContext, services: Services): vscode.Disposable {
  const m = setModelContext(context, services);
  services.setModelProvider(() => ensureModel(services));
  const disposables = [
    vscode.commands.registerCommand(COMMANDS.download, () => downloadModelCommand(m)),
    vscode.commands.registerCommand(COMMANDS.useFolder, () => useModelFolderCommand(m)),
    vscode.commands.registerCommand(COMMANDS.remove, () => removeModelCommand(m)),
    vscode.commands.registerCommand(COMMANDS.importCheckpoint, () => importCheckpointCommand(m)),
  ];
  const all = vscode.Disposable.from(...disposables);
  context.subscriptions.push(all);
  return all;
}
