// Quick fixes for an option of an illustrate comment the stub parser refused (stubs.ts): the
// nearest known key, scheduler, template or template part for a typo, a size rounded to what
// the model takes, a number brought within its range. Pure: the extension offers them as code
// actions on the parser's diagnostics (stubs/directiveQuickFixes.ts).

import * as l10n from '@vscode/l10n';
import { CONTENT_DOMAINS } from './domain';
import { GUIDANCE, SIZE, STEPS } from './limits';
import { SCHEDULER_NAMES, resolveSchedulerName } from './schedulerNames';
import { DIRECTIVE_KEYS } from './stubs';
import { CONTENT_TYPES, LEVELS, MODALITIES, SUBJECTS, VIEWS } from './templateData';
import { TEMPLATE_IDS } from './templates';

export interface OptionFix {
  title: string;
  /** The whole option as it should read, e.g. `scheduler: euler-a`. */
  text: string;
}

/** At most this many spellings are offered for a typo. */
const MAX_SUGGESTIONS = 3;

/** Fixes for one `key: value` option (the text between two `|`), best first; none when it has no fix. */
export function directiveOptionFixes(option: string, templateIds: readonly string[] = TEMPLATE_IDS): OptionFix[] {
  const text = option.trim();
  const colon = text.indexOf(':');
  if (colon < 0) return [];
  const key = text.slice(0, colon).trim().toLowerCase();
  const value = text.slice(colon + 1).trim();
  const keys: readonly string[] = DIRECTIVE_KEYS;
  if (!keys.includes(key) && key !== 'cfg') {
    return nearest(key, keys).map((k) => fix(l10n.t('Change the option to "{0}"', k), k, value));
  }
  switch (key) {
    case 'size':
      return sizeFix(value);
    case 'steps':
      return clampFix('steps', value, STEPS.min, STEPS.max, true);
    case 'guidance':
    case 'cfg':
      return clampFix(key, value, GUIDANCE.min, GUIDANCE.max, false);
    case 'scheduler':
      return resolveSchedulerName(value) ? [] : nearest(value, ['default', ...SCHEDULER_NAMES]).map((s) => fix(l10n.t('Change to "{0}"', s), key, s));
    case 'template':
      return nearest(value, templateIds).map((t) => fix(l10n.t('Change to "{0}"', t), key, t));
    case 'level':
    case 'subject':
    case 'type':
    case 'modality':
    case 'view': {
      const ids = { level: LEVELS, subject: SUBJECTS, type: CONTENT_TYPES, modality: MODALITIES, view: VIEWS }[key].map((c) => c.id);
      return nearest(value, ids).map((id) => fix(l10n.t('Change to "{0}"', id), key, id));
    }
    case 'fast':
      return ['yes', 'no'].map((v) => fix(l10n.t('Change to "{0}"', v), key, v));
    case 'domain':
      return nearest(value, CONTENT_DOMAINS).map((d) => fix(l10n.t('Change to "{0}"', d), key, d));
    default:
      return [];
  }
}

function fix(title: string, key: string, value: string): OptionFix {
  return { title, text: `${key}: ${value}` };
}

/** `size: 500x300` -> the nearest multiples of 8 within the limits: `size: 496x304`. */
function sizeFix(value: string): OptionFix[] {
  const m = /^(\d+(?:\.\d+)?)\s*[xX×*]\s*(\d+(?:\.\d+)?)$/.exec(value);
  const single = /^(\d+(?:\.\d+)?)$/.exec(value);
  const [w, h] = m ? [Number(m[1]), Number(m[2])] : single ? [Number(single[1]), Number(single[1])] : [NaN, NaN];
  if (!Number.isFinite(w) || !Number.isFinite(h)) return [];
  const side = (n: number) => Math.min(SIZE.max, Math.max(SIZE.min, Math.round(n / SIZE.multiple) * SIZE.multiple));
  const size = `${side(w)}x${side(h)}`;
  return size === value ? [] : [fix(l10n.t('Change to "{0}"', size), 'size', size)];
}

function clampFix(key: string, value: string, min: number, max: number, whole: boolean): OptionFix[] {
  const n = Number(value.replace(',', '.'));
  if (value === '' || !Number.isFinite(n)) return [];
  const v = Math.min(max, Math.max(min, whole ? Math.round(n) : n));
  const shown = String(v);
  return shown === value ? [] : [fix(l10n.t('Change to {0}', shown), key, shown)];
}

/** Known words close to `typed` (case and separators ignored), closest first. */
function nearest(typed: string, known: readonly string[]): string[] {
  const norm = (s: string) => s.toLowerCase().replace(/[\s_-]+/g, '');
  const t = norm(typed);
  if (!t) return [];
  const scored = known
    // A word cut short ("sched") is as good as a typo of one letter; a longer known word is not.
    .map((k) => ({ k, d: norm(k).startsWith(t) ? Math.min(1, (norm(k).length - t.length) * 0.1) : distance(t, norm(k)) }))
    .filter((x) => x.d <= Math.max(2, Math.floor(t.length / 3)));
  return scored.sort((a, b) => a.d - b.d).slice(0, MAX_SUGGESTIONS).map((x) => x.k);
}

/** Levenshtein distance; the words here are short. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
