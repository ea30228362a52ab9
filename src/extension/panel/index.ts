// Entry point of the results panel for the extension's setup code.

import * as vscode from 'vscode';
import { COMMAND_IDS } from '../commands/ids';
import type { Services } from '../services';
import { PanelPrefill, ResultsPanelController } from './resultsPanel';

export type { PanelPrefill } from './resultsPanel';
export { PANEL_VIEW_TYPE } from './resultsPanel';

let current: ResultsPanelController | undefined;

/**
 * Registers the panel's serializer (so it comes back after a reload) and the
 * courseIllustrator.openPanel command. Call once from activate().
 */
export function registerResultsPanel(context: vscode.ExtensionContext, services: Services): vscode.Disposable {
  const controller = new ResultsPanelController(context, services);
  current = controller;
  const command = vscode.commands.registerCommand(COMMAND_IDS.openPanel, (arg?: unknown) => {
    openResultsPanel(prefillFromArgument(arg));
  });
  return vscode.Disposable.from(command, controller, {
    dispose: () => {
      if (current === controller) current = undefined;
    },
  });
}

/**
 * Opens or reveals the panel, pre-filled (a CodeLens passes `{ settings: { prompt }, document }`).
 * Throws when registerResultsPanel has not run.
 */
export function openResultsPanel(prefill: PanelPrefill = {}): void {
  if (!current) throw new Error('The results panel is not registered yet: call registerResultsPanel(context, services) in activate().');
  current.open(prefill);
}

/** Command arguments come from CodeLenses, menus or other extensions: accept a prompt string or a prefill object. */
function prefillFromArgument(arg: unknown): PanelPrefill {
  if (typeof arg === 'string') return { settings: { prompt: arg } };
  if (arg instanceof vscode.Uri) return { document: arg };
  if (typeof arg !== 'object' || arg === null) return {};
  const a = arg as Record<string, unknown>;
  const out: PanelPrefill = {};
  if (a.document instanceof vscode.Uri) out.document = a.document;
  if (typeof a.prompt === 'string') out.settings = { prompt: a.prompt };
  if (typeof a.settings === 'object' && a.settings !== null) {
    const s = a.settings as Record<string, unknown>;
    const settings: PanelPrefill['settings'] = { ...out.settings };
    if (typeof s.prompt === 'string') settings.prompt = s.prompt;
    if (typeof s.negativePrompt === 'string') settings.negativePrompt = s.negativePrompt;
    for (const k of ['width', 'height', 'steps', 'guidance', 'batch'] as const) if (typeof s[k] === 'number') settings[k] = s[k] as number;
    if (typeof s.seed === 'number') settings.seed = s.seed;
    out.settings = settings;
  }
  if (a.generate === true) out.generate = true;
  return out;
}
