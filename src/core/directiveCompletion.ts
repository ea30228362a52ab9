// What to offer while a directive is typed (`<!-- illustrate: PROMPT | key: value -->`): the keys
// after a `|`, and after `key:` the values that key takes. Pure: the extension's completion
// provider turns these into items. Keys and template ids were discoverable only from error
// messages before.

import * as l10n from '@vscode/l10n';
import { CONTENT_DOMAINS } from './domain';
import { SCHEDULER_NAMES } from './schedulerNames';
import { DIRECTIVE_KEYS } from './stubs';
import { CONTENT_TYPES, LEVELS, MODALITIES, SUBJECTS, VIEWS, type Choice } from './templateData';
import { SIZE_PRESETS, TEMPLATES, type PromptTemplate } from './templates';

export interface DirectiveSuggestion {
  label: string;
  /** What is inserted in place of what was typed of it. */
  insert: string;
  detail?: string;
}

export interface DirectiveCompletion {
  /** Column where the typed part starts: the suggestions replace from here to the cursor. */
  from: number;
  suggestions: DirectiveSuggestion[];
}

/** What each key does, in a few words (translated: these are shown to the teacher). */
function keyDetail(key: string): string | undefined {
  switch (key) {
    case 'seed': return l10n.t('a whole number: the same seed, the same picture');
    case 'size': return l10n.t('WIDTHxHEIGHT, e.g. 768x512');
    case 'steps': return l10n.t('denoising steps, 1 to 150');
    case 'guidance': return l10n.t('how closely to follow the prompt, 0 to 30 (7.5 usual)');
    case 'negative': return l10n.t('what the picture should not show');
    case 'scheduler': return l10n.t('the sampler, e.g. dpmpp-2m-karras');
    case 'alt': return l10n.t('the alt text, when it should differ from the prompt');
    case 'prompt': return l10n.t('an English prompt; the text before the first | stays the alt text');
    case 'template': return l10n.t('a template id');
    case 'level': return l10n.t('school level of a composed template');
    case 'subject': return l10n.t('subject of a composed template');
    case 'type': return l10n.t('content type of a composed template');
    case 'modality': return l10n.t('medical imaging kind (medical template)');
    case 'view': return l10n.t('medical view (medical template)');
    case 'domain': return l10n.t('medical labels the picture as AI-generated, not for diagnosis');
    case 'fast': return l10n.t('yes: 4 steps with the LCM-LoRA');
    default: return undefined;
  }
}

function choices(list: readonly Choice[]): DirectiveSuggestion[] {
  return list.map((c) => ({ label: c.id, insert: c.id, detail: `${c.label} · ${c.zh}` }));
}

function valuesFor(key: string, own: readonly PromptTemplate[]): DirectiveSuggestion[] | undefined {
  switch (key) {
    case 'template':
      return [...TEMPLATES, ...own].map((t) => ({ label: t.id, insert: t.id, detail: t.label }));
    case 'scheduler':
      return ['default', ...SCHEDULER_NAMES].map((n) => ({ label: n, insert: n }));
    case 'size':
      return SIZE_PRESETS.map((p) => ({ label: `${p.width}x${p.height}`, insert: `${p.width}x${p.height}`, detail: p.description }));
    case 'level':
      return choices(LEVELS);
    case 'subject':
      return choices(SUBJECTS);
    case 'type':
      return choices(CONTENT_TYPES);
    case 'modality':
      return choices(MODALITIES);
    case 'view':
      return choices(VIEWS.filter((v) => v.id !== 'default'));
    case 'domain':
      return CONTENT_DOMAINS.map((d) => ({ label: d, insert: d }));
    case 'fast':
      return ['yes', 'no'].map((v) => ({ label: v, insert: v }));
    default:
      return undefined;
  }
}

/** Suggestions for the cursor at the end of `lineBefore` (the line's text up to the cursor), or undefined outside a directive's options. */
export function directiveCompletion(lineBefore: string, own: readonly PromptTemplate[] = []): DirectiveCompletion | undefined {
  const open = lineBefore.lastIndexOf('<!--');
  if (open < 0 || !/^<!--\s*illustrate\s*:/i.test(lineBefore.slice(open)) || lineBefore.indexOf('-->', open) >= 0) return undefined;
  const bar = lineBefore.lastIndexOf('|');
  if (bar < open) return undefined; // still in the prompt
  const segment = lineBefore.slice(bar + 1);
  const colon = segment.indexOf(':');
  if (colon < 0) {
    const typed = segment.trimStart();
    return {
      from: lineBefore.length - typed.length,
      suggestions: DIRECTIVE_KEYS.map((k) => ({ label: k, insert: `${k}: `, detail: keyDetail(k) })),
    };
  }
  const key = segment.slice(0, colon).trim().toLowerCase();
  const values = valuesFor(key, own);
  if (!values) return undefined;
  const typed = segment.slice(colon + 1).trimStart();
  return { from: lineBefore.length - typed.length, suggestions: values };
}
