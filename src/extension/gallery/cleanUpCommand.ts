// "Move Unlinked Images to Trash…" (courseIllustrator.cleanUpUnlinkedImages): the gallery's images
// that no Markdown document links, after a modal confirmation with their count and size, moved to
// the trash one by one, each checked again right before it goes (cleanUp.ts). Never a permanent
// delete: a file the trash does not take stays where it is, and the report says so.

import * as vscode from 'vscode';
import { formatBytes } from '../../core/format';
import type { GalleryIndex } from '../../core/galleryIndex';
import type { Services } from '../services';
import { type CleanUpPlan, type CleanUpResult, containedDirectly, planCleanUp, runCleanUp } from './cleanUp';
import type { DocumentLinks } from './documentLinks';
import { moveToTrash } from './trash';

export interface CleanUpSource {
  /** The gallery's index after a complete scan. */
  index(): Promise<GalleryIndex>;
  links: DocumentLinks;
  /** The workspace folders' paths (file scheme only). */
  roots(): string[];
}

const LISTED = 10;

/** The result, or undefined when nothing was asked or the user said no. */
export async function cleanUpUnlinkedImages(services: Services, source: CleanUpSource): Promise<CleanUpResult | undefined> {
  if (!services.isTrusted()) {
    void vscode.window.showWarningMessage(vscode.l10n.t('This workspace is in Restricted Mode: nothing is deleted.'));
    return undefined;
  }
  const plan = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Finding images no document links…') },
    async () => {
      const index = await source.index();
      await source.links.flush();
      return planCleanUp(index.all(), (p) => source.links.isUnlinked(p));
    },
  );
  if (plan.files.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('Every image in the gallery is linked from a Markdown document: nothing to clean up.'));
    return undefined;
  }
  if (!(await confirm(plan, source.links.unreadableCount))) return undefined;
  // The documents may have changed while the dialog was open: read what changed before deciding.
  await source.links.flush();
  const roots = source.roots();
  const n = plan.files.length;
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Moving unlinked images to the trash'), cancellable: true },
    (progress, token) =>
      runCleanUp(plan, {
        isUnlinked: (p) => source.links.isUnlinked(p),
        contained: (p) => containedDirectly(p, roots),
        trash: (p) => moveToTrash(vscode.Uri.file(p)),
        cancelled: () => token.isCancellationRequested,
        progress: (done) => progress.report({ message: `${done}/${n}`, increment: 100 / n }),
      }),
  );
  report(result, services);
  return result;
}

async function confirm(plan: CleanUpPlan, unreadable: number): Promise<boolean> {
  const n = plan.files.length;
  const size = formatBytes(plan.bytes);
  const question = n === 1 ? vscode.l10n.t('Move 1 unlinked image ({0}) to the trash?', size) : vscode.l10n.t('Move {0} unlinked images ({1}) to the trash?', n, size);
  const names = plan.files.slice(0, LISTED).map((f) => f.label);
  if (n > LISTED) names.push(vscode.l10n.t('… and {0} more', n - LISTED));
  const detail = [
    names.join('\n'),
    vscode.l10n.t('No Markdown document in the workspace links to them or names them. Only images made by Course Illustrator or another Stable Diffusion tool are included; they can be restored from the trash.'),
    ...(unreadable ? [vscode.l10n.t('{0} Markdown documents could not be read (see the log): an image one of them links may be among these.', unreadable)] : []),
  ].join('\n\n');
  const trash = vscode.l10n.t('Move to Trash');
  return (await vscode.window.showWarningMessage(question, { modal: true, detail }, trash)) === trash;
}

function report(r: CleanUpResult, services: Services): void {
  const parts = [r.moved.length === 1 ? vscode.l10n.t('Moved 1 image to the trash.') : vscode.l10n.t('Moved {0} images to the trash.', r.moved.length)];
  if (r.nowLinked.length) parts.push(vscode.l10n.t('{0} kept: a document links them now.', r.nowLinked.length));
  if (r.skipped.length) parts.push(vscode.l10n.t('{0} skipped: changed, gone, or not a plain file inside the workspace.', r.skipped.length));
  if (r.notDone.length) parts.push(vscode.l10n.t('{0} left as they were (cancelled).', r.notDone.length));
  if (r.failed.length) {
    parts.push(vscode.l10n.t('{0} could not be moved to the trash and are still in place: {1}', r.failed.length, r.failed[0].message));
    for (const f of r.failed) services.log.warn(`Clean-up could not move ${f.file.path} to the trash: ${f.message}`);
  }
  services.log.info(
    `Clean-up: ${r.moved.length} moved to the trash, ${r.nowLinked.length} linked since, ${r.skipped.length} skipped, ` +
      `${r.failed.length} failed, ${r.notDone.length} cancelled.`,
  );
  const text = parts.join(' ');
  if (r.failed.length) void vscode.window.showWarningMessage(text);
  else void vscode.window.showInformationMessage(text);
}
