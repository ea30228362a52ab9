// Before and after on one slider: the result over the source image, cut at the slider.

import * as l10n from '@vscode/l10n';
import { el } from '../shared/vscodeApi';

export function compareView(beforeUri: string, afterUri: string, width: number, height: number): HTMLElement {
  const size = { width: String(width), height: String(height) };
  const before = el('img', { className: 'compare-before', attrs: { src: beforeUri, alt: l10n.t('Before: the image it was redrawn from'), ...size } });
  const after = el('img', { className: 'compare-after', attrs: { src: afterUri, alt: l10n.t('After: the redrawn image'), ...size } });
  const slider = el('input', { className: 'compare-slider', attrs: { type: 'range', min: '0', max: '100', value: '50', 'aria-label': l10n.t('Before (left) and after (right)') } });
  const cut = () => (after.style.clipPath = `inset(0 0 0 ${slider.value}%)`);
  slider.addEventListener('input', cut);
  cut();
  return el('div', { className: 'compare' }, [before, after, slider]);
}
