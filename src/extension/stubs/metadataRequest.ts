// What "Regenerate" and "Variations" on an image ask for, read from the image's metadata (its
// A1111 parameters). A PNG can be made by anyone, so nothing it says is trusted: prompts are
// cleaned of control characters and line breaks (src/core/sanitize.ts) and cut to length,
// numbers are brought within the limits every other part uses (src/core/limits.ts), and every
// change is a warning the user sees before the job starts. Pure: no vscode.

import { type DomainDeclaration, domainFromFields } from '../../core/domain';
import { NEGATIVE_PROMPT, PROMPT, clampGenerationValues, clampLength } from '../../core/limits';
import type { PngInfoResult } from '../../core/protocol';
import { cleanPromptText } from '../../core/sanitize';
import { resolveSchedulerName } from '../../core/schedulerNames';
import { TEMPLATE_IDS } from '../../core/templates';

/** How the warnings name the metadata. */
export const METADATA_SOURCE = "the image's parameters";

export interface MetadataValues {
  prompt: string;
  alt: string;
  negativePrompt?: string;
  steps?: number;
  guidance?: number;
  width?: number;
  height?: number;
  scheduler?: string;
  /** A known template id (src/core/templates.ts) the prompt was made with. */
  template?: string;
  /** The image's own label (domain.ts): a medical image stays labelled when it is made again. */
  domain?: DomainDeclaration;
  /** What was changed to bring the values within the limits, one sentence each. */
  warnings: string[];
}

/**
 * The job an image's metadata describes; `imageAlt` is the link's alt text, the prompt when the
 * metadata has none. Undefined when there is no prompt at all.
 */
export function valuesFromMetadata(info: Pick<PngInfoResult, 'prompt' | 'negativePrompt' | 'fields' | 'width' | 'height'>, imageAlt: string): MetadataValues | undefined {
  const f = info.fields ?? {};
  const warnings: string[] = [];
  // The whole prompt (a template's words included) is what a regenerated job gets.
  const prompt = clampLength(cleanPromptText(info.prompt ?? imageAlt), PROMPT.maxWithTemplate, `the prompt in ${METADATA_SOURCE}`);
  if (!prompt.text.trim()) return undefined;
  if (prompt.warning) warnings.push(prompt.warning);
  let negativePrompt: string | undefined;
  if (info.negativePrompt !== undefined) {
    const cut = clampLength(cleanPromptText(info.negativePrompt), NEGATIVE_PROMPT.maxChars, `the negative prompt in ${METADATA_SOURCE}`);
    negativePrompt = cut.text;
    if (cut.warning) warnings.push(cut.warning);
  }
  // A field that is there but is no number is said, and left to the settings.
  const num = (key: string): number | undefined => {
    const raw = f[key];
    if (raw === undefined || raw.trim() === '') return undefined;
    const n = Number(raw);
    if (Number.isFinite(n)) return n;
    warnings.push(`${capitalized(METADATA_SOURCE)} give "${clip(cleanPromptText(raw))}" as ${key}, which is not a number; the setting is used instead.`);
    return undefined;
  };
  const size = /^(\d+)x(\d+)$/.exec(f['Size'] ?? '');
  const clamped = clampGenerationValues(
    {
      steps: num('Steps'),
      guidance: num('CFG scale'),
      width: size ? Number(size[1]) : info.width || undefined,
      height: size ? Number(size[2]) : info.height || undefined,
    },
    METADATA_SOURCE,
  );
  warnings.push(...clamped.warnings);
  const sampler = f['Sampler'];
  const scheduler = sampler ? (resolveSchedulerName(`${sampler} ${f['Schedule type'] ?? ''}`.trim()) ?? resolveSchedulerName(sampler)) : undefined;
  const template = f['Template'] !== undefined && TEMPLATE_IDS.includes(f['Template']) ? f['Template'] : undefined;
  const alt = cleanPromptText(imageAlt).trim() || prompt.text;
  const domain = domainFromFields(f);
  return { prompt: prompt.text, alt, negativePrompt, ...clamped.values, scheduler, template, ...(domain ? { domain } : {}), warnings };
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}…` : text;
}
