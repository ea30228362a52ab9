// The preview decoder for the panel's jobs, looked up per job so a TAESD download or a settings
// change applies to the next image without a reload.

import type { InstalledModel } from '../../core/modelsProtocol';
import { choosePreviewDecoder } from './previewDecoderChoice';
import { modelContext, storeDir } from './modelState';

export async function previewDecoderPath(): Promise<string | undefined> {
  let m;
  try {
    m = modelContext();
  } catch {
    return undefined; // models part not registered (some tests): the approximation
  }
  const cfg = m.services.config();
  if (cfg.livePreview === 'approximate') return undefined;
  let installed: InstalledModel[] = [];
  if (!cfg.previewDecoderPath.trim()) {
    try {
      installed = (await m.api.list({ store: storeDir(m) })).installed;
    } catch (err) {
      m.services.log.warn(`Live previews: cannot read the model store (${err instanceof Error ? err.message : String(err)}); using the approximation.`);
    }
  }
  return choosePreviewDecoder(cfg, installed, process.env.HOME ?? process.env.USERPROFILE ?? '');
}
