// "Use Model Folder…": a folder picker, checked by the engine before it is kept.

import * as vscode from 'vscode';
import { errorText } from './modelUi';
import type { ModelContext } from './modelState';

/** "Use Model Folder…": a folder picker, checked by the engine (engine/info) before it is kept. */
export async function useModelFolderCommand(m: ModelContext): Promise<string | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const uris = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      canSelectMany: false,
      openLabel: vscode.l10n.t('Use This Model'),
      title: vscode.l10n.t('Folder with a Stable Diffusion v1.5 model (diffusers ONNX layout)'),
    });
    const folder = uris?.[0]?.fsPath;
    if (!folder) return undefined;
    let problems: string[];
    try {
      const info = await m.services.engine.info(folder);
      problems = info.kind === 'model' ? info.problems : [vscode.l10n.t('{0} is not a model folder.', folder)];
    } catch (err) {
      const useAnyway = vscode.l10n.t('Use It Anyway');
      const another = vscode.l10n.t('Choose Another Folder…');
      const pick = await vscode.window.showWarningMessage(
        vscode.l10n.t('Could not check {0}: {1}', folder, errorText(err)),
        { modal: true, detail: vscode.l10n.t('The engine reads model_index.json and the ONNX files of unet, text_encoder and vae_decoder to check a folder.') },
        useAnyway,
        another,
      );
      if (pick === another) continue;
      if (pick !== useAnyway) return undefined;
      problems = [];
    }
    if (problems.length > 0) {
      const another = vscode.l10n.t('Choose Another Folder…');
      const pick = await vscode.window.showErrorMessage(
        vscode.l10n.t('This folder is not a usable Stable Diffusion model.'),
        {
          modal: true,
          detail: `${problems.map((p) => `• ${p}`).join('\n')}\n\n${vscode.l10n.t('Expected the diffusers ONNX layout: model_index.json, tokenizer/, text_encoder/model.onnx, unet/model.onnx, vae_decoder/model.onnx.')}`,
        },
        another,
      );
      if (pick === another) continue;
      return undefined;
    }
    await vscode.workspace.getConfiguration('courseIllustrator').update('modelPath', folder, vscode.ConfigurationTarget.Global);
    void vscode.window.showInformationMessage(vscode.l10n.t('Using the model in {0} (setting courseIllustrator.modelPath).', folder));
    return folder;
  }
  return undefined;
}
