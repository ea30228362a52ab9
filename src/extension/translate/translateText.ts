// One translation, as the command, the quick fix and the results panel ask for it: the model
// (downloaded first if the user agrees), then engine/translate in the engine process.

import * as vscode from 'vscode';
import { EngineRequests } from '../../core/engineRequests';
import { fromReplyError } from '../engine/engineError';
import type { Services } from '../services';
import { ensureTranslationModel } from './translationModel';

export type Translation = { english: string } | { declined: true } | { error: string };

const HAN = /\p{Script=Han}/u;

export async function translateText(services: Services, text: string): Promise<Translation> {
  if (!HAN.test(text)) return { error: vscode.l10n.t('There is no Chinese in this prompt to translate.') };
  // Before offering a download: the engine does not run in Restricted Mode.
  if (!services.isTrusted()) return { error: vscode.l10n.t('Translating runs the engine, which is off in Restricted Mode. Trust this workspace to translate prompts.') };
  const model = await ensureTranslationModel();
  if (!model) return { declined: true };
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Translating the prompt to English…') }, async () => {
    try {
      // engine.models sends any typed request and validates its reply (as engine/import does).
      const r = await services.engine.models(EngineRequests.translate, { model, text });
      services.log.info(`[translate] ${r.runs} Chinese run(s) in ${Math.round(r.ms)} ms`);
      return { english: r.text };
    } catch (err) {
      const e = fromReplyError(EngineRequests.translate.method, err);
      services.log.warn(`[translate] ${e.message}`);
      return { error: e.message };
    }
  });
}
