// "Download Model…": pick from the catalogue (or any repo), download, make it the one in use.

import * as vscode from 'vscode';
import type { CatalogueSummary, InstalledModel } from '../../core/modelsProtocol';
import { formatBytes } from '../../core/format';
import { downloadWithProgress } from './downloadWithProgress';
import { listOrShow } from './modelUi';
import { ModelContext, setActiveModelId } from './modelState';

/** Makes a downloaded pipeline the one in use (asking before overriding a modelPath setting). */
async function adopt(m: ModelContext, model: InstalledModel): Promise<string | undefined> {
  if (model.kind !== 'pipeline') {
    void vscode.window.showInformationMessage(`${model.title} is installed in ${model.path}.`);
    return undefined;
  }
  await setActiveModelId(m, model.id);
  const configured = m.services.config().modelPath.trim();
  if (configured) {
    const pick = await vscode.window.showInformationMessage(
      `${model.title} is ready. The setting courseIllustrator.modelPath still points to ${configured}, which wins. Use the downloaded model instead?`,
      'Use Downloaded Model',
      'Keep Setting',
    );
    if (pick !== 'Use Downloaded Model') return configured;
    await vscode.workspace.getConfiguration('courseIllustrator').update('modelPath', undefined, vscode.ConfigurationTarget.Global);
  } else {
    void vscode.window.showInformationMessage(`${model.title} is ready (${formatBytes(model.bytes)} in ${model.path}).`);
  }
  return model.path;
}

function firstSentence(text: string): string {
  const m = /^(.*?[.!?])(\s|$)/.exec(text);
  return m ? m[1] : text;
}

/** "Download Model…": pick from the catalogue (or any repo), download, make it the one in use. */
export async function downloadModelCommand(m: ModelContext, preselect?: CatalogueSummary): Promise<string | undefined> {
  const list = await listOrShow(m);
  if (!list) return undefined;
  let choice: { model: string; title: string; repo?: string } | undefined;
  if (preselect) {
    choice = { model: preselect.id, title: preselect.title, repo: preselect.repo };
  } else {
    type Item = vscode.QuickPickItem & { entry?: CatalogueSummary; other?: boolean };
    const items: Item[] = list.catalogue.map((e) => {
      const installed = list.installed.find((i) => i.id === e.id);
      const partial = list.partial.find((p) => p.id === e.id);
      const state = installed ? ' · installed' : partial ? ` · ${formatBytes(partial.bytesDone)} of ${formatBytes(partial.bytesTotal)} here, resumes` : '';
      return { label: e.title, description: `~${formatBytes(e.approxBytes)}${state}`, detail: `${e.repo} — ${firstSentence(e.notes)}`, entry: e, picked: e.default };
    });
    items.push({ label: '', kind: vscode.QuickPickItemKind.Separator }, { label: 'Other Hugging Face repo…', detail: 'owner/name or owner/name@revision, in the diffusers ONNX layout', other: true });
    const pick = await vscode.window.showQuickPick(items, { title: 'Download a Model', placeHolder: `Models are kept in ${list.store}`, matchOnDetail: true });
    if (!pick) return undefined;
    if (pick.other) {
      const repo = await vscode.window.showInputBox({
        title: 'Hugging Face repo',
        prompt: 'A repo with a Stable Diffusion v1.5 model in the diffusers ONNX layout (model_index.json, unet/model.onnx, ...).',
        placeHolder: 'owner/name or owner/name@revision',
        validateInput: (v) => (/^[\w.-]+\/[\w.-]+(@\S+)?$/.test(v.trim()) ? undefined : 'Use owner/name, optionally followed by @branch, @tag or @commit.'),
      });
      if (!repo) return undefined;
      choice = { model: repo.trim(), title: repo.trim(), repo: repo.trim().split('@')[0] };
    } else if (pick.entry) {
      choice = { model: pick.entry.id, title: pick.entry.title, repo: pick.entry.repo };
    }
  }
  if (!choice) return undefined;
  const installed = await downloadWithProgress(m, choice.model, choice.title, choice.repo);
  return installed ? adopt(m, installed) : undefined;
}
