// The panel's source image: the picture a teacher redraws (img2img) or repaints part of
// (inpainting). It comes from a file (a link's CodeLens, the explorer, the gallery, a result, the
// open dialog) or as bytes dropped or pasted into the webview. Dropped bytes and painted masks are
// kept in the extension's storage, never in the course: the original is only ever read.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as vscode from 'vscode';
import { IMAGE_EXTENSIONS, imageKind } from '../../core/imageKind';
import * as l10n from '@vscode/l10n';
import type { SourceImage } from '../../core/webviewMessages';

/** Larger files are refused before they are read: the engine would refuse their pixels anyway. */
export const MAX_SOURCE_BYTES = 64 * 2 ** 20;
/** Staged copies older than this are removed when the panel starts. */
const STAGED_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

export interface Source {
  id: string;
  /** The file the engine reads. */
  path: string;
  /** What the panel calls it: the original file name, or the dropped file's name. */
  name: string;
}

export class PanelSource {
  private current: Source | undefined;
  private counter = 0;

  /** `folder`: where dropped images and masks are kept (the extension's storage). */
  constructor(readonly folder: string) {
    void this.removeOldStaged();
  }

  get(): Source | undefined {
    return this.current;
  }

  clear(): void {
    this.current = undefined;
  }

  /** Uses an existing image file as it is (read only); throws a sentence for the user. */
  async setFile(file: string): Promise<Source> {
    const st = await fs.promises.stat(file).catch(() => undefined);
    if (!st?.isFile()) throw new Error(`${path.basename(file)} is not a file that can be read; choose a PNG, JPEG or WebP image.`);
    if (st.size > MAX_SOURCE_BYTES) throw new Error(`${path.basename(file)} is larger than ${MAX_SOURCE_BYTES / 2 ** 20} MiB; use a smaller image.`);
    const head = Buffer.alloc(16);
    const fh = await fs.promises.open(file, 'r');
    try {
      await fh.read(head, 0, head.length, 0);
    } finally {
      await fh.close();
    }
    if (!imageKind(head)) throw new Error(`${path.basename(file)} is not a PNG, JPEG or WebP image.`);
    this.current = { id: this.nextId('src'), path: file, name: path.basename(file) };
    return this.current;
  }

  /** Keeps dropped or pasted bytes as a file in the storage folder and uses it. */
  async setBytes(name: string, base64: string): Promise<Source> {
    const bytes = Buffer.from(base64, 'base64');
    const kind = imageKind(bytes);
    if (!kind) throw new Error(name ? l10n.t('{0} is not a PNG, JPEG or WebP image.', name) : l10n.t('The dropped file is not a PNG, JPEG or WebP image.'));
    const id = this.nextId('src');
    const file = await this.stage(`${id}${IMAGE_EXTENSIONS[kind]}`, bytes);
    this.current = { id, path: file, name: name || path.basename(file) };
    return this.current;
  }

  /** Writes a painted mask (PNG bytes as base64) for one job; returns its path. */
  async writeMask(base64: string): Promise<string> {
    const bytes = Buffer.from(base64, 'base64');
    if (imageKind(bytes) !== 'png') throw new Error(l10n.t('The painted mask did not arrive as a PNG; paint it again.'));
    return this.stage(`${this.nextId('mask')}.png`, bytes);
  }

  /** For the webview: an id and a URI, never the path. */
  toWebview(webview: vscode.Webview | undefined, asUri: (file: string) => vscode.Uri): SourceImage | undefined {
    const s = this.current;
    if (!s) return undefined;
    const stamp = fs.existsSync(s.path) ? fs.statSync(s.path).mtimeMs.toString(36) : '0';
    return { id: s.id, uri: webview ? webview.asWebviewUri(asUri(s.path)).with({ query: `v=${stamp}` }).toString() : '', fileName: s.name };
  }

  private nextId(prefix: string): string {
    return `${prefix}-${Date.now().toString(36)}-${++this.counter}`;
  }

  /** Temporary file, then rename: a crash leaves no half image that looks whole. */
  private async stage(name: string, bytes: Buffer): Promise<string> {
    await fs.promises.mkdir(this.folder, { recursive: true });
    const file = path.join(this.folder, name);
    const tmp = `${file}.${process.pid}.tmp`;
    await fs.promises.writeFile(tmp, bytes, { flag: 'wx' });
    await fs.promises.rename(tmp, file);
    return file;
  }

  private async removeOldStaged(): Promise<void> {
    const names = await fs.promises.readdir(this.folder).catch(() => [] as string[]);
    const now = Date.now();
    for (const n of names) {
      if (!/^(src|mask)-[a-z0-9]+-\d+\.(png|jpg|webp)(\.\d+\.tmp)?$/.test(n)) continue;
      const f = path.join(this.folder, n);
      const st = await fs.promises.lstat(f).catch(() => undefined);
      if (st?.isFile() && now - st.mtimeMs > STAGED_MAX_AGE_MS) await fs.promises.unlink(f).catch(() => undefined);
    }
  }
}
