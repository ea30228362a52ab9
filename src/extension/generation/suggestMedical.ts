// Words that look medical in a document that declares nothing (domain.ts): ask whether its
// images should carry the label, without holding up the job; the answer applies to the next images.

import * as vscode from 'vscode';
import type { Services } from '../services';
import { declareMedical } from './domainContext';

/** Documents whose medical-looking prompts the user was asked about (this session). */
const asked = new Set<string>();

export function suggestMedical(services: Services, document: vscode.TextDocument): void {
  const key = document.uri.toString();
  if (asked.has(key)) return;
  asked.add(key); // asked once per document and session
  const name = vscode.workspace.asRelativePath(document.uri, false);
  const label = vscode.l10n.t('Label This Document');
  void vscode.window
    .showInformationMessage(
      vscode.l10n.t('This looks medical. Label the images of {0} as AI-generated teaching material, not for diagnosis?', name),
      { detail: vscode.l10n.t('Adds "illustrate: { domain: medical }" to its front matter. The image being made now is not labelled; Regenerate it after.') },
      label,
      vscode.l10n.t('Not Medical'),
    )
    .then(async (answer) => {
      if (answer !== label) return;
      if (await declareMedical(document)) services.log.info(`declared ${name} medical (front matter)`);
    });
}
