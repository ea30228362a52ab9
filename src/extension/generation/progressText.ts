// "step 7/20 · ETA 0:42" and friends, for the progress notification. Pure.

import { formatDurationClock } from '../../core/format';
import * as l10n from '@vscode/l10n';
import type { ProgressEvent } from '../../core/protocol';

export function progressText(e: ProgressEvent): string {
  const stage = stageText(e);
  return e.images > 1 ? l10n.t('image {0}/{1} · {2}', e.image + 1, e.images, stage) : stage;
}

function stageText(e: ProgressEvent): string {
  switch (e.stage) {
    case 'load':
      // Counted only while a model is prepared for this machine (the int8 UNet's measuring, the Winograd weights; once).
      return e.total > 0 ? l10n.t('preparing the model for this computer… {0}/{1}', e.step, e.total) : l10n.t('loading the model…');
    case 'encode':
      return l10n.t('reading the prompt…');
    case 'decode':
      return l10n.t('decoding the image…');
    case 'save':
      return l10n.t('saving…');
    default:
      return e.etaMs > 0 ? l10n.t('step {0}/{1} · ETA {2}', e.step, e.total, formatDurationClock(e.etaMs)) : l10n.t('step {0}/{1}', e.step, e.total);
  }
}

/** Fraction of the whole job done (0..1), counting every image's steps. */
export function progressFraction(e: ProgressEvent): number {
  if (e.total <= 0) return 0;
  const perImage = e.stage === 'denoise' ? e.step / e.total : e.stage === 'decode' || e.stage === 'save' ? 1 : 0;
  return Math.min(1, (e.image + perImage) / Math.max(1, e.images));
}
