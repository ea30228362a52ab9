// What the "Open in panel" lens hands to courseIllustrator.openPanel: the stub's prompt and the
// options the panel has fields for, so the panel opens ready to generate what the stub asks for.
// The scheduler and template go as the stub wrote them; the panel's command resolves and checks
// them (src/extension/panel/prefillSettings.ts) and applies the template to the prompt.

import type * as vscode from 'vscode';
import type { ImageStub } from '../../core/stubs';

export interface OpenPanelArgument {
  document: vscode.Uri;
  prompt: string;
  settings: { prompt: string; negativePrompt?: string; width?: number; height?: number; steps?: number; guidance?: number; seed?: number; scheduler?: string };
  /** A template id (src/core/templates.ts) that wraps the prompt. */
  template?: string;
  /** The stub itself: an image inserted from the panel replaces it. */
  stub: { line: number; prompt: string };
}

export function openPanelArgument(document: vscode.Uri, stub: ImageStub): OpenPanelArgument {
  const o = stub.options;
  const settings: OpenPanelArgument['settings'] = { prompt: stub.prompt };
  // Only what the stub sets: the rest keeps the panel's own values.
  if (o.negative !== undefined) settings.negativePrompt = o.negative;
  if (o.width !== undefined) settings.width = o.width;
  if (o.height !== undefined) settings.height = o.height;
  if (o.steps !== undefined) settings.steps = o.steps;
  if (o.guidance !== undefined) settings.guidance = o.guidance;
  if (o.seed !== undefined) settings.seed = o.seed;
  if (o.scheduler !== undefined) settings.scheduler = o.scheduler;
  const arg: OpenPanelArgument = { document, prompt: stub.prompt, settings, stub: { line: stub.range.line, prompt: stub.prompt } };
  if (o.template !== undefined) arg.template = o.template;
  return arg;
}
