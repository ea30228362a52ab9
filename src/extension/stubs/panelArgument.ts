// What the "Open in panel" lens hands to courseIllustrator.openPanel: the stub's prompt and the
// options the panel has fields for, so the panel opens ready to generate what the stub asks for.
// The scheduler and template go as the stub wrote them; the panel's command resolves and checks
// them (src/extension/panel/prefillSettings.ts) and applies the template to the prompt.

import type * as vscode from 'vscode';
import type { GenerationSettings } from '../../core/generationSettings';
import type { ImageStub } from '../../core/stubs';

export interface OpenPanelArgument {
  document: vscode.Uri;
  prompt: string;
  settings: Pick<GenerationSettings, 'prompt' | 'negativePrompt' | 'width' | 'height' | 'steps' | 'guidance' | 'seed' | 'scheduler'>;
  /** A template id (src/core/templates.ts) that wraps the prompt. */
  template?: string;
  /** The stub itself: an image inserted from the panel replaces it. */
  stub: { line: number; prompt: string };
}

export function openPanelArgument(document: vscode.Uri, stub: ImageStub): OpenPanelArgument {
  // Only what the stub sets: the rest keeps the panel's own values.
  const { alt: _alt, domain: _domain, parts: _parts, modelPrompt: _english, template: _template, fast: _fast, ...set } = stub.options;
  const settings: OpenPanelArgument['settings'] = { ...set, prompt: stub.prompt };
  const arg: OpenPanelArgument = { document, prompt: stub.prompt, settings, stub: { line: stub.range.line, prompt: stub.prompt } };
  if (stub.options.template !== undefined) arg.template = stub.options.template;
  return arg;
}
