// The school-server part of the extension host: the credentials command and the status bar
// item. Routing generate to the server is in servicesImpl.ts (routedEngine.ts).

import * as vscode from 'vscode';
import type { Services } from '../services';
import { createBackendStatus } from './backendStatus';
import { SET_CREDENTIALS_COMMAND, setServerCredentials } from './setServerCredentials';

export function registerBackends(context: vscode.ExtensionContext, services: Services): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.commands.registerCommand(SET_CREDENTIALS_COMMAND, () => setServerCredentials(context.secrets, services)),
    createBackendStatus(services),
  );
}
