// Entry point of the results panel for the extension's setup code.

import * as vscode from 'vscode';
import { COMMAND_IDS } from '../commands/ids';
import type { GenerationService } from '../generation/generationService';
import type { Services } from '../services';
import { isRecord } from '../../core/validate';
import { prefillSettings } from './prefillSettings';
import { PanelPrefill, ResultsPanelController } from './resultsPanel';

export type { PanelPrefill } from './resultsPanel';
export { PANEL_VIEW_TYPE } from './resultsPanel';

let current: ResultsPanelController | undefined;

/**
 * Registers the panel's serializer (so it comes back after a reload) and the
 * courseIllustrator.openPanel command. Call once from activate().
 */
export function registerResultsPanel(context: vscode.ExtensionContext, services: Services, generation: GenerationService): vscode.Disposable {
  const controller = new ResultsPanelController(context, services, generation);
  current = controller;
  // Returns the prefill it applied, so a caller can see what the form was given.
  const command = vscode.commands.registerCommand(COMMAND_IDS.openPanel, (arg?: unknown): PanelPrefill => {
    const { prefill, problems } = prefillFromArgument(arg, services.config().negativePrompt);
    for (const p of problems) void vscode.window.showWarningMessage(vscode.l10n.t('Course Illustrator: Open in panel: {0}', p));
    openResultsPanel(prefill);
    return prefill;
  });
  return vscode.Disposable.from(command, controller, {
    dispose: () => {
      if (current === controller) current = undefined;
    },
  });
}

/**
 * Opens or reveals the panel, pre-filled (the stub lens passes `{ document, prompt, settings, template? }`).
 * Throws when registerResultsPanel has not run.
 */
export function openResultsPanel(prefill: PanelPrefill = {}): void {
  if (!current) throw new Error('The results panel is not registered yet: call registerResultsPanel(context, services) in activate().');
  current.open(prefill);
}

/**
 * Command arguments come from CodeLenses, menus or other extensions: a prompt string, a document
 * Uri, or `{ document?, prompt?, settings?, template?, generate? }` (see prefillSettings.ts).
 */
function prefillFromArgument(arg: unknown, configNegative: string): { prefill: PanelPrefill; problems: string[] } {
  if (typeof arg === 'string') return { prefill: { settings: { prompt: arg } }, problems: [] };
  if (arg instanceof vscode.Uri) return { prefill: { document: arg }, problems: [] };
  if (!isRecord(arg)) return { prefill: {}, problems: [] };
  const { settings, problems } = prefillSettings(arg, configNegative);
  const prefill: PanelPrefill = {};
  if (arg.document instanceof vscode.Uri) prefill.document = arg.document;
  if (isRecord(arg.stub) && typeof arg.stub.line === 'number' && typeof arg.stub.prompt === 'string') prefill.stub = { line: arg.stub.line, prompt: arg.stub.prompt };
  if (settings) prefill.settings = settings;
  if (arg.generate === true) prefill.generate = true;
  return { prefill, problems };
}
