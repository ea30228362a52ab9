// What the backend status bar item says (backendStatus.ts), without `vscode` so tests can read it.

import type { ConfigSnapshot } from '../config';
import * as l10n from '@vscode/l10n';
import { SERVER_NAMES } from './generationBackend';

/** The engine's work as the item shows it: the running job's step, and how many wait. */
export interface EngineActivity {
  step?: number;
  total?: number;
  waiting: number;
}

/** `activity`: jobs under way (the item then says so, and where they run); undefined: idle. */
export function backendStatusText(c: Pick<ConfigSnapshot, 'backend' | 'backendUrl'>, activity?: EngineActivity): { text: string; tooltip: string } {
  if (activity) {
    const step = activity.total ? l10n.t('step {0}/{1}', activity.step ?? 0, activity.total) : l10n.t('starting');
    const waiting = activity.waiting > 0 ? l10n.t(' (+{0} waiting)', activity.waiting) : '';
    const idle = backendStatusText(c);
    return { text: l10n.t('$(sync~spin) Illustrating: {0}{1}', step, waiting), tooltip: idle.tooltip };
  }
  if (c.backend === 'local') return { text: l10n.t('$(vm) Local'), tooltip: l10n.t('Course Illustrator makes images on this computer. Click to use a school server.') };
  const where = c.backendUrl || l10n.t('no address set (courseIllustrator.backendUrl)');
  return { text: l10n.t('$(server) School server'), tooltip: l10n.t('Course Illustrator makes images on a {0} server: {1}. Click to change.', SERVER_NAMES[c.backend], where) };
}
