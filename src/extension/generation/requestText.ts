// The text of a generation request as it may go into a job, a PNG and the Markdown document:
// prompts, negative prompt and alt text on one line, without control characters or bidi
// overrides (src/core/sanitize.ts), and a prompt within the length limit. Every command and
// CodeLens goes through generateAndInsert, which calls this first. Pure: no vscode.

import type { GenerationSettings } from '../../core/generationSettings';
import { NEGATIVE_PROMPT, PROMPT, lengthProblem } from '../../core/limits';
import * as l10n from '@vscode/l10n';
import { cleanPromptText } from '../../core/sanitize';

export interface RequestText {
  settings: Pick<GenerationSettings, 'prompt' | 'negativePrompt' | 'modelPrompt'>;
  alt: string;
  /** The prompt was read from an image: it may already have a template's words. */
  fromImage?: boolean;
}

/** The request with its text cleaned; the other fields are kept as they are. */
export function cleanRequestText<T extends RequestText>(req: T): T {
  const settings = { ...req.settings, prompt: cleanPromptText(req.settings.prompt) };
  if (req.settings.negativePrompt !== undefined) settings.negativePrompt = cleanPromptText(req.settings.negativePrompt);
  if (req.settings.modelPrompt !== undefined) settings.modelPrompt = cleanPromptText(req.settings.modelPrompt);
  return { ...req, settings, alt: cleanPromptText(req.alt) };
}

/** Why the (cleaned) request can't be run, naming the limit; undefined when it can. */
export function requestTextProblem(req: RequestText): string | undefined {
  const limit = req.fromImage ? PROMPT.maxWithTemplate : PROMPT.maxChars;
  const prompt = lengthProblem(req.settings.prompt, limit) ?? (req.settings.modelPrompt ? lengthProblem(req.settings.modelPrompt, limit) : undefined);
  if (prompt) return l10n.t('The prompt {0}; shorten it.', prompt);
  const negative = req.settings.negativePrompt === undefined ? undefined : lengthProblem(req.settings.negativePrompt, NEGATIVE_PROMPT.maxChars);
  if (negative) return l10n.t('The negative prompt {0}; shorten it.', negative);
  return undefined;
}
