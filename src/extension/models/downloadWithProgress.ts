// A download with a cancellable notification showing bytes, speed and ETA; failures offer the
// fix that fits them (a token box for gated repos, Retry when offline, the store setting when
// the disk is full). A cancelled download resumes where it stopped the next time.

import { randomBytes } from 'crypto';
import * as vscode from 'vscode';
import type { InstalledModel, ModelSourceName, ModelsProgress } from '../../core/modelsProtocol';
import { formatBytes } from '../../core/format';
import { formatProgress, hubEndpoint } from '../../core/modelsProtocol';
import { ModelsCallError } from './modelsApi';
import { chooseMirror } from './chooseMirror';
import { errorText } from './modelUi';
import { ModelContext, TOKEN_SECRET, pullSettings } from './modelState';

function progressText(p: ModelsProgress): string {
  switch (p.phase) {
    case 'resolving':
    case 'listing':
      return vscode.l10n.t('Asking the hub for the file list…');
    case 'installing':
      return vscode.l10n.t('All files verified; installing…');
    case 'done':
      return vscode.l10n.t('Done.');
    default:
      return vscode.l10n.t('{0} · file {1} of {2}', formatProgress(p), Math.min(p.filesDone + 1, p.filesTotal), p.filesTotal);
  }
}

async function enterToken(m: ModelContext, repo: string): Promise<boolean> {
  const token = await vscode.window.showInputBox({
    title: vscode.l10n.t('Hugging Face token for {0}', repo),
    prompt: vscode.l10n.t("An access token with read permission (huggingface.co → Settings → Access Tokens). Kept in VS Code's secret storage."),
    placeHolder: 'hf_…',
    password: true,
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim().length < 8 ? vscode.l10n.t('Paste the whole token.') : undefined),
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
      void vscode.window.showInformationMessage(vscode.l10n.t('Download paused. Run "Download Model…" again to resume where it stopped.'));
      return false;
    case 'unauthorized': {
      const enter = vscode.l10n.t('Enter Token…');
      const openPage = vscode.l10n.t('Open Model Page');
      const actions = repo ? [enter, openPage] : [enter];
      const pick = await vscode.window.showErrorMessage(err.message, ...actions);
      if (pick === enter) return enterToken(m, repo ?? vscode.l10n.t('the hub'));
      if (pick === openPage && repo) void vscode.env.openExternal(vscode.Uri.parse(`${endpoint}/${repo}`));
      return false;
    }
    case 'offline':
    case 'stalled':
    case 'truncated':
    case 'http': {
      // Unreachable or slow: often the hub itself (from inside China, or a school network);
      // a mirror or a folder the teacher already has are the ways forward, besides trying again.
      const retry = vscode.l10n.t('Retry');
      const mirror = vscode.l10n.t('Use a Mirror…');
      const folder = vscode.l10n.t('Use a Folder…');
      const showLog = vscode.l10n.t('Show Log');
      const pick = await vscode.window.showErrorMessage(vscode.l10n.t('{0} What was downloaded is kept.', err.message), retry, mirror, folder, showLog);
      if (pick === showLog) log.show();
      if (pick === folder) void vscode.commands.executeCommand('courseIllustrator.useModelFolder');
      if (pick === mirror) return chooseMirror(m.services.config().hubEndpoint);
      return pick === retry;
    }
    case 'diskFull': {
      const pick = await vscode.window.showErrorMessage(err.message, vscode.l10n.t('Change Model Store…'));
      if (pick) void vscode.commands.executeCommand('workbench.action.openSettings', 'courseIllustrator.modelStore');
      return false;
    }
    case 'busy':
      void vscode.window.showWarningMessage(err.message);
      return false;
    default: {
      const pick = await vscode.window.showErrorMessage(err.message, vscode.l10n.t('Show Log'));
      if (pick) log.show();
      return false;
    }
  }
}

/**
 * Downloads `model` (catalogue id or repo) with a progress notification; returns the installed
 * model, or undefined when it failed or was cancelled (the user was told which and why).
 */
export async function downloadWithProgress(m: ModelContext, model: string, title: string, repo?: string, source: ModelSourceName = 'huggingface'): Promise<InstalledModel | undefined> {
  // Bounded: a retry only follows an explicit "Retry" or a newly entered token.
  for (let attempt = 0; attempt < 5; attempt++) {
    const hf = await pullSettings(m);
    // The hub endpoint and token are Hugging Face's: ModelScope gets neither.
    const settings = source === 'modelscope' ? { ...hf, endpoint: undefined, token: undefined, source } : hf;
    const endpoint = hubEndpoint(settings.endpoint, process.env.HF_ENDPOINT);
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Downloading {0}', title), cancellable: true },
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
