// The zh→en translation model's folder: the one in the model store, or, on first use, downloaded
// after asking (its size shown), through the same download path and progress as every model.
// Afterwards translating needs no network.

import * as vscode from 'vscode';
import { formatBytes } from '../../core/format';
import { TRANSLATION_MODEL_ID } from '../../core/translateProtocol';
import { downloadWithProgress } from '../models/downloadWithProgress';
import { errorText } from '../models/modelUi';
import { modelContext, storeDir } from '../models/modelState';

let asking: Promise<string | undefined> | undefined;

/**
 * The installed translation model's folder, or undefined when the user declined the download or
 * it failed (they were told). Calls made while the question is open share its answer.
 */
export function ensureTranslationModel(): Promise<string | undefined> {
  asking ??= findOrDownload().finally(() => {
    asking = undefined;
  });
  return asking;
}

async function findOrDownload(): Promise<string | undefined> {
  const m = modelContext();
  let list;
  try {
    list = await m.api.list({ store: storeDir(m) });
  } catch (err) {
    void vscode.window.showErrorMessage(vscode.l10n.t('Cannot read the model store {0}: {1}', storeDir(m), errorText(err)));
    return undefined;
  }
  const installed = list.installed.find((i) => i.id === TRANSLATION_MODEL_ID) ?? list.installed.find((i) => i.kind === 'translation');
  if (installed) return installed.path;
  const entry = list.catalogue.find((c) => c.id === TRANSLATION_MODEL_ID);
  const size = entry ? formatBytes(entry.approxBytes) : '120 MB';
  const download = vscode.l10n.t('Download');
  const pick = await vscode.window.showInformationMessage(
    vscode.l10n.t('Translating prompts needs a Chinese-to-English model (about {0}, downloaded once; afterwards it works offline). Download it now?', size),
    download,
  );
  if (pick !== download) return undefined;
  const model = await downloadWithProgress(m, TRANSLATION_MODEL_ID, vscode.l10n.t('the Chinese-to-English translation model'), entry?.repo);
  return model?.path;
}
