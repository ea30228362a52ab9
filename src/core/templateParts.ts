// A composed template id (templates.ts) as the parts a form chooses one by one: the panel's
// small selects and the palette's quick picks. The ids are the ones the directives make
// (composeTemplateId), so an image made either way brings the same parts back.

import { CONTENT_TYPES, LEVELS, MODALITIES, SUBJECTS, VIEWS } from './templateData';
import { composeTemplateId, findTemplate } from './templates';

export type TemplateParts =
  | { kind: 'edu'; level: string; subject?: string; type?: string }
  | { kind: 'med'; modality: string; view?: string };

/** The view a modality has when none is chosen: it adds no words, so the id leaves it out. */
export const DEFAULT_VIEW = 'default';

/** The parts first shown when the user starts composing (the directives' defaults). */
export function defaultParts(kind: TemplateParts['kind']): TemplateParts {
  return kind === 'edu' ? { kind, level: 'middle' } : { kind, modality: 'illustration' };
}

/** The parts of a composed id whose parts all exist; undefined for a named template or anything else. */
export function templateParts(id: string | undefined): TemplateParts | undefined {
  if (!id || !findTemplate(id)) return undefined;
  const [kind, a, b, c] = id.split('.');
  if (kind === 'edu' && LEVELS.some((l) => l.id === a)) {
    return { kind, level: a, ...(b !== undefined ? { subject: b } : {}), ...(c !== undefined ? { type: c } : {}) };
  }
  if (kind === 'med' && MODALITIES.some((m) => m.id === a)) {
    return { kind, modality: a, ...(b !== undefined && b !== DEFAULT_VIEW ? { view: b } : {}) };
  }
  return undefined;
}

/**
 * The id for these parts, or undefined when they do not make one (an unknown part; a content
 * type without a subject, which the id cannot say). Empty strings are parts left open.
 */
export function composedId(p: TemplateParts): string | undefined {
  const given = (v: string | undefined) => (v === '' ? undefined : v);
  const id =
    p.kind === 'edu'
      ? composeTemplateId({ level: p.level, subject: given(p.subject), type: given(p.type) })
      : composeTemplateId({ modality: p.modality, view: p.view === DEFAULT_VIEW ? undefined : given(p.view) });
  return id && findTemplate(id) ? id : undefined;
}

/** The lists each part is chosen from, in the order forms show them. */
export const PART_CHOICES = { level: LEVELS, subject: SUBJECTS, type: CONTENT_TYPES, modality: MODALITIES, view: VIEWS } as const;

/** The template select's entries that open the part selects: not ids (no template has a colon). */
export const COMPOSE_CHOICE = { edu: 'compose:edu', med: 'compose:med' } as const;
