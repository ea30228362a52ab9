// The results panel's "Translate" button: its prompt in English, for the English prompt field.

import * as vscode from 'vscode';
import type { FromPanel } from '../../core/webviewMessages';
import type { PanelView } from '../panel/panelView';
import type { Services } from '../services';
import { translateText } from './translateText';

export async function translateForPanel(services: Services, view: PanelView, m: FromPanel.Translate): Promise<void> {
  const r = await translateText(services, m.text);
  if ('english' in r) view.post({ type: 'translated', requestId: m.requestId, text: r.english });
  else view.post({ type: 'translated', requestId: m.requestId, error: 'error' in r ? r.error : vscode.l10n.t('Not translated: the translation model is not downloaded.') });
}
