// "step 7/20 · ETA 0:42" and friends, for the progress notification. Pure.

import { formatDurationClock } from '../../core/format';
import type { ProgressEvent } from '../../core/protocol';

export function progressText(e: ProgressEvent): string {
  const image = e.images > 1 ? `image ${e.image + 1}/${e.images} · ` : '';
  switch (e.stage) {
    case 'load':
      return `${image}loading the model…`;
    case 'encode':
      return `${image}reading the prompt…`;
    case 'decode':
      return `${image}decoding the image…`;
    case 'save':
      return `${image}saving…`;
    default:
      return `${image}step ${e.step}/${e.total}${e.etaMs > 0 ? ` · ETA ${formatDurationClock(e.etaMs)}` : ''}`;
  }
}

/** Fraction of the whole job done (0..1), counting every image's steps. */
export function progressFraction(e: ProgressEvent): number {
  if (e.total <= 0) return 0;
  const perImage = e.stage === 'denoise' ? e.step / e.total : e.stage === 'decode' || e.stage === 'save' ? 1 : 0;
  return Math.min(1, (e.image + perImage) / Math.max(1, e.images));
}
