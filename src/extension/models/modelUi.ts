// Small pieces the model commands share: error text and reading the store with a message on failure.

import * as vscode from 'vscode';
import type { ModelsListResult } from '../../core/modelsProtocol';
import { ModelContext, storeDir } from './modelState';

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The store's models, or undefined after telling the user why it could not be read. */
export async function listOrShow(m: ModelContext): Promise<ModelsListResult | undefined> {
  try {
    return await m.api.list({ store: storeDir(m) });
  } catch (err) {
    void vscode.window.showErrorMessage(vscode.l10n.t('Cannot read the model store {0}: {1}', storeDir(m), errorText(err)));
    return undefined;
  }
}
