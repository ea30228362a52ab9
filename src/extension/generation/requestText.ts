// The text of a generation request as it may go into a job, a PNG and the Markdown document:
// prompt, negative prompt and alt text on one line, without control characters or bidi
// overrides (src/core/sanitize.ts), and a prompt within the length limit. Every command and
// CodeLens goes through generateAndInsert, which calls this first. Pure: no vscode.

import { NEGATIVE_PROMPT, PROMPT, lengthProblem } from '../../core/limits';
import * as l10n from '@vscode/l10n';
import { cleanPromptText } from '../../core/sanitize';

export interface RequestText {
  prompt: string;
  alt: string;
  negativePrompt?: string;
  /** The prompt already has its template's words (regenerating from a PNG's metadata). */
  templateApplied?: boolean;
}

/** The request with its text cleaned; the other fields are kept as they are. */
export function cleanRequestText<T extends RequestText>(req: T): T {
  const out: T = { ...req, prompt: cleanPromptText(req.prompt), alt: cleanPromptText(req.alt) };
  if (req.negativePrompt !== undefined) out.negativePrompt = cleanPromptText(req.negativePrompt);
  return out;
}

/** Why the (cleaned) request can't be run, naming the limit; undefined when it can. */
export function requestTextProblem(req: RequestText): string | undefined {
  const prompt = lengthProblem(req.prompt, req.templateApplied ? PROMPT.maxWithTemplate : PROMPT.maxChars);
  if (prompt) return l10n.t('The prompt {0}; shorten it.', prompt);
  const negative = req.negativePrompt === undefined ? undefined : lengthProblem(req.negativePrompt, NEGATIVE_PROMPT.maxChars);
  if (negative) return l10n.t('The negative prompt {0}; shorten it.', negative);
  return undefined;
}
