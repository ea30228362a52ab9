// Connects the pure destination rules (core/destination.ts) to VS Code: settings, workspace
// folders and the file system.

import * as vscode from 'vscode';
import { resolveDestination } from '../../core/destination';
import { imageFileName } from '../../core/fileNames';
import type { ConfigSnapshot, ImageDestination, ImageName } from '../services';

export class UntitledDocumentError extends Error {
  constructor() {
    super('Save the Markdown file first: images are stored next to it and linked relative to it.');
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
  let fileName = imageFileName(name.prompt, name.seed ?? 0);
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
    },
  );
  return { folder: documentUri.with({ path: dest.folder }), file: documentUri.with({ path: dest.file }), source: dest.source };
}
