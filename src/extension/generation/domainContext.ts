// What a document declares about its images' label (src/core/domain.ts): its front matter, the
// courseIllustrator.domain setting for its folder or workspace, and the language its label and
// alt text are written in. Read fresh for every job, so a declaration applies at once.

import * as vscode from 'vscode';
import {
  type DomainDeclaration,
  type LabelLanguage,
  decideDomain,
  domainFromFields,
  isContentDomain,
  labelLanguage,
  labelledAlt,
  readFrontMatter,
} from '../../core/domain';
import type { ContentDomain } from '../../core/protocol';
import type { DomainSource } from '../../core/domain';

export interface JobLabel {
  domain: ContentDomain;
  /** Who declared it; undefined for general images nobody declared anything about. */
  declaredBy?: DomainDeclaration['source'];
  lang: LabelLanguage;
}

/** The declarations of a document and of the settings that apply to it. */
export function documentDeclarations(document: vscode.TextDocument | undefined, resource?: vscode.Uri): { declarations: DomainDeclaration[]; lang: LabelLanguage; problems: string[] } {
  const text = document?.getText() ?? '';
  const fm = readFrontMatter(text);
  const declarations: DomainDeclaration[] = [];
  if (fm.domain) declarations.push({ domain: fm.domain, source: 'front matter' });
  const setting = vscode.workspace.getConfiguration('courseIllustrator', resource ?? document?.uri).get<unknown>('domain');
  if (isContentDomain(setting) && setting !== 'general') declarations.push({ domain: setting, source: 'setting' });
  return { declarations, lang: labelLanguage(text, fm.lang), problems: fm.problems };
}

/** The label of one job: the document's declarations plus the job's own (a directive, a template, the image). */
export function jobLabel(document: vscode.TextDocument | undefined, own: readonly (DomainDeclaration | undefined)[], resource?: vscode.Uri): JobLabel {
  const doc = documentDeclarations(document, resource);
  const decided = decideDomain([...doc.declarations, ...own]);
  return { domain: decided?.domain ?? 'general', declaredBy: decided?.source, lang: doc.lang };
}

/** Who declared a label, as the panel's "declared by …" names it. */
export function declarationName(source: DomainSource): string {
  switch (source) {
    case 'setting':
      return vscode.l10n.t('the courseIllustrator.domain setting');
    case 'front matter':
      return vscode.l10n.t("the document's front matter");
    case 'directive':
      return vscode.l10n.t('the directive');
    case 'template':
      return vscode.l10n.t('the template');
    case 'image':
      return vscode.l10n.t('the image itself');
    case 'command line':
      return vscode.l10n.t('the command line');
  }
}

/**
 * Declares the document medical in its front matter (one undoable edit): a new front matter
 * block, or an `illustrate:` line in the one it has (replacing an `illustrate:` entry there).
 */
export async function declareMedical(document: vscode.TextDocument): Promise<boolean> {
  const line = 'illustrate: { domain: medical }';
  const edit = new vscode.WorkspaceEdit();
  const lines = document.getText().split(/\r?\n/);
  const eol = document.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n';
  const end = lines[0]?.trim() === '---' ? lines.findIndex((l, i) => i > 0 && (l.trim() === '---' || l.trim() === '...')) : -1;
  if (end < 0) {
    edit.insert(document.uri, new vscode.Position(0, 0), `---${eol}${line}${eol}---${eol}${eol}`);
  } else {
    const at = lines.findIndex((l, i) => i > 0 && i < end && /^illustrate\s*:/.test(l));
    if (at < 0) {
      edit.insert(document.uri, new vscode.Position(1, 0), `${line}${eol}`);
    } else {
      // The entry and its indented lines give way to the one-line form.
      let last = at;
      while (last + 1 < end && /^\s+\S/.test(lines[last + 1])) last++;
      edit.replace(document.uri, new vscode.Range(at, 0, last, lines[last].length), line);
    }
  }
  return vscode.workspace.applyEdit(edit);
}

/**
 * The alt text for inserting an image that already exists (a result, a gallery image): medical
 * ones, as their own parameters say, end with "(AI-generated)" in the document's language.
 */
export function altForImage(alt: string, fields: Readonly<Record<string, string>> | undefined, document: vscode.TextDocument | undefined): string {
  const own = domainFromFields(fields);
  return labelledAlt(alt, own?.domain, documentDeclarations(document).lang);
}
