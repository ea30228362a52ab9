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
      openLabel: 'Use This Model',
      title: 'Folder with a Stable Diffusion v1.5 model (diffusers ONNX layout)',
    });
    const folder = uris?.[0]?.fsPath;
    if (!folder) return undefined;
    let problems: string[];
    try {
      const info = await m.services.engine.info(folder);
      problems = info.kind === 'model' ? info.problems : [`${folder} is not a model folder.`];
    } catch (err) {
      const pick = await vscode.window.showWarningMessage(
        `Could not check ${folder}: ${errorText(err)}`,
        { modal: true, detail: 'The engine reads model_index.json and the ONNX files of unet, text_encoder and vae_decoder to check a folder.' },
        'Use It Anyway',
        'Choose Another Folder…',
      );
      if (pick === 'Choose Another Folder…') continue;
      if (pick !== 'Use It Anyway') return undefined;
      problems = [];
    }
    if (problems.length > 0) {
      const pick = await vscode.window.showErrorMessage(
        'This folder is not a usable Stable Diffusion model.',
        {
          modal: true,
          detail: `${problems.map((p) => `• ${p}`).join('\n')}\n\nExpected the diffusers ONNX layout: model_index.json, tokenizer/, text_encoder/model.onnx, unet/model.onnx, vae_decoder/model.onnx.`,
        },
        'Choose Another Folder…',
      );
      if (pick === 'Choose Another Folder…') continue;
      return undefined;
    }
    await vscode.workspace.getConfiguration('courseIllustrator').update('modelPath', folder, vscode.ConfigurationTarget.Global);
    void vscode.window.showInformationMessage(`Using the model in ${folder} (setting courseIllustrator.modelPath).`);
    return folder;
  }
  return undefined;
}
