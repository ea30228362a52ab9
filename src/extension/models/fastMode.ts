// Fast mode for a job (src/core/fastMode.ts): an LCM model runs as it is; Stable Diffusion v1.5
// gets the LCM-LoRA, downloaded once (about 135 MB) after asking.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { FAST, fastParams, isLcmScheduler } from '../../core/fastMode';
import type { GenerateParams } from '../../core/protocol';
import { downloadWithProgress } from './downloadWithProgress';
import { modelContext, storeDir } from './modelState';

/** The job in fast mode, or undefined when it cannot run that way (the user was told why). */
export async function withFastMode(params: GenerateParams): Promise<GenerateParams | undefined> {
  if (isLcmScheduler(readJson(path.join(params.model, 'scheduler', 'scheduler_config.json')))) return fastParams(params, undefined);
  const lora = await lcmLora();
  return lora ? fastParams(params, lora) : undefined;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The installed LCM-LoRA's file, downloading it first when the user agrees. */
async function lcmLora(): Promise<string | undefined> {
  const m = modelContext();
  const installed = (await m.api.list({ store: storeDir(m) })).installed;
  let found = installed.find((i) => i.id === FAST.loraModelId);
  if (!found) {
    const download = vscode.l10n.t('Download');
    const ok = await vscode.window.showInformationMessage(
      vscode.l10n.t('Fast mode needs the LCM-LoRA for Stable Diffusion v1.5 (about 135 MB, downloaded once). Download it now?'),
      download,
    );
    if (ok !== download) {
      void vscode.window.showWarningMessage(vscode.l10n.t('Fast mode is off for this image: the LCM-LoRA is not downloaded. Turn fast mode off, or download it.'));
      return undefined;
    }
    found = await downloadWithProgress(m, FAST.loraModelId, vscode.l10n.t('the LCM-LoRA for fast mode'));
    if (!found) return undefined;
  }
  const file = path.join(found.path, FAST.loraFile);
  if (!fs.existsSync(file)) {
    void vscode.window.showErrorMessage(vscode.l10n.t('The LCM-LoRA in {0} has no {1}; remove it ("Course Illustrator: Remove Model…") and download it again.', found.path, FAST.loraFile));
    return undefined;
  }
  return file;
}
