// The palette's way to a composed template (templateParts.ts): one quick pick per part, school
// level, subject and content type, or modality and view. The id is the one the same directive
// keys make, so the image's "Template:" brings the parts back in the panel.

import * as vscode from 'vscode';
import type { Choice } from '../../core/templateData';
import { choiceLabel } from '../../core/templateLabels';
import { DEFAULT_VIEW, PART_CHOICES, type TemplateParts, composedId } from '../../core/templateParts';

/** The composed id the user picks; null when a pick is cancelled (the command ends). */
export async function askComposedTemplate(kind: TemplateParts['kind'], title: (part: string) => string): Promise<string | null> {
  if (kind === 'med') {
    const modality = await askPart(PART_CHOICES.modality, title(vscode.l10n.t('Modality')));
    const view = modality === null ? null : await askPart(PART_CHOICES.view, title(vscode.l10n.t('View')));
    return modality === null || view === null ? null : (composedId({ kind, modality, view: view === DEFAULT_VIEW ? undefined : view }) ?? null);
  }
  const level = await askPart(PART_CHOICES.level, title(vscode.l10n.t('School level')));
  if (level === null) return null;
  const subject = await askPart(PART_CHOICES.subject, title(vscode.l10n.t('Subject')), vscode.l10n.t('Any subject'));
  if (subject === null) return null;
  // A content type needs a subject: the id has no place for a type alone.
  const type = subject === '' ? '' : await askPart(PART_CHOICES.type, title(vscode.l10n.t('Content type')), vscode.l10n.t('Any content type'));
  if (type === null) return null;
  return composedId({ kind, level, subject, type }) ?? null;
}

/** One part's id; '' for the `any` entry (the part left open); null when cancelled. */
async function askPart(choices: readonly Choice[], title: string, any?: string): Promise<string | null> {
  const language = vscode.env.language;
  const items = [...(any ? [{ label: any, id: '' }] : []), ...choices.map((c) => ({ label: choiceLabel(c, language), description: c.id, id: c.id }))];
  const pick = await vscode.window.showQuickPick(items, { title, ignoreFocusOut: true });
  return pick ? pick.id : null;
}
