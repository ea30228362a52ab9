// The form values an openPanel argument asks for (from a CodeLens, a menu or another extension),
// checked the way a stub's options are. Pure: no vscode.
//
// Accepted: `prompt` (string), `settings` { prompt, negativePrompt, width, height, steps, guidance,
// batch, seed, scheduler }, and `template` (a template id from src/core/templates.ts). The template
// is chosen in the form, and the job wraps the prompt in it exactly as the "Generate illustration"
// lens does (applyTemplate). Without a negative prompt of the argument's own, the negative prompt is
// the lens's too: the setting, else the template's.
//
// The argument may come from anywhere (another extension, a PNG's metadata through the gallery), so
// its values are brought within the limits of src/core/limits.ts, with a problem for each change:
// prompts are cleaned of control characters and cut to length, numbers are clamped.

import { resolveSchedulerName, unknownSchedulerMessage } from '../../core/schedulerNames';
import { TEMPLATE_IDS, findTemplate } from '../../core/templates';
import { isRecord } from '../../core/validate';
import { clampPanelPrefill, type PanelSettings } from '../../core/webviewMessages';

/** Who asked for the values, in the problems shown (see clampPanelPrefill). */
export const PREFILL_SOURCE = 'the values given to the panel';

export interface PrefillSettings {
  /** Undefined when the argument sets no form value. */
  settings?: Partial<PanelSettings>;
  /** What was left out and why, one sentence each (unknown scheduler or template). */
  problems: string[];
}

/** `configNegative`: the courseIllustrator.negativePrompt setting. */
export function prefillSettings(arg: Record<string, unknown>, configNegative: string): PrefillSettings {
  const problems: string[] = [];
  let settings: Partial<PanelSettings> | undefined;
  if (typeof arg.prompt === 'string') settings = { prompt: arg.prompt };
  if (isRecord(arg.settings)) {
    const s = arg.settings;
    const out: Partial<PanelSettings> = { ...settings };
    if (typeof s.prompt === 'string') out.prompt = s.prompt;
    if (typeof s.negativePrompt === 'string') out.negativePrompt = s.negativePrompt;
    for (const k of ['width', 'height', 'steps', 'guidance', 'batch'] as const) if (typeof s[k] === 'number') out[k] = s[k] as number;
    if (typeof s.seed === 'number') out.seed = s.seed;
    if (typeof s.scheduler === 'string') {
      // 'default' (the model's own scheduler) is a valid stub value and a valid form value.
      const name = s.scheduler.trim().toLowerCase() === 'default' ? 'default' : resolveSchedulerName(s.scheduler);
      if (name) out.scheduler = name;
      else problems.push(`settings.scheduler: ${unknownSchedulerMessage(s.scheduler)}`);
    }
    settings = out;
  }
  // The template may come beside the settings (a stub's lens) or inside them (the gallery, Reuse).
  const templateArg = typeof arg.template === 'string' ? arg.template : isRecord(arg.settings) && typeof arg.settings.template === 'string' ? arg.settings.template : undefined;
  if (templateArg !== undefined && templateArg !== '') {
    const template = findTemplate(templateArg);
    if (!template) {
      problems.push(`template: unknown template "${templateArg}" (known: ${TEMPLATE_IDS.join(', ')}, or a composed edu.LEVEL.SUBJECT.TYPE or med.MODALITY.VIEW); no template is chosen.`);
      if (isRecord(arg.settings)) settings = { ...settings, template: '' };
    } else {
      // The form keeps the subject and shows the template beside it; the job applies it.
      const negativePrompt = settings?.negativePrompt ?? (configNegative || template.negative);
      settings = { ...settings, template: template.id };
      if (negativePrompt !== undefined) settings.negativePrompt = negativePrompt;
    }
  } else if (isRecord(arg.settings)) {
    // Settings describe a whole job (a stub, a gallery image): no template means none, not the
    // one the form happened to show. A bare prompt keeps the form's template.
    settings = { ...settings, template: '' };
  }
  if (settings) {
    const clamped = clampPanelPrefill(settings, PREFILL_SOURCE);
    settings = clamped.settings;
    problems.push(...clamped.warnings);
  }
  return { settings, problems };
}
