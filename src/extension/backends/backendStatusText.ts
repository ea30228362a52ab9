// What the backend status bar item says (backendStatus.ts), without `vscode` so tests can read it.

import type { ConfigSnapshot } from '../config';
import * as l10n from '@vscode/l10n';
import { SERVER_NAMES } from './generationBackend';

export function backendStatusText(c: Pick<ConfigSnapshot, 'backend' | 'backendUrl'>): { text: string; tooltip: string } {
  if (c.backend === 'local') return { text: l10n.t('$(vm) Local'), tooltip: l10n.t('Course Illustrator makes images on this computer. Click to use a school server.') };
  const where = c.backendUrl || l10n.t('no address set (courseIllustrator.backendUrl)');
  return { text: l10n.t('$(server) School server'), tooltip: l10n.t('Course Illustrator makes images on a {0} server: {1}. Click to change.', SERVER_NAMES[c.backend], where) };
}
