// "Use a Checkpoint File…": an SD 1.x single-file checkpoint (.safetensors, as A1111 and civitai
// share them) made a model of the store by the engine (models/import: its weights written onto
// the ONNX graphs of an installed SD 1.5 model), with a cancellable progress notification, then
// offered as the model in use.

import { randomBytes } from 'crypto';
import * as path from 'path';
import * as vscode from 'vscode';
import { formatBytes } from '../../core/format';
import { type InstalledModel, type ModelsImportResult, type ModelsProgress, ModelsRequests } from '../../core/modelsProtocol';
import { errorText, listOrShow } from './modelUi';
import { ModelContext, setActiveModelId, storeDir } from './modelState';

const DEFAULT_BASE = 'sd15-onnx';

function progressText(p: ModelsProgress): string {
  switch (p.phase) {
    case 'resolving':
      return 'Reading the checkpoint…';
    case 'converting':
      return vscode.l10n.t('Writing {0}: {1} of {2} tensors ({3} of {4})', p.file ?? 'weights', p.filesDone, p.filesTotal, formatBytes(p.bytesDone), formatBytes(p.bytesTotal));
    case 'verifying':
      return vscode.l10n.t('Running each part of the model once to check it…');
    case 'installing':
      return vscode.l10n.t('Installing…');
    default:
      return '';
  }
}

/** The model whose ONNX graphs receive the weights: sd15-onnx, else the modelPath folder, else another installed SD model. */
async function chooseBase(m: ModelContext): Promise<string | undefined> {
  const list = await listOrShow(m);
  if (!list) return undefined;
  const pipelines = list.installed.filter((i) => i.kind === 'pipeline');
  const base = pipelines.find((i) => i.id === DEFAULT_BASE)?.path ?? (m.services.config().modelPath.trim() || undefined) ?? pipelines[0]?.path;
  if (base) return base;
  const pick = await vscode.window.showWarningMessage(
    vscode.l10n.t('A checkpoint is set up on the ONNX files of Stable Diffusion v1.5, which is not downloaded yet. Download it first (4.3 GB), then choose the checkpoint again.'),
    vscode.l10n.t('Download Model…'),
  );
  if (pick) void vscode.commands.executeCommand('courseIllustrator.downloadModel');
  return undefined;
}

async function runImport(m: ModelContext, file: string, base: string, name: string | undefined): Promise<ModelsImportResult> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Setting up {0}', path.basename(file)), cancellable: true },
    async (progress, token) => {
      let shown = 0;
      return m.services.engine.models(
        ModelsRequests.import,
        { operationId: `import-${randomBytes(4).toString('hex')}`, file, base, name, store: storeDir(m) },
        {
          token,
          onProgress: (p) => {
            // Writing the tensors is most of the time: it fills the bar up to 90%.
            const pct = p.phase === 'converting' && p.filesTotal > 0 ? (90 * p.filesDone) / p.filesTotal : p.phase === 'installing' || p.phase === 'done' ? 100 : shown;
            const increment = pct > shown ? pct - shown : 0;
            shown += increment;
            progress.report({ message: progressText(p), increment });
            if (p.message) m.services.log.info(`[models] ${p.message}`);
          },
        },
      );
    },
  );
}

/** Offers the imported model as the one in use (the modelPath setting, when set, would win over it). */
async function offerToUse(m: ModelContext, model: InstalledModel): Promise<void> {
  const useIt = vscode.l10n.t('Use It');
  const pick = await vscode.window.showInformationMessage(
    vscode.l10n.t('{0} is ready ({1} in {2}). Use it for new pictures?', model.title, formatBytes(model.bytes), model.path),
    useIt,
    vscode.l10n.t('Not Now'),
  );
  if (pick !== useIt) return;
  await setActiveModelId(m, model.id);
  if (m.services.config().modelPath.trim()) {
    await vscode.workspace.getConfiguration('courseIllustrator').update('modelPath', undefined, vscode.ConfigurationTarget.Global);
  }
}

function codeOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; data?: { code?: unknown } };
  const c = e?.data?.code ?? e?.code;
  return typeof c === 'string' ? c : undefined;
}

/** "Use a Checkpoint File…": returns the new model, or undefined (the user was told why). */
export async function importCheckpointCommand(m: ModelContext): Promise<InstalledModel | undefined> {
  const uris = await vscode.window.showOpenDialog({
    canSelectFiles: true,
    canSelectFolders: false,
    canSelectMany: false,
    filters: { [vscode.l10n.t('Stable Diffusion 1.x checkpoint')]: ['safetensors'] },
    openLabel: vscode.l10n.t('Use This Checkpoint'),
    title: vscode.l10n.t('An SD 1.5-based single-file checkpoint (.safetensors)'),
  });
  const file = uris?.[0]?.fsPath;
  if (!file) return undefined;
  const base = await chooseBase(m);
  if (!base) return undefined;
  let name: string | undefined;
  // Bounded: another try only follows a new name typed by the user.
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const r = await runImport(m, file, base, name);
      m.services.log.info(`[models] imported ${file} (${r.tensors} tensors, ${r.checkpoint.dtypes.join('/')}) as ${r.model.id} in ${r.model.path} in ${Math.round(r.elapsedMs / 1000)} s; ${r.verified.join('; ')}`);
      await offerToUse(m, r.model);
      return r.model;
    } catch (err) {
      const message = errorText(err);
      m.services.log.warn(`[models] import of ${file}: ${message}`);
      if (codeOf(err) === 'cancelled') {
        void vscode.window.showInformationMessage(vscode.l10n.t('Checkpoint import cancelled; nothing was installed.'));
        return undefined;
      }
      if (/is already installed/.test(message)) {
        name = await vscode.window.showInputBox({
          title: vscode.l10n.t('A model with this name exists'),
          prompt: vscode.l10n.t('A name for the new model (letters, digits, "-", "_", ".")'),
          value: `${path.basename(file, '.safetensors').toLowerCase().replace(/[^a-z0-9._-]+/g, '-')}-2`,
          validateInput: (v) => (/^[A-Za-z0-9][\w.@+-]{0,199}$/.test(v) && !v.includes('..') ? undefined : vscode.l10n.t('Use letters, digits, "-", "_" and "."; start with a letter or digit.')),
        });
        if (!name) return undefined;
        continue;
      }
      const pick = await vscode.window.showErrorMessage(message, vscode.l10n.t('Show Log'));
      if (pick) m.services.log.show();
      return undefined;
    }
  }
  return undefined;
}
