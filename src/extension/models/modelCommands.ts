// "Download Model…", "Use Model Folder…" and "Remove Model…", plus the flows ensureModel() uses.
// Downloads show a cancellable notification with bytes, speed and ETA; failures offer the fix
// that fits them (a token box for gated repos, Retry when offline, the store setting when the
// disk is full). A cancelled download resumes where it stopped the next time.

import { randomBytes } from 'crypto';
import * as vscode from 'vscode';
import type { CatalogueSummary, InstalledModel, ModelsListResult, ModelsProgress } from '../../core/modelsProtocol';
import { formatBytes, formatProgress } from '../../core/modelsProtocol';
import type { Services } from '../services';
import { ModelsCallError } from './modelsApi';
import { ModelContext, TOKEN_SECRET, activeModelId, pullSettings, setActiveModelId, setModelContext, storeDir } from './modelState';
import { ensureModel } from './ensureModel';

export const COMMANDS = {
  download: 'courseIllustrator.downloadModel',
  useFolder: 'courseIllustrator.useModelFolder',
  remove: 'courseIllustrator.removeModel',
} as const;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function progressText(p: ModelsProgress): string {
  switch (p.phase) {
    case 'resolving':
    case 'listing':
      return 'Asking the hub for the file list…';
    case 'installing':
      return 'All files verified; installing…';
    case 'done':
      return 'Done.';
    default:
      return `${formatProgress(p)} · file ${Math.min(p.filesDone + 1, p.filesTotal)} of ${p.filesTotal}`;
  }
}

async function enterToken(m: ModelContext, repo: string): Promise<boolean> {
  const token = await vscode.window.showInputBox({
    title: `Hugging Face token for ${repo}`,
    prompt: 'An access token with read permission (huggingface.co → Settings → Access Tokens). Kept in VS Code\'s secret storage.',
    placeHolder: 'hf_…',
    password: true,
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim().length < 8 ? 'Paste the whole token.' : undefined),
  });
  if (!token) return false;
  await m.context.secrets.store(TOKEN_SECRET, token.trim());
  return true;
}

/** Shows a failure with the action that fits; resolves true when the user wants to try again. */
async function offerFix(m: ModelContext, err: ModelsCallError, repo: string | undefined, endpoint: string): Promise<boolean> {
  const log = m.services.log;
  log.warn(`[models] ${err.code}: ${err.message}`);
  switch (err.code) {
    case 'cancelled':
      void vscode.window.showInformationMessage('Download paused. Run "Download Model…" again to resume where it stopped.');
      return false;
    case 'unauthorized': {
      const actions = repo ? ['Enter Token…', 'Open Model Page'] : ['Enter Token…'];
      const pick = await vscode.window.showErrorMessage(err.message, ...actions);
      if (pick === 'Enter Token…') return enterToken(m, repo ?? 'the hub');
      if (pick === 'Open Model Page' && repo) void vscode.env.openExternal(vscode.Uri.parse(`${endpoint}/${repo}`));
      return false;
    }
    case 'offline':
    case 'stalled':
    case 'truncated':
    case 'http': {
      const pick = await vscode.window.showErrorMessage(`${err.message} What was downloaded is kept.`, 'Retry', 'Show Log');
      if (pick === 'Show Log') log.show();
      return pick === 'Retry';
    }
    case 'diskFull': {
      const pick = await vscode.window.showErrorMessage(err.message, 'Change Model Store…');
      if (pick) void vscode.commands.executeCommand('workbench.action.openSettings', 'courseIllustrator.modelStore');
      return false;
    }
    case 'busy':
      void vscode.window.showWarningMessage(err.message);
      return false;
    default: {
      const pick = await vscode.window.showErrorMessage(err.message, 'Show Log');
      if (pick) log.show();
      return false;
    }
  }
}

/**
 * Downloads `model` (catalogue id or repo) with a progress notification; returns the installed
 * model, or undefined when it failed or was cancelled (the user was told which and why).
 */
export async function downloadWithProgress(m: ModelContext, model: string, title: string, repo?: string): Promise<InstalledModel | undefined> {
  // Bounded: a retry only follows an explicit "Retry" or a newly entered token.
  for (let attempt = 0; attempt < 5; attempt++) {
    const settings = await pullSettings(m);
    const endpoint = settings.endpoint ?? process.env.HF_ENDPOINT ?? 'https://huggingface.co';
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Downloading ${title}`, cancellable: true },
        async (progress, token) => {
          let shown = 0;
          return m.api.pull(
            { operationId: `pull-${randomBytes(4).toString('hex')}`, model, ...settings },
            {
              token,
              onProgress: (p) => {
                const pct = p.bytesTotal > 0 ? (100 * p.bytesDone) / p.bytesTotal : 0;
                const increment = pct > shown ? pct - shown : 0;
                shown += increment;
                progress.report({ message: progressText(p), increment });
                if (p.message) m.services.log.info(`[models] ${p.message}`);
              },
            },
          );
        },
      );
      const mdl = result.model;
      m.services.log.info(
        `[models] ${result.alreadyInstalled ? 'already installed' : 'installed'} ${mdl.id} (${mdl.repo}@${mdl.commit}) in ${mdl.path}: ` +
          `${formatBytes(result.downloadedBytes)} downloaded, ${formatBytes(result.resumedBytes)} resumed, ${Math.round(result.elapsedMs / 1000)} s`,
      );
      return mdl;
    } catch (err) {
      const e = err instanceof ModelsCallError ? err : new ModelsCallError('unknown', errorText(err));
      if (!(await offerFix(m, e, repo, endpoint))) return undefined;
    }
  }
  return undefined;
}

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

async function listOrShow(m: ModelContext): Promise<ModelsListResult | undefined> {
  try {
    return await m.api.list({ store: storeDir(m) });
  } catch (err) {
    void vscode.window.showErrorMessage(`Cannot read the model store ${storeDir(m)}: ${errorText(err)}`);
    return undefined;
  }
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

/** "Remove Model…": installed models and partial downloads, after a confirmation. */
export async function removeModelCommand(m: ModelContext): Promise<void> {
  const list = await listOrShow(m);
  if (!list) return;
  type Item = vscode.QuickPickItem & { id: string; path: string; bytes: number };
  const active = activeModelId(m);
  const items: Item[] = [
    ...list.installed.map((i) => ({
      label: i.title,
      description: `${formatBytes(i.bytes)}${i.id === active ? ' · in use' : ''}`,
      detail: i.path,
      id: i.id,
      path: i.path,
      bytes: i.bytes,
    })),
    ...list.partial.map((p) => ({
      label: `${p.id} (partial download)`,
      description: `${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`,
      detail: `${p.repo}@${p.revision}`,
      id: p.id,
      path: '',
      bytes: p.bytesDone,
    })),
  ];
  if (items.length === 0) {
    void vscode.window.showInformationMessage(`No downloaded model in ${list.store}.`);
    return;
  }
  const pick = await vscode.window.showQuickPick(items, { title: 'Remove a Downloaded Model', placeHolder: list.store });
  if (!pick) return;
  const ok = await vscode.window.showWarningMessage(
    `Remove ${pick.label}?`,
    { modal: true, detail: `This deletes ${formatBytes(pick.bytes)}${pick.path ? ` in ${pick.path}` : ''}. Downloading it again takes a while.` },
    'Remove',
  );
  if (ok !== 'Remove') return;
  try {
    // An engine that has the model open may hold its files (Windows refuses to delete them).
    if (pick.path && m.services.engine.pid !== undefined) {
      const status = await m.services.engine.status().catch(() => undefined);
      if (status?.loadedModels.some((p) => p === pick.path)) await m.services.engine.stop();
    }
    const r = await m.api.remove({ id: pick.id, store: list.store });
    if (pick.id === active) await setActiveModelId(m, undefined);
    void vscode.window.showInformationMessage(r.removed ? `Removed ${pick.label}.` : `${pick.label} was already gone.`);
  } catch (err) {
    void vscode.window.showErrorMessage(`Could not remove ${pick.label}: ${errorText(err)}`);
  }
}

/**
 * Registers the three model commands and makes ensureModel() the services' model provider.
 */
export function registerModelCommands(context: vscode.ExtensionContext, services: Services): vscode.Disposable {
  const m = setModelContext(context, services);
  services.setModelProvider(() => ensureModel(services));
  const disposables = [
    vscode.commands.registerCommand(COMMANDS.download, () => downloadModelCommand(m)),
    vscode.commands.registerCommand(COMMANDS.useFolder, () => useModelFolderCommand(m)),
    vscode.commands.registerCommand(COMMANDS.remove, () => removeModelCommand(m)),
  ];
  const all = vscode.Disposable.from(...disposables);
  context.subscriptions.push(all);
  return all;
}
