// Which preview decoder the panel's jobs use. Pure: no vscode.

import type { InstalledModel } from '../../core/modelsProtocol';

export interface PreviewDecoderSettings {
  readonly livePreview: 'auto' | 'approximate';
  readonly previewDecoderPath: string;
}

/**
 * The folder to decode live previews with, or undefined for the quick approximation: the user's
 * own folder when set, else the downloaded TAESD (the catalogue's 'vae' kind).
 */
export function choosePreviewDecoder(s: PreviewDecoderSettings, installed: readonly InstalledModel[], home = ''): string | undefined {
  if (s.livePreview === 'approximate') return undefined;
  const own = s.previewDecoderPath.trim();
  if (own) return home ? own.replace(/^~(?=$|[\\/])/, home) : own;
  return installed.find((m) => m.kind === 'vae')?.path;
}
