// What the extension knows about each PNG's generation parameters, in one place: the Regenerate
// lenses, Show Parameters, Redraw and the gallery all read it here. Images we write are entered
// from the generate result (the infotext is in the reply), so they are never read back; other
// files are read once by the engine (engine/info), after a cheap byte check in the host keeps
// ordinary images from starting the engine at all. Valid while a file's mtime and size match;
// kept on disk outside the workspace, so reopening 1,000 images costs 1,000 stats.

import { promises as fs } from 'node:fs';
import * as vscode from 'vscode';
import { type PngFacts, hasGenerationParameters } from '../../core/galleryIndex';
import { parseInfotext } from '../../core/infotext';
import type { GeneratedImage } from '../../core/protocol';
import type { MarkdownImage } from '../../core/stubs';
import { readPngMetadataPrefix } from '../../engine/image/pngFile';
import type { Services } from '../services';
import { imageAt, imageUri } from '../stubs/documentStubs';
import { Disposable } from '../util/dispose';
import { MetadataCache } from './metadataFile';

const MARKERS = [Buffer.from('parameters\0'), Buffer.from('parameters'), Buffer.from('trainedAlgorithmicMedia')];

export interface FileStamp {
  mtimeMs: number;
  size: number;
}

export class ImageMetadataStore extends Disposable {
  private readonly file: MetadataCache;
  private readonly pending = new Map<string, Promise<PngFacts | undefined>>();
  /** What peek may answer without a stat: facts confirmed by get or enter since the last invalidate. */
  private readonly memo = new Map<string, PngFacts>();
  private readonly _onDidLearn = this._register(new vscode.EventEmitter<string>());
  /** A file turned out to have generation parameters (lenses appear). */
  readonly onDidLearn = this._onDidLearn.event;
  /** Background look-ups (lenses) one at a time: a document with many images must not flood the engine. */
  private chain: Promise<unknown> = Promise.resolve();
  /** Answers from the store without reading the file, since the last resetCounts. */
  hits = 0;

  constructor(
    private readonly services: Services,
    /** The JSON file the facts are kept in (the workspace's extension storage). */
    storeFile: string,
  ) {
    super();
    this.file = this._register(new MetadataCache(storeFile));
    this._register(services.onDidWriteImages((e) => void this.enter(e.images)));
  }

  /** Known facts for a file as it is now, or undefined (then it is looked up in the background). */
  peek(file: vscode.Uri): PngFacts | undefined {
    if (file.scheme !== 'file') return undefined;
    this.file.load();
    const known = this.memo.get(file.fsPath);
    if (known) return known;
    if (!this.pending.has(file.fsPath)) {
      const job = (this.chain = this.chain.then(() => this.get(file.fsPath)).catch(() => undefined)) as Promise<PngFacts | undefined>;
      void job.then((facts) => facts && hasGenerationParameters(facts) && this._onDidLearn.fire(file.fsPath));
    }
    return undefined;
  }

  /**
   * The facts for a file now: from the store while its mtime and size match, else read (the
   * engine parses the PNG). Undefined for what is not a readable regular PNG, or in Restricted
   * Mode for a file not known yet. `stamp`: the caller's fresh stat, saving one.
   */
  async get(fsPath: string, stamp?: FileStamp): Promise<PngFacts | undefined> {
    this.file.load();
    const st = stamp ?? (await stampOf(fsPath));
    if (!st) return undefined;
    const cached = this.file.get(fsPath, st.mtimeMs, st.size);
    if (cached) {
      this.hits++;
      this.memo.set(fsPath, cached);
      return cached;
    }
    const running = this.pending.get(fsPath);
    if (running) return running;
    const read = this.read(fsPath, st).finally(() => this.pending.delete(fsPath));
    this.pending.set(fsPath, read);
    return read;
  }

  /** The image on that line of the document and, when it has metadata, what it says. */
  async at(document: vscode.TextDocument, line: number, index: number): Promise<{ image: MarkdownImage; facts?: PngFacts } | undefined> {
    const image = imageAt(document, line, index);
    if (!image) return undefined;
    const file = imageUri(document, image);
    return { image, facts: file.scheme === 'file' ? await this.get(file.fsPath) : undefined };
  }

  /** Enters images just written from their generate results: no file is read back. */
  async enter(images: readonly GeneratedImage[]): Promise<void> {
    for (const image of images) {
      const st = await stampOf(image.path);
      if (!st) continue;
      const parsed = parseInfotext(image.infotext);
      const facts: PngFacts = {
        width: image.width,
        height: image.height,
        prompt: parsed.prompt,
        negativePrompt: parsed.negativePrompt,
        fields: parsed.fields,
        parameters: image.infotext,
        madeByCourseIllustrator: true,
      };
      this.file.set(image.path, st.mtimeMs, st.size, facts);
      this.memo.set(image.path, facts);
      if (hasGenerationParameters(facts)) this._onDidLearn.fire(image.path);
    }
  }

  forget(fsPath: string): void {
    this.file.delete(fsPath);
    this.memo.delete(fsPath);
  }

  /** Forgets every file not in `paths` (after a full scan of the workspace). */
  retainOnly(paths: ReadonlySet<string>): void {
    this.file.retainOnly(paths);
    for (const p of this.memo.keys()) if (!paths.has(p)) this.memo.delete(p);
  }

  /** Drops what peek answers from memory (files edited outside): the next peek checks the stamp again. */
  invalidate(): void {
    this.memo.clear();
  }

  private async read(fsPath: string, st: FileStamp): Promise<PngFacts | undefined> {
    if (!this.services.isTrusted()) return undefined;
    // Not ours and not A1111's: remembered as such, and the engine never starts for it.
    const facts = (await looksGenerated(fsPath)) ? await this.query(fsPath) : { width: 0, height: 0, madeByCourseIllustrator: false };
    if (!facts) return undefined;
    this.file.set(fsPath, st.mtimeMs, st.size, facts);
    this.memo.set(fsPath, facts);
    return facts;
  }

  private async query(fsPath: string): Promise<PngFacts | undefined> {
    try {
      const info = await this.services.engine.info(fsPath);
      if (info.kind !== 'png') return undefined;
      return {
        width: info.width,
        height: info.height,
        prompt: info.prompt,
        negativePrompt: info.negativePrompt,
        fields: info.fields,
        parameters: info.parameters,
        madeByCourseIllustrator: info.madeByCourseIllustrator,
      };
    } catch (e) {
      this.services.log.warn(`could not read the metadata of ${fsPath}: ${(e as Error).message}`);
      return undefined;
    }
  }
}

async function stampOf(fsPath: string): Promise<FileStamp | undefined> {
  try {
    const s = await fs.stat(fsPath);
    return s.isFile() ? { mtimeMs: s.mtimeMs, size: s.size } : undefined;
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
