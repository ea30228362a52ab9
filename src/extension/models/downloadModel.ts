// "Download Model…": pick from the catalogue (or any repo), download, make it the one in use.

import * as vscode from 'vscode';
import type { CatalogueSummary, InstalledModel, ModelSourceName } from '../../core/modelsProtocol';
import { formatBytes } from '../../core/format';
import { downloadWithProgress } from './downloadWithProgress';
import { listOrShow } from './modelUi';
import { ModelContext, setActiveModelId } from './modelState';

/** Makes a downloaded pipeline the one in use (asking before overriding a modelPath setting). */
async function adopt(m: ModelContext, model: InstalledModel): Promise<string | undefined> {
  if (model.kind !== 'pipeline') {
    void vscode.window.showInformationMessage(vscode.l10n.t('{0} is installed in {1}.', model.title, model.path));
    return undefined;
  }
  await setActiveModelId(m, model.id);
  const configured = m.services.config().modelPath.trim();
  if (configured) {
    const useDownloaded = vscode.l10n.t('Use Downloaded Model');
    const pick = await vscode.window.showInformationMessage(
      vscode.l10n.t('{0} is ready. The setting courseIllustrator.modelPath still points to {1}, which wins. Use the downloaded model instead?', model.title, configured),
      useDownloaded,
      vscode.l10n.t('Keep Setting'),
    );
    if (pick !== useDownloaded) return configured;
    await vscode.workspace.getConfiguration('courseIllustrator').update('modelPath', undefined, vscode.ConfigurationTarget.Global);
  } else {
    void vscode.window.showInformationMessage(vscode.l10n.t('{0} is ready ({1} in {2}).', model.title, formatBytes(model.bytes), model.path));
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
  let choice: { model: string; title: string; repo?: string; source?: ModelSourceName } | undefined;
  if (preselect) {
    choice = { model: preselect.id, title: preselect.title, repo: preselect.repo };
  } else {
    type Item = vscode.QuickPickItem & { entry?: CatalogueSummary; other?: ModelSourceName };
    const items: Item[] = list.catalogue.map((e) => {
      const installed = list.installed.find((i) => i.id === e.id);
      const partial = list.partial.find((p) => p.id === e.id);
      const size = `~${formatBytes(e.approxBytes)}`;
      const description = installed
        ? vscode.l10n.t('{0} · installed', size)
        : partial
          ? vscode.l10n.t('{0} · {1} of {2} here, resumes', size, formatBytes(partial.bytesDone), formatBytes(partial.bytesTotal))
          : size;
      return { label: e.title, description, detail: `${e.repo} — ${firstSentence(e.notes)}`, entry: e, picked: e.default };
    });
    items.push(
      { label: '', kind: vscode.QuickPickItemKind.Separator },
      { label: vscode.l10n.t('Other Hugging Face repo…'), detail: vscode.l10n.t('owner/name or owner/name@revision, in the diffusers ONNX layout'), other: 'huggingface' },
      // The second source, for where the hub and its mirrors cannot be reached: the same
      // resume and sha256 checks, files listed by ModelScope's own API.
      { label: vscode.l10n.t('ModelScope repo…'), detail: vscode.l10n.t('owner/name or owner/name@revision on modelscope.cn, reachable from mainland China'), other: 'modelscope' },
    );
    const pick = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Download a Model'), placeHolder: vscode.l10n.t('Models are kept in {0}', list.store), matchOnDetail: true });
    if (!pick) return undefined;
    if (pick.other) {
      const source = pick.other;
      const repo = await vscode.window.showInputBox({
        title: source === 'modelscope' ? vscode.l10n.t('ModelScope repo') : vscode.l10n.t('Hugging Face repo'),
        prompt: vscode.l10n.t('A repo with a Stable Diffusion v1.5 model in the diffusers ONNX layout (model_index.json, unet/model.onnx, ...).'),
        placeHolder: vscode.l10n.t('owner/name or owner/name@revision'),
        validateInput: (v) => (/^[\w.-]+\/[\w.-]+(@\S+)?$/.test(v.trim()) ? undefined : vscode.l10n.t('Use owner/name, optionally followed by @branch, @tag or @commit.')),
      });
      if (!repo) return undefined;
      choice = { model: repo.trim(), title: repo.trim(), repo: repo.trim().split('@')[0], source };
    } else if (pick.entry) {
      choice = { model: pick.entry.id, title: pick.entry.title, repo: pick.entry.repo };
    }
  }
  if (!choice) return undefined;
  const installed = await downloadWithProgress(m, choice.model, choice.title, choice.repo, choice.source);
  return installed ? adopt(m, installed) : undefined;
}
