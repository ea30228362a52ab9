// What the backend status bar item says (backendStatus.ts), without `vscode` so tests can read it.

import type { ConfigSnapshot } from '../config';
import { SERVER_NAMES } from './generationBackend';

export function backendStatusText(c: Pick<ConfigSnapshot, 'backend' | 'backendUrl'>): { text: string; tooltip: string } {
  if (c.backend === 'local') return { text: '$(vm) Local', tooltip: 'Course Illustrator makes images on this computer. Click to use a school server.' };
  const where = c.backendUrl || 'no address set (courseIllustrator.backendUrl)';
  return { text: '$(server) School server', tooltip: `Course Illustrator makes images on a ${SERVER_NAMES[c.backend]} server: ${where}. Click to change.` };
}
