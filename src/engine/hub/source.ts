// What download.ts needs from a place models come from: the Hugging Face hub (hub.ts) or
// ModelScope (modelscope.ts). Both list a repo's files with sizes and checksums and open a file
// from a byte offset; the pull (staging, resume, verification, limits) is the same for both.

import type { ModelSourceName } from '../../core/modelsProtocol';
import type { HttpOptions, OpenResponse } from './http';

/**
 * What a source may make us hold: a hostile or broken one could otherwise page forever, list
 * millions of files or send a "JSON" body as large as the disk.
 */
export interface HubLimits {
  /** Pages of one file list (Link: rel="next"). */
  maxListPages: number;
  /** Entries (files and folders) of one file list, all pages together. */
  maxListEntries: number;
  /** Files one model may have. */
  maxFiles: number;
  /** Bytes of one JSON reply (a page of the list, a revision). */
  maxJsonBytes: number;
}

export const DEFAULT_HUB_LIMITS: HubLimits = { maxListPages: 100, maxListEntries: 10_000, maxFiles: 1_000, maxJsonBytes: 4 << 20 };

export interface RepoFile {
  path: string;
  size: number;
  /** sha256 (hex) of the content: the hub's LFS oid, or ModelScope's Sha256. */
  sha256?: string;
  /** The git blob id (sha1 of "blob <size>\0" + content); what we check the hub's small files against. */
  gitOid?: string;
}

export interface RepoSource {
  readonly source: ModelSourceName;
  /** Base URL, without a trailing slash; recorded in the manifest. */
  readonly endpoint: string;
  readonly http: HttpOptions;
  readonly limits: HubLimits;
  /** A fixed commit for `revision` where the source can say; else `revision` itself. */
  resolveRevision(repo: string, revision: string, signal?: AbortSignal): Promise<string>;
  /** Every file of the repo at `revision` (folders left out). */
  listFiles(repo: string, revision: string, signal?: AbortSignal): Promise<RepoFile[]>;
  /** Opens a file for reading from byte `start`; answers 200 or 206, else throws a ModelError. */
  openFile(repo: string, revision: string, path: string, start: number, signal?: AbortSignal): Promise<OpenResponse>;
  /** A sha256 the reply's headers announce for the file, checked against the list's. */
  announcedSha256?(res: OpenResponse): string | undefined;
}
