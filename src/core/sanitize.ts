// Text that ends up in a Markdown document or in a PNG's parameters: prompts, negative prompts,
// alt text. It may come from a PNG anyone made, another extension or a paste, so it may hold
// characters that do harm there:
//   - C0 controls (NUL, ESC...), DEL and C1 controls: a NUL makes VS Code take the Markdown file
//     for a binary one; ESC sequences reach terminals that print the file or the CLI's output;
//   - bidirectional overrides U+202A–U+202E and isolates U+2066–U+2069: they make text read
//     differently from what it says ("Trojan Source");
//   - line breaks in a prompt: A1111's parameters format starts the negative prompt at a line
//     beginning "Negative prompt:", so a prompt with a line break followed by those words reads
//     back as another prompt; U+2028/U+2029 also make VS Code ask to "fix" the file's line endings.
// CLIP's tokenizer treats every run of whitespace as one space, so folding line breaks and tabs
// into spaces does not change the image. Pure: no Node, no vscode.

// Line breaks as VS Code, JavaScript and Python count them, and the other whitespace controls.
const BREAKS = /\r\n|[\t\n\v\f\r\x85\u2028\u2029]/g;
const BREAKS_KEPT = /[\v\f\x85\u2028\u2029]/g;
// C0 without tab, line feed, vertical tab, form feed and carriage return; DEL; C1 without NEL;
// the bidi embeddings/overrides and isolates.
const CONTROLS = /[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069]/g;
// Anything either of the above would change; most text has none, and is returned as it is.
const ANY = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/**
 * A prompt, negative prompt or alt text as it may go into a job, a PNG and a Markdown document:
 * one line, every line break and tab folded into a space (CRLF into one), control characters
 * and bidi overrides/isolates removed. Nothing else changes (no trimming, no collapsing).
 */
export function cleanPromptText(text: string): string {
  if (!ANY.test(text)) return text;
  return text.replace(BREAKS, ' ').replace(CONTROLS, '');
}

/**
 * Text that may keep its lines (tab, line feed and carriage return stay): the other control
 * characters and bidi overrides/isolates are removed; vertical tab, form feed, NEL and the
 * Unicode line/paragraph separators become line feeds.
 */
export function stripControlCharacters(text: string): string {
  if (!ANY.test(text)) return text;
  return text.replace(BREAKS_KEPT, '\n').replace(CONTROLS, '');
}
