// Which images in a document were made by Course Illustrator (for the Regenerate lenses).
// The engine decides (engine/info reads the PNG metadata); a cheap byte check in the host first
// keeps ordinary images from starting the engine at all. Cached by path + mtime + size. Only
// regular files are looked at, and only their first bytes.

import { promises as fs } from 'fs';
import * as vscode from 'vscode';
import { hasGenerationParameters } from '../../core/galleryIndex';
import type { PngInfoResult } from '../../core/protocol';
import { readPngMetadataPrefix } from '../../engine/image/pngFile';
import type { MarkdownImage } from '../../core/stubs';
import type { Services } from '../services';
import { Disposable } from '../util/dispose';
import { imageAt, imageUri } from './documentStubs';

interface Entry {
  stamp: string;
  info?: PngInfoResult;
  pending?: Promise<void>;
}

const MARKERS = [Buffer.from('parameters\0'), Buffer.from('parameters'), Buffer.from('trainedAlgorithmicMedia')];

export class ImageInfoCache extends Disposable {
  private readonly entries = new Map<string, Entry>();
  private readonly _onDidLearn = this._register(new vscode.EventEmitter<void>());
  readonly onDidLearn = this._onDidLearn.event;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly services: Services) {
    super();
  }

  /** Known info for a file, or undefined (then it is looked up in the background). */
  peek(file: vscode.Uri): PngInfoResult | undefined {
    if (file.scheme !== 'file') return undefined;
    const entry = this.entries.get(file.fsPath);
    if (!entry) {
      this.lookUp(file.fsPath);
      return undefined;
    }
    return entry.info;
  }

  /** Looks the file up now (commands need a definite answer). */
  async get(file: vscode.Uri): Promise<PngInfoResult | undefined> {
    const stamp = await stampOf(file.fsPath);
    if (!stamp) return undefined;
    const e = this.entries.get(file.fsPath);
    if (e?.stamp === stamp && !e.pending) return e.info;
    const info = await this.query(file.fsPath);
    this.entries.set(file.fsPath, { stamp, info });
    return info;
  }

  /** The image on that line of the document and, when it has metadata, what it says. */
  async at(document: vscode.TextDocument, line: number, index: number): Promise<{ image: MarkdownImage; info?: PngInfoResult } | undefined> {
    const image = imageAt(document, line, index);
    return image && { image, info: await this.get(imageUri(document, image)) };
  }

  invalidate(fsPath?: string): void {
    if (fsPath) this.entries.delete(fsPath);
    else this.entries.clear();
  }

  private lookUp(fsPath: string): void {
    const entry: Entry = { stamp: '' };
    this.entries.set(fsPath, entry);
    // One at a time: a document with many images must not flood the engine.
    entry.pending = this.chain = this.chain.then(async () => {
      const stamp = await stampOf(fsPath);
      entry.stamp = stamp ?? '';
      if (!stamp || !this.services.isTrusted()) return;
      if (!(await looksGenerated(fsPath))) return;
      entry.info = await this.query(fsPath);
      if (entry.info && hasGenerationParameters(entry.info)) this._onDidLearn.fire();
    }).finally(() => {
      entry.pending = undefined;
    });
  }

  private async query(fsPath: string): Promise<PngInfoResult | undefined> {
    try {
      const info = await this.services.engine.info(fsPath);
      return info.kind === 'png' ? info : undefined;
    } catch (e) {
      this.services.log.warn(`could not read the metadata of ${fsPath}: ${(e as Error).message}`);
      return undefined;
    }
  }
}

async function stampOf(fsPath: string): Promise<string | undefined> {
  try {
    const s = await fs.stat(fsPath);
    return s.isFile() ? `${s.mtimeMs}:${s.size}` : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The cheap check, on the metadata part of the file only (see engine/image/pngFile.ts): a link
 * named *.png to a device, or a sparse file of gigabytes, costs one open and a few reads here.
 */
export async function looksGenerated(fsPath: string): Promise<boolean> {
  try {
    const { data } = await readPngMetadataPrefix(fsPath);
    if (data.length < 8 || data.readUInt32BE(0) !== 0x89504e47) return false;
    return MARKERS.some((m) => data.indexOf(m) >= 0);
  } catch {
    return false;
  }
}
