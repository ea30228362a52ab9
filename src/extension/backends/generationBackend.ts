// A place images are made other than the local engine: a school server speaking AUTOMATIC1111's,
// ComfyUI's or SwarmUI's API. Each backend runs one job on its server and hands the images to
// the local engine's engine/import, so the files in the course look the same (infotext,
// XMP label, the medical strip) whoever computed them. No `vscode` here: tests run these in mocha.

import type { ImportImageParams } from '../../core/importProtocol';
import type { GenerateParams, GenerateResult, GeneratedImage } from '../../core/protocol';
import type { BackendKind } from '../config';
import type { GenerateOptions, Log } from '../services';

export type ServerKind = Exclude<BackendKind, 'local'>;

/** What the user saved with "Set Server Credentials…" for one server (by origin). */
export interface Credentials {
  /** HTTP Basic auth (A1111's --api-auth, or a reverse proxy in front of any server). */
  user?: string;
  password?: string;
  /** SwarmUI's account token (the `swarm_user_token` cookie). */
  token?: string;
}

export interface BackendDeps {
  /** The server's base URL, as set in courseIllustrator.backendUrl. */
  url: string;
  /** courseIllustrator.backendModel; empty: the server's current or first checkpoint. */
  model: string;
  /** Read at each request, so new credentials apply at once. */
  credentials(): Promise<Credentials | undefined>;
  /** engine/import in the local engine. */
  importImage(params: ImportImageParams): Promise<GeneratedImage>;
  log: Log;
  /** Milliseconds between progress polls; tests shorten it. */
  pollMs?: number;
}

export interface GenerationBackend {
  readonly kind: ServerKind;
  readonly url: string;
  /**
   * Runs one job on the server and writes its images where `params` says (outFile or outDir).
   * Rejects with an EngineError whose message says what to do; kind 'cancelled' when the
   * token fired.
   */
  generate(params: GenerateParams, options: GenerateOptions & { jobId: string }): Promise<GenerateResult>;
}

/** How each kind is called in messages. */
export const SERVER_NAMES: Record<ServerKind, string> = {
  a1111: 'A1111',
  comfyui: 'ComfyUI',
  swarmui: 'SwarmUI',
};
