// Where the extension keeps model choices: the store folder, the downloaded model in use
// (globalState; the courseIllustrator.modelPath setting wins when set), and the hub token
// (SecretStorage, never settings). Set once by registerModelCommands().

import * as path from 'path';
import * as vscode from 'vscode';
import type { ModelsPullParams } from '../../core/modelsProtocol';
import type { Services } from '../services';
import { ModelsApi, modelsApiFor } from './modelsApi';

export const ACTIVE_MODEL_KEY = 'courseIllustrator.activeModelId';
export const TOKEN_SECRET = 'courseIllustrator.hubToken';

export interface ModelContext {
  readonly context: vscode.ExtensionContext;
  readonly services: Services;
  readonly api: ModelsApi;
}

let current: ModelContext | undefined;

export function setModelContext(context: vscode.ExtensionContext, services: Services, api?: ModelsApi): ModelContext {
  current = { context, services, api: api ?? modelsApiFor(services.engine, services.log) };
  return current;
}

export function modelContext(): ModelContext {
  if (!current) throw new Error('Course Illustrator: registerModelCommands() must run before the model functions are used.');
  return current;
}

/** The model store: the setting, else <global storage>/models. */
export function storeDir(m: ModelContext): string {
  const configured = m.services.config().modelStore.trim();
  if (configured) return path.resolve(configured.replace(/^~(?=$|[\\/])/, process.env.HOME ?? process.env.USERPROFILE ?? '~'));
  return path.join(m.context.globalStorageUri.fsPath, 'models');
}

export function activeModelId(m: ModelContext): string | undefined {
  return m.context.globalState.get<string>(ACTIVE_MODEL_KEY) || undefined;
}

export async function setActiveModelId(m: ModelContext, id: string | undefined): Promise<void> {
  await m.context.globalState.update(ACTIVE_MODEL_KEY, id);
}

/** Everything a pull needs besides the model: store, endpoint, token, VS Code's proxy. */
export async function pullSettings(m: ModelContext): Promise<Omit<ModelsPullParams, 'operationId' | 'model'>> {
  const cfg = m.services.config();
  const proxy = vscode.workspace.getConfiguration('http').get<string>('proxy')?.trim();
  const token = (await m.context.secrets.get(TOKEN_SECRET)) || undefined;
  return { store: storeDir(m), endpoint: cfg.hubEndpoint.trim() || undefined, token, proxy: proxy || undefined };
}
