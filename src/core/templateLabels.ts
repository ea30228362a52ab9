// The templates' names as the user reads them (templates.ts keeps the English ones, which the
// PNG parameters and the engine use). Named templates: each name is its own l10n literal.
// Composed ones (edu.LEVEL.SUBJECT.TYPE, med.MODALITY.VIEW) are named from their parts, whose
// Chinese labels are data (templateData.ts), chosen by VS Code's display language.

import * as l10n from '@vscode/l10n';
import { CONTENT_TYPES, LEVELS, MODALITIES, SUBJECTS, VIEWS, type Choice } from './templateData';
import type { PromptTemplate } from './templates';

const NAMED: Record<string, () => string> = {
  'education-primary': () => l10n.t('Education · Primary school'),
  'education-secondary': () => l10n.t('Education · Secondary school'),
  'education-university': () => l10n.t('Education · University'),
  'medical-anatomy': () => l10n.t('Medical · Anatomical drawing'),
  'medical-cross-section': () => l10n.t('Medical · Cross-section'),
  'medical-histology': () => l10n.t('Medical · Histology (microscope)'),
  'medical-imaging': () => l10n.t('Medical · Medical imaging style'),
  'medical-pathology': () => l10n.t('Medical · Pathology'),
};

/** `language`: VS Code's display language (vscode.env.language, a webview's <html lang>). */
export function templateLabel(t: PromptTemplate, language = 'en'): string {
  return NAMED[t.id]?.() ?? (isChinese(language) ? chineseLabel(t.id) : undefined) ?? t.label;
}

/** One part of a composed template (a school level, a subject…) as the user reads it. */
export function choiceLabel(c: Choice, language = 'en'): string {
  return isChinese(language) ? c.zh : c.label;
}

function isChinese(language: string): boolean {
  return language.toLowerCase().startsWith('zh');
}

function zh(list: readonly Choice[], id: string | undefined): string | undefined {
  return list.find((c) => c.id === id)?.zh;
}

function chineseLabel(id: string): string | undefined {
  const [kind, a, b, c] = id.split('.');
  const parts =
    kind === 'edu' ? [zh(LEVELS, a), b && zh(SUBJECTS, b), c && zh(CONTENT_TYPES, c)] : kind === 'med' ? ['医学', zh(MODALITIES, a), b && b !== 'default' ? zh(VIEWS, b) : ''] : [];
  return parts.length && parts.every((p) => p !== undefined) ? parts.filter(Boolean).join(' · ') : undefined;
}
