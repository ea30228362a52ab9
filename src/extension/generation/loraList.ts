// The LoRAs a teacher can use: the .safetensors files in courseIllustrator.loraFolders, by the
// name `<lora:NAME>` finds them under (the first folder wins, as in the engine and A1111).

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type * as vscode from 'vscode';
import type { ConfigSnapshot } from '../config';
import { loraDirs } from './jobOptions';

export interface LoraEntry {
  name: string;
  file: string;
}

const MAX_LORAS = 500;

export async function listLoras(config: ConfigSnapshot, document: vscode.Uri | undefined): Promise<LoraEntry[]> {
  const seen = new Map<string, LoraEntry>();
  for (const dir of loraDirs(config, document)) {
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    for (const n of names.sort()) {
      if (!/\.safetensors$/i.test(n)) continue;
      const name = n.replace(/\.safetensors$/i, '');
      // Names that a tag can carry: no '>' or ':' (they end or split the tag).
      if (/[<>:]/.test(name) || seen.has(name)) continue;
      seen.set(name, { name, file: path.join(dir, n) });
      if (seen.size >= MAX_LORAS) return [...seen.values()];
    }
  }
  return [...seen.values()];
}
