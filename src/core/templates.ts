// Prompt templates for course illustrations. Data first: subjects, grade levels and medical
// views are plain lists so they are easy to review and extend. `{subject}` is the user's text.

import type { ContentDomain } from './protocol';
import {
  CONTENT_TYPES, LEVELS, MEDICAL_NEGATIVE, MEDICAL_PURPOSE, MODALITIES, SUBJECTS,
  TEACHING_NEGATIVE, TEACHING_TECHNICAL, VIEWS,
} from './templateData';

export interface PromptTemplate {
  id: string;
  label: string;
  /** With {subject}. */
  prompt: string;
  negative?: string;
  domain: ContentDomain;
  /** Preferred size, WIDTHxHEIGHT. */
  size?: string;
}

export const GRADE_LEVELS = [
  { id: 'primary', label: 'Primary school', style: 'simple friendly flat illustration, bright colours, clear shapes' },
  { id: 'secondary', label: 'Secondary school', style: 'clean educational illustration, clear labels area, textbook style' },
  { id: 'university', label: 'University', style: 'detailed scientific illustration, precise, textbook figure' },
] as const;


export const MEDICAL_VIEWS = [
  { id: 'anatomy', label: 'Anatomical drawing', style: 'medical anatomical illustration, textbook plate, white background' },
  { id: 'cross-section', label: 'Cross-section', style: 'medical cross-section diagram, clean lines, labelled areas' },
  { id: 'histology', label: 'Histology (microscope)', style: 'histology micrograph style, stained tissue, microscope view' },
  { id: 'imaging', label: 'Medical imaging style', style: 'radiology style image, grayscale, clinical' },
  { id: 'pathology', label: 'Pathology', style: 'medical pathology illustration, comparison healthy and diseased' },
] as const;

const EDU_NEGATIVE = 'text, watermark, signature, blurry, lowres, deformed';

export const TEMPLATES: readonly PromptTemplate[] = [
  ...GRADE_LEVELS.map((g) => ({
    id: `education-${g.id}`,
    label: `Education · ${g.label}`,
    prompt: `{subject}, ${g.style}`,
    negative: EDU_NEGATIVE,
    domain: 'education' as const,
  })),
  ...MEDICAL_VIEWS.map((v) => ({
    id: `medical-${v.id}`,
    label: `Medical · ${v.label}`,
    prompt: `{subject}, ${v.style}`,
    negative: `${EDU_NEGATIVE}, gore`,
    domain: 'medical' as const,
  })),
];

export const TEMPLATE_IDS: readonly string[] = TEMPLATES.map((t) => t.id);

/**
 * A template by id: a named one (built in, or the user's `extra` ones), or one composed from the
 * lists in templateData.ts: `edu.LEVEL[.SUBJECT][.TYPE]` (teaching: "[level] [subject] [content
 * type], [key concept], [style], [technical requirements]") or `med.MODALITY[.VIEW]` (medical:
 * "[anatomy or pathology], [imaging type], [view], [details], [educational purpose]").
 */
export function findTemplate(id: string | undefined, extra: readonly PromptTemplate[] = []): PromptTemplate | undefined {
  if (!id) return undefined;
  return TEMPLATES.find((t) => t.id === id) ?? extra.find((t) => t.id === id) ?? composedTemplate(id);
}

/** True for a named template or a composed id whose parts all exist. */
export function isTemplateId(id: string, extra: readonly PromptTemplate[] = []): boolean {
  return findTemplate(id, extra) !== undefined;
}

function pick<T extends { id: string }>(list: readonly T[], id: string | undefined): T | undefined | null {
  if (id === undefined) return undefined;
  return list.find((c) => c.id === id) ?? null;
}

function composedTemplate(id: string): PromptTemplate | undefined {
  const [kind, ...parts] = id.split('.');
  if (kind === 'edu' && parts.length >= 1 && parts.length <= 3) {
    const level = pick(LEVELS, parts[0]);
    const subject = pick(SUBJECTS, parts[1]);
    const type = pick(CONTENT_TYPES, parts[2]);
    if (!level || subject === null || type === null) return undefined;
    const head = [level.words, subject?.words, type?.words].filter(Boolean).join(' ');
    return {
      id,
      label: [level.label, subject?.label, type?.label].filter(Boolean).join(' · '),
      prompt: `${head}, {subject}, ${level.style}, ${TEACHING_TECHNICAL}`,
      negative: TEACHING_NEGATIVE,
      // Pictures for a medical school are medical pictures: they carry the label.
      domain: level.id === 'medical-school' ? 'medical' : 'education',
    };
  }
  if (kind === 'med' && parts.length >= 1 && parts.length <= 2) {
    const modality = pick(MODALITIES, parts[0]);
    const view = pick(VIEWS, parts[1]);
    if (!modality || view === null) return undefined;
    const words = [modality.words, view?.words].filter(Boolean).join(', ');
    return {
      id,
      label: ['Medical', modality.label, view && view.id !== 'default' ? view.label : undefined].filter(Boolean).join(' · '),
      prompt: `{subject}, ${words}, ${MEDICAL_PURPOSE}`,
      negative: MEDICAL_NEGATIVE,
      domain: 'medical',
    };
  }
  return undefined;
}

/** The composed id for directive keys `level`, `subject`, `type` or `modality`, `view`; undefined when none is given. */
export function composeTemplateId(o: { level?: string; subject?: string; type?: string; modality?: string; view?: string }): string | undefined {
  if (o.modality !== undefined || o.view !== undefined) return ['med', o.modality ?? 'illustration', o.view].filter((x) => x !== undefined).join('.');
  if (o.level === undefined && o.subject === undefined && o.type === undefined) return undefined;
  const parts = ['edu', o.level ?? 'middle', o.subject, o.type];
  // A type without a subject: the subject part cannot be skipped in the id, so none is dropped.
  if (o.subject === undefined && o.type !== undefined) return undefined;
  return parts.filter((x) => x !== undefined).join('.');
}

export function applyTemplate(template: PromptTemplate | undefined, subject: string): string {
  return template ? template.prompt.replace('{subject}', subject.trim()) : subject.trim();
}

/**
 * The reverse of applyTemplate: the subject inside a prompt that template `id` made (a PNG's
 * "Template:" field), or undefined when the prompt no longer has the template's wording.
 */
export function subjectOf(prompt: string, id: string | undefined): { template: PromptTemplate; subject: string } | undefined {
  const template = findTemplate(id);
  if (!template) return undefined;
  const [before, after = ''] = template.prompt.split('{subject}');
  if (prompt.length < before.length + after.length || !prompt.startsWith(before) || !prompt.endsWith(after)) return undefined;
  const subject = prompt.slice(before.length, prompt.length - after.length).trim();
  return subject ? { template, subject } : undefined;
}

/** Size presets offered by the generate command. */
export const SIZE_PRESETS = [
  { label: '512×512', description: 'square', width: 512, height: 512 },
  { label: '768×512', description: 'landscape', width: 768, height: 512 },
  { label: '512×768', description: 'portrait', width: 512, height: 768 },
  { label: '640×384', description: 'banner', width: 640, height: 384 },
] as const;
