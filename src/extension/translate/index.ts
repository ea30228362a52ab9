// Chinese prompts to English with a local model: the "Translate Prompt to English" command and
// its quick fix on the language warning. The results panel's button calls translateForPanel.
// Registered after the model commands, whose store and downloads it uses.

import * as vscode from 'vscode';
import { CommandManager } from '../commands/commandManager';
import type { Services } from '../services';
import { TranslateCodeActions } from './translateCodeActions';
import { TranslatePromptCommand } from './translatePromptCommand';

export { translateForPanel } from './panelTranslate';
export { TRANSLATE_COMMAND } from './translatePromptCommand';

export function registerTranslation(services: Services): vscode.Disposable {
  const commands = new CommandManager();
  commands.register(new TranslatePromptCommand(services));
  const actions = vscode.languages.registerCodeActionsProvider({ language: 'markdown' }, new TranslateCodeActions(), TranslateCodeActions.metadata);
  return vscode.Disposable.from(commands, actions);
}
