// The model folder to generate with, asking on first run:
//   1. the courseIllustrator.modelPath setting, when set (a missing folder is explained);
//   2. the downloaded model in use (or any downloaded pipeline, the catalogue default first);
//   3. otherwise: "Download Stable Diffusion v1.5 (N GB)" / "Use a Folder I Have" / Cancel.

import { promises as fs } from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { formatBytes } from '../../core/format';
import { hubEndpoint } from '../../core/modelsProtocol';
import type { Services } from '../services';
import { downloadModelCommand } from './downloadModel';
import { useModelFolderCommand } from './useModelFolder';
import { ModelContext, activeModelId, modelContext, setActiveModelId, storeDir } from './modelState';

async function isDir(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

let asking: Promise<string | undefined> | undefined;

/**
 * Resolves to a model folder, or undefined when the user cancelled (already told why). Calls made
 * while the first-run question is open share its answer instead of asking twice.
 */
export function ensureModel(services?: Services): Promise<string | undefined> {
  const m = modelContext();
  void services; // the registered services are used; the parameter keeps the documented signature
  asking ??= resolveModel(m).finally(() => {
    asking = undefined;
  });
  return asking;
}

async function resolveModel(m: ModelContext): Promise<string | undefined> {
  const configured = m.services.config().modelPath.trim();
  if (configured) {
    const dir = path.resolve(configured);
    if (await isDir(dir)) return dir;
    const anotherFolder = vscode.l10n.t('Use Another Folder…');
    const downloadOne = vscode.l10n.t('Download a Model…');
    const openSettings = vscode.l10n.t('Open Settings');
    const pick = await vscode.window.showErrorMessage(
      vscode.l10n.t('The model folder in the setting courseIllustrator.modelPath does not exist: {0}', dir),
      anotherFolder,
      downloadOne,
      openSettings,
    );
    if (pick === anotherFolder) return useModelFolderCommand(m);
    if (pick === downloadOne) return downloadModelCommand(m);
    if (pick === openSettings) void vscode.commands.executeCommand('workbench.action.openSettings', 'courseIllustrator.modelPath');
    return undefined;
  }

  const store = storeDir(m);
  let list;
  try {
    list = await m.api.list({ store });
  } catch (err) {
    void vscode.window.showErrorMessage(vscode.l10n.t('Cannot read the model store {0}: {1}', store, err instanceof Error ? err.message : String(err)));
    return undefined;
  }
  const pipelines = list.installed.filter((i) => i.kind === 'pipeline');
  const active = activeModelId(m);
  const defaultId = list.catalogue.find((c) => c.default)?.id;
  const chosen = pipelines.find((i) => i.id === active) ?? pipelines.find((i) => i.id === defaultId) ?? pipelines[0];
  if (chosen) {
    if (chosen.id !== active) await setActiveModelId(m, chosen.id);
    return chosen.path;
  }

  // First run.
  const entry = list.catalogue.find((c) => c.default) ?? list.catalogue.find((c) => c.kind === 'pipeline');
  const partial = entry && list.partial.find((p) => p.id === entry.id);
  const download = entry
    ? partial
      ? vscode.l10n.t('Resume Download ({0} of {1} done)', formatBytes(partial.bytesDone), formatBytes(partial.bytesTotal))
      : vscode.l10n.t('Download Stable Diffusion v1.5 ({0})', formatBytes(entry.approxBytes))
    : undefined;
  const useFolder = vscode.l10n.t('Use a Folder I Have');
  const endpoint = hubEndpoint(m.services.config().hubEndpoint, process.env.HF_ENDPOINT);
  const pick = await vscode.window.showInformationMessage(
    vscode.l10n.t('Course Illustrator needs a Stable Diffusion v1.5 model to generate images.'),
    {
      modal: true,
      detail: [
        ...(entry
          ? [
              vscode.l10n.t(
                "Download it once (about {0}) from {1} into {2}. An interrupted download resumes where it stopped, and every file is checked against the hub's checksum.",
                formatBytes(entry.approxBytes),
                `${endpoint}/${entry.repo}`,
                store,
              ),
            ]
          : []),
        vscode.l10n.t('Or choose a folder that already has a model in the diffusers ONNX layout (model_index.json, unet/model.onnx, ...).'),
      ].join('\n\n'),
    },
    ...(download ? [download] : []),
    useFolder,
  );
  if (pick === useFolder) return useModelFolderCommand(m);
  if (pick && pick === download && entry) return downloadModelCommand(m, entry);
  return undefined;
}
