// Before and after on one slider: the result over the source image, cut at the slider.

import { el } from '../shared/vscodeApi';

export function compareView(beforeUri: string, afterUri: string, width: number, height: number): HTMLElement {
  const size = { width: String(width), height: String(height) };
  const before = el('img', { className: 'compare-before', attrs: { src: beforeUri, alt: 'Before: the image it was redrawn from', ...size } });
  const after = el('img', { className: 'compare-after', attrs: { src: afterUri, alt: 'After: the redrawn image', ...size } });
  const slider = el('input', { className: 'compare-slider', attrs: { type: 'range', min: '0', max: '100', value: '50', 'aria-label': 'Before (left) and after (right)' } });
  const cut = () => (after.style.clipPath = `inset(0 0 0 ${slider.value}%)`);
  slider.addEventListener('input', cut);
  cut();
  return el('div', { className: 'compare' }, [before, after, slider]);
}
