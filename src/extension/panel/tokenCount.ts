// The token count under the prompt boxes, counted by the engine's tokenizer for the model in use.

import * as l10n from '@vscode/l10n';
import { formatTokenCount } from '../../core/tokenDisplay';
import type { FromPanel } from '../../core/webviewMessages';
import type { Services } from '../services';
import type { PanelView } from './panelView';

/** `model`: the last job's model; else the configured one. */
export async function countTokens(services: Services, view: PanelView, lastModel: string | undefined, m: FromPanel.Tokenize): Promise<void> {
  const model = lastModel ?? (services.config().modelPath || undefined);
  if (!model) {
    view.post({ type: 'tokens', field: m.field, requestId: m.requestId, error: l10n.t('Token count appears once a model is chosen.') });
    return;
  }
  try {
    const r = await services.engine.tokenize({ model, text: m.text, promptWeighting: true });
    view.post({ type: 'tokens', field: m.field, requestId: m.requestId, info: formatTokenCount(r.count, r.windows) });
  } catch (e) {
    view.post({ type: 'tokens', field: m.field, requestId: m.requestId, error: (e as Error).message });
  }
}
