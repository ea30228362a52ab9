// Which stub a "write the prompt in English" warning is about, so the quick fix translates that
// one. The warning is the one stubs.ts adds for a Chinese prompt (promptLanguage.ts); it is
// recognised by its text, on the stub's line and inside its range. Pure: no vscode.

import { foreignScript, promptLanguageProblem } from '../../core/promptLanguage';
import type { ImageStub, TextRange } from '../../core/stubs';

/** The index, among the stubs on the warning's line, of the Chinese stub it is about; -1 for none. */
export function stubForLanguageWarning(stubs: readonly ImageStub[], warning: { range: TextRange; message: string }): number {
  const onLine = stubs.filter((s) => s.range.line === warning.range.line);
  return onLine.findIndex(
    (s) =>
      warning.range.start >= s.range.start &&
      warning.range.end <= s.range.end &&
      foreignScript(s.prompt) === 'Chinese' &&
      promptLanguageProblem(s.prompt) === warning.message,
  );
}
