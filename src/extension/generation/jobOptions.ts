// What every job gets on top of its form or stub, in the commands and the panel alike: the LoRA
// folders from the settings, and fast mode when asked for.

import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { GenerateParams } from '../../core/protocol';
import type { ConfigSnapshot } from '../config';
import { withFastMode } from '../models/fastMode';

/** courseIllustrator.loraFolders as absolute paths: `~` is the home folder, relative ones start at the document's workspace folder. */
export function loraDirs(config: ConfigSnapshot, document: vscode.Uri | undefined): string[] {
  const root = (document && vscode.workspace.getWorkspaceFolder(document)?.uri.fsPath) ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return config.loraFolders.map((f) => {
    const home = f.replace(/^~(?=$|[\\/])/, os.homedir());
    return path.isAbsolute(home) || !root ? home : path.join(root, home);
  });
}

/**
 * The job's final parameters; undefined when it cannot run as asked (fast mode without its
 * LoRA, the user told why). `fast`: the stub's or the panel's choice, else the setting.
 */
export async function finishParams(params: GenerateParams, config: ConfigSnapshot, document: vscode.Uri | undefined, fast: boolean | undefined): Promise<GenerateParams | undefined> {
  const dirs = loraDirs(config, document);
  const withDirs = dirs.length ? { ...params, loraDirs: dirs } : params;
  return (fast ?? config.fastMode) ? withFastMode(withDirs) : withDirs;
}
