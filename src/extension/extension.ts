// Extension entry point. Setup lives in extension.shared.ts.

import type * as vscode from 'vscode';
import { activateShared, type CourseIllustratorApi } from './extension.shared';

export function activate(context: vscode.ExtensionContext): CourseIllustratorApi {
  return activateShared(context);
}

// Subscriptions (engine client included) are disposed by VS Code; the engine is killed there.
export function deactivate(): void {}
