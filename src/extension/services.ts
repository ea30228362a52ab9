// The one object every part of the extension host receives: the results panel, the gallery,
// the model commands and the generate commands all take `services` instead of reaching for
// globals, so each can be set up (and tested) on its own. Built once in extension.shared.ts.

import type * as vscode from 'vscode';
import type {
  GenerateParams,
  GenerateResult,
  GeneratedImage,
  InfoResult,
  ProgressEvent,
  QueueEvent,
  StatusResult,
  ThumbnailParams,
  ThumbnailResult,
  TokenizeParams,
  TokenizeResult,
} from '../core/protocol';
import type { ConfigSnapshot } from './config';
import type { ModelsProgress } from '../core/modelsProtocol';
import type { RequestType } from '../core/rpc';

export type { ConfigSnapshot } from './config';

/** A cancellation token: vscode.CancellationToken and vscode-jsonrpc's both fit. */
export interface CancelToken {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => void): { dispose(): void };
}

export interface GenerateOptions {
  onProgress?: (event: ProgressEvent) => void;
  onQueue?: (event: QueueEvent) => void;
  token?: CancelToken;
  /** Pick the job id yourself (to cancel by id or to match job events); default: a fresh one. */
  jobId?: string;
}

/** What happens to jobs, for anyone who shows them (results panel, status bar). */
export type JobEvent =
  | { kind: 'started'; jobId: string; params: GenerateParams }
  | { kind: 'progress'; jobId: string; progress: ProgressEvent }
  | { kind: 'queued'; jobId: string; position: number }
  | { kind: 'finished'; jobId: string; result: GenerateResult }
  | { kind: 'failed'; jobId: string; error: EngineError };

export type EngineErrorKind = 'cancelled' | 'crashed' | 'timeout' | 'badInput' | 'modelError' | 'outputError' | 'internal' | 'badReply' | 'restricted';

/** Every failure from the engine client is one of these; `message` is meant for the user. */
export interface EngineError extends Error {
  readonly kind: EngineErrorKind;
}

/**
 * The engine child process, started on first use and shut down when idle.
 * All methods start it if needed; all replies are validated before they are returned.
 */
export interface EngineClient {
  /** Runs one generation. Rejects with an EngineError (kind 'cancelled' when the token fired). */
  generate(params: GenerateParams, options?: GenerateOptions): Promise<GenerateResult>;
  tokenize(params: TokenizeParams): Promise<TokenizeResult>;
  /** A model folder or a PNG (PNG: parameters and `madeByCourseIllustrator`). */
  info(path: string): Promise<InfoResult>;
  thumbnail(params: ThumbnailParams): Promise<ThumbnailResult>;
  status(): Promise<StatusResult>;
  /** Cancels a running or queued job; false when no such job was active. */
  cancel(jobId: string): Promise<boolean>;
  /** Ids of jobs sent and not yet finished, oldest first. */
  activeJobs(): readonly string[];
  /** The engine's pid when it is running. */
  readonly pid: number | undefined;
  readonly onJob: vscode.Event<JobEvent>;
  /** Stops the engine process (the next request starts a new one). */
  stop(): Promise<void>;
  /** A models/* call (one of ModelsRequests) run in the engine process; see engineClient.ts. */
  models<P, R>(type: RequestType<P, R>, params: P, options?: { token?: CancelToken; onProgress?: (p: ModelsProgress) => void }): Promise<R>;
  dispose(): void;
}

export interface Log {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  show(): void;
}

/**
 * Where an image link goes: insert at `position`, replace `range` (a stub or an old image),
 * or on a new line after line `lineAfter` (under an illustrate comment).
 */
export type InsertTarget =
  | { uri: vscode.Uri; position: vscode.Position }
  | { uri: vscode.Uri; range: vscode.Range }
  | { uri: vscode.Uri; lineAfter: number };

export interface InsertResult {
  /** The Markdown inserted, like `![alt](images/intro/heart.png)`. */
  markdown: string;
  /** Range of the inserted text in the document after the edit. */
  range: vscode.Range;
}

/** What a new image's file name is made from (no seed: no seed suffix; ext: default .png). */
export interface ImageName {
  prompt: string;
  seed?: number;
  ext?: string;
}

export interface ImageDestination {
  /** Folder the image goes to (inside the document's workspace folder). */
  folder: vscode.Uri;
  /** A free file name in `folder` (nothing there yet). */
  file: vscode.Uri;
  /** Where the rule came from, for messages. */
  source: 'markdown.copyFiles.destination' | 'courseIllustrator.imageFolder';
  /** The folder the image must stay inside: the workspace folder, or the document's own folder. */
  root: vscode.Uri;
}

export interface WrittenImages {
  document?: vscode.Uri;
  images: GeneratedImage[];
}

export interface LastImage {
  path: string;
  alt: string;
  image: GeneratedImage;
  params: GenerateParams;
}

/** Shows several images and lets the user pick one (the results panel, opened for it when closed). */
export type ImageChooser = (images: GeneratedImage[], title: string) => Promise<GeneratedImage | undefined>;

export interface Services {
  readonly engine: EngineClient;
  /** Settings as of now; a fresh read-only snapshot on each call after a change. */
  config(): ConfigSnapshot;
  readonly onDidChangeConfig: vscode.Event<ConfigSnapshot>;
  readonly log: Log;
  /** False in restricted mode: nothing may be generated or written. */
  isTrusted(): boolean;
  /** Model folder to use, asking the user on first run (see models/ensureModel.ts). */
  ensureModel(): Promise<string | undefined>;
  /**
   * Inserts `![alt](relative link)` as one undoable edit into the document at target.uri,
   * even when that editor is no longer focused. The link is relative to the document; at a
   * position it gets a line of its own. Edits to one document are applied one at a time; a
   * target given as a function is read right before its edit is built.
   */
  insertImage(target: InsertTarget | (() => InsertTarget), imagePath: string, alt: string): Promise<InsertResult>;
  /**
   * Where a new image for `document` goes: markdown.copyFiles.destination when it matches,
   * else courseIllustrator.imageFolder; a free name made from `prompt`/`seed`.
   * Throws for untitled documents and destinations outside the workspace folder.
   */
  resolveImageDestination(document: vscode.Uri, name: ImageName): Promise<ImageDestination>;
  lastImage(): LastImage | undefined;
  setLastImage(image: LastImage): void;
  /** Fires after images were written (gallery refresh). */
  readonly onDidWriteImages: vscode.Event<WrittenImages>;
  /** Tells onDidWriteImages' listeners about images just written for `document`. */
  fireImagesWritten(document: vscode.Uri | undefined, images: GeneratedImage[]): void;
  /** Replaces the built-in ensureModel (the models part's first-run choice hooks in here). */
  setModelProvider(provider: () => Promise<string | undefined>): void;
  /** Sets who chooses among variations (the results panel, for the extension's lifetime; tests stand in front of it); returns an undo. */
  setImageChooser(chooser: ImageChooser): vscode.Disposable;
  chooseImage: ImageChooser;
}
