// Stable Diffusion v1.5's text encoder (CLIP) learnt from English captions: a prompt in Chinese
// or another script gives a picture of nearly nothing it says. This finds such prompts so the
// places where a prompt is typed can say so and show the way out. Pure: no vscode, no Node.

import * as l10n from '@vscode/l10n';

const SCRIPTS: { name: string; re: RegExp }[] = [
  { name: 'Chinese', re: /[\u3400-\u9fff\uf900-\ufaff]/gu },
  { name: 'Japanese', re: /[\u3040-\u30ff]/gu },
  { name: 'Korean', re: /[\uac00-\ud7af\u1100-\u11ff]/gu },
  { name: 'Cyrillic', re: /[\u0400-\u04ff]/gu },
  { name: 'Arabic', re: /[\u0600-\u06ff]/gu },
  { name: 'Hebrew', re: /[\u0590-\u05ff]/gu },
  { name: 'Greek', re: /[\u0370-\u03ff]/gu },
  { name: 'Thai', re: /[\u0e00-\u0e7f]/gu },
  { name: 'Devanagari', re: /[\u0900-\u097f]/gu },
];

/** The script most of a prompt's words are in, when it is not one the model reads; else undefined. */
export function foreignScript(prompt: string): string | undefined {
  const text = prompt.replace(/<(?:lora|lyco):[^>]*>/gi, ' ').slice(0, 5000);
  const latin = (text.match(/[A-Za-z]/g) ?? []).length;
  let best: { name: string; n: number } | undefined;
  for (const s of SCRIPTS) {
    const n = (text.match(s.re) ?? []).length;
    if (n > 0 && (!best || n > best.n)) best = { name: s.name, n };
  }
  // A CJK character carries about a word; other scripts count like Latin letters.
  const weight = best && ['Chinese', 'Japanese', 'Korean'].includes(best.name) ? 4 : 1;
  return best && best.n * weight >= latin ? best.name : undefined;
}

/** The sentence shown where the prompt is typed, or undefined when the model reads the prompt. */
export function promptLanguageProblem(prompt: string): string | undefined {
  const script = foreignScript(prompt);
  if (!script) return undefined;
  // Shown to the teacher (translated through l10n.t); the example prompt stays English on purpose.
  if (script === 'Chinese') {
    return l10n.t(
      'Stable Diffusion v1.5 understands English prompts; this one is in Chinese, so the picture would have little to do with it. Write the prompt in English and keep your text as the alt text: <!-- illustrate: 植物细胞结构图 | prompt: labelled diagram of a plant cell -->.',
    );
  }
  return l10n.t(
    'Stable Diffusion v1.5 understands English prompts; this one is in {0}, so the picture would have little to do with it. Write the prompt in English and keep your text as the alt text: <!-- illustrate: your text | prompt: labelled diagram of a plant cell -->.',
    script,
  );
}
