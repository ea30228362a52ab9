// Where rewritten graphs live between sessions. A graph whose weights are external is a few MB
// and stays in memory; one that carries its weights inline (a 137-200 MB VAE export, the compact
// UNet's 8-bit weights) goes to a file in the cache folder, which onnxruntime reads itself, so
// its bytes do not stay in the JS heap beside onnxruntime's own copy.

import * as crypto from 'crypto';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeFileAtomic } from '../../image/atomicWrite';

/** Larger rewritten graphs are kept as a file, not as bytes. */
export const IN_MEMORY_MAX_BYTES = 16 * 1024 * 1024;

/** $COURSE_ILLUSTRATOR_CACHE, else ~/.cache/course-illustrator ($XDG_CACHE_HOME respected). */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.COURSE_ILLUSTRATOR_CACHE) return path.resolve(env.COURSE_ILLUSTRATOR_CACHE);
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'course-illustrator');
}

/**
 * `bytes` as they are when small, else the path of a cache file holding them (written once per
 * `key`: the recipe and whatever identifies the source graph).
 */
export async function keepGraph(bytes: Uint8Array, key: string, folder = path.join(cacheRoot(), 'graphs')): Promise<Uint8Array | string> {
  if (bytes.length <= IN_MEMORY_MAX_BYTES) return bytes;
  const file = path.join(folder, `${crypto.createHash('sha256').update(key).digest('hex').slice(0, 24)}.onnx`);
  const existing = await fs.stat(file).catch(() => undefined);
  if (existing?.isFile() && existing.size === bytes.length) return file;
  await fs.mkdir(folder, { recursive: true });
  await writeFileAtomic(file, bytes, { overwrite: true, what: 'Rewritten model graph' });
  return file;
}
