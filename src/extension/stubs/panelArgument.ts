// What the "Open in panel" lens hands to courseIllustrator.openPanel: the stub's prompt and the
// options the panel has fields for, so the panel opens ready to generate what the stub asks for.

import type * as vscode from 'vscode';
import type { ImageStub } from '../../core/stubs';

export interface OpenPanelArgument {
  document: vscode.Uri;
  prompt: string;
  settings: { prompt: string; negativePrompt?: string; width?: number; height?: number; steps?: number; guidance?: number; seed?: number };
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
  return { document, prompt: stub.prompt, settings };
}
