// What the engine derives from a model's files and keeps beside them, in each component's
// `.course-illustrator/` folder (the Winograd weights, onnx/graph/winogradWeights.ts): not part of
// the download, so not in its manifest, but on the teacher's disk all the same. Kept free of
// onnxruntime: the extension host lists models through the hub too.

import { promises as fs } from 'fs';
import * as path from 'path';

/** The folder, inside a model component's folder, for what the engine derives from its files. */
export const DERIVED_FOLDER = '.course-illustrator';

/** Bytes of the files in the derived folders of `modelDir`'s components (unet/, vae_decoder/, …); 0 if none. */
export async function derivedBytes(modelDir: string): Promise<number> {
  let total = 0;
  const components = await fs.readdir(modelDir, { withFileTypes: true }).catch(() => []);
  for (const c of components) {
    if (!c.isDirectory() || c.name.startsWith('.')) continue;
    const folder = path.join(modelDir, c.name, DERIVED_FOLDER);
    const files = await fs.readdir(folder, { withFileTypes: true }).catch(() => []);
    for (const f of files) {
      if (!f.isFile()) continue;
      total += await fs.stat(path.join(folder, f.name)).then((s) => s.size, () => 0);
    }
  }
  return total;
}
