// Connects the pure destination rules (core/destination.ts) to VS Code: settings, workspace
// folders and the file system (folder listings and real paths for the containment check).

import * as vscode from 'vscode';
import { resolveDestination } from '../../core/destination';
import { imageFileName } from '../../core/fileNames';
import { realPathOrUndefined } from './fsRealPath';
import type { ConfigSnapshot, ImageDestination, ImageName } from '../services';

export class UntitledDocumentError extends Error {
  constructor() {
    super(vscode.l10n.t('Save the Markdown file first: images are stored next to it and linked relative to it.'));
    this.name = 'UntitledDocumentError';
  }
}

export async function resolveImageDestination(
  documentUri: vscode.Uri,
  name: ImageName,
  config: ConfigSnapshot,
  fs: Pick<vscode.FileSystem, 'readDirectory'> = vscode.workspace.fs,
): Promise<ImageDestination> {
  if (documentUri.scheme === 'untitled') throw new UntitledDocumentError();
  const folder = vscode.workspace.getWorkspaceFolder(documentUri);
  let fileName = imageFileName(name.prompt, name.seed ?? 0, config.fileNames);
  if (name.seed === undefined) fileName = fileName.replace(/-0\.png$/, '.png');
  if (name.ext) fileName = fileName.replace(/\.png$/, name.ext.startsWith('.') ? name.ext : `.${name.ext}`);
  const dest = await resolveDestination(
    {
      documentPath: documentUri.path,
      workspaceFolder: folder?.uri.path,
      workspaceFolders: (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.path),
      copyFilesDestination: config.copyFilesDestination,
      imageFolder: config.imageFolder,
      fileName,
    },
    {
      readDirectory: async (p) => {
        try {
          return (await fs.readDirectory(documentUri.with({ path: p }))).map(([n]) => n);
        } catch {
          return [];
        }
      },
      // Real paths (symbolic links resolved), so a linked folder cannot carry images out of the
      // workspace. Only for files on this machine's disk; other schemes are checked as paths.
      realPath:
        documentUri.scheme === 'file'
          ? async (p) => {
              const real = await realPathOrUndefined(documentUri.with({ path: p }).fsPath);
              return real === undefined ? undefined : vscode.Uri.file(real).path;
            }
          : undefined,
    },
  );
  for (const w of dest.warnings ?? []) warnOnce(w);
  return {
    folder: documentUri.with({ path: dest.folder }),
    file: documentUri.with({ path: dest.file }),
    source: dest.source,
    root: folder?.uri ?? vscode.Uri.joinPath(documentUri, '..'),
  };
}

const warned = new Set<string>();

/** A skipped setting (an invalid glob) is told once per session, not at every generation. */
function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  void vscode.window.showWarningMessage(message, vscode.l10n.t('Open Settings')).then((a) => a && vscode.commands.executeCommand('workbench.action.openSettings', 'markdown.copyFiles.destination'));
}
