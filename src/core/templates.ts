// Prompt templates for course illustrations. Data first: subjects, grade levels and medical
// views are plain lists so they are easy to review and extend. `{subject}` is the user's text.

import type { ContentDomain } from './protocol';

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

export const SUBJECTS = ['biology', 'chemistry', 'physics', 'geography', 'history', 'mathematics', 'computer science', 'languages', 'art'] as const;

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

export function findTemplate(id: string | undefined): PromptTemplate | undefined {
  return id ? TEMPLATES.find((t) => t.id === id) : undefined;
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
