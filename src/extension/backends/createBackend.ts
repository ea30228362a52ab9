// The GenerationBackend for the current settings, made once per server kind, URL and model (a
// SwarmUI session, an A1111 model check, are kept between jobs), or undefined for `local`.

import type { ImportImageParams } from '../../core/importProtocol';
import type { GeneratedImage } from '../../core/protocol';
import type { ConfigSnapshot } from '../config';
import * as l10n from '@vscode/l10n';
import { EngineError } from '../engine/engineError';
import type { Log } from '../services';
import { A1111Backend } from './a1111Backend';
import { ComfyuiBackend } from './comfyuiBackend';
import type { BackendDeps, GenerationBackend, ServerKind } from './generationBackend';
import { type SecretStore, readCredentials, serverOrigin } from './serverCredentials';
import { SwarmuiBackend } from './swarmuiBackend';

export interface BackendFactoryDeps {
  secrets: SecretStore;
  importImage(params: ImportImageParams): Promise<GeneratedImage>;
  log: Log;
  pollMs?: number;
}

const MAKERS: Record<ServerKind, (deps: BackendDeps) => GenerationBackend> = {
  a1111: (d) => new A1111Backend(d),
  comfyui: (d) => new ComfyuiBackend(d),
  swarmui: (d) => new SwarmuiBackend(d),
};

export class BackendFactory {
  private cached: { key: string; backend: GenerationBackend } | undefined;

  constructor(private readonly deps: BackendFactoryDeps) {}

  /** Throws a badInput EngineError naming the setting when the URL is missing or not http(s). */
  forConfig(config: Pick<ConfigSnapshot, 'backend' | 'backendUrl' | 'backendModel'>): GenerationBackend | undefined {
    const kind = config.backend;
    if (kind === 'local') return undefined;
    const url = config.backendUrl;
    if (!url) {
      throw new EngineError('badInput', l10n.t('courseIllustrator.backend is "{0}" but courseIllustrator.backendUrl is empty: set the server\'s address (like http://illustrator.school.example:7860), or set the backend to "local".', kind));
    }
    if (!serverOrigin(url)) {
      throw new EngineError('badInput', l10n.t('courseIllustrator.backendUrl "{0}" is not an http:// or https:// address: check courseIllustrator.backendUrl.', url));
    }
    const key = `${kind} ${url} ${config.backendModel}`;
    if (this.cached?.key !== key) {
      const backend = MAKERS[kind]({
        url,
        model: config.backendModel,
        credentials: () => readCredentials(this.deps.secrets, url),
        importImage: (p) => this.deps.importImage(p),
        log: this.deps.log,
        pollMs: this.deps.pollMs,
      });
      this.cached = { key, backend };
    }
    return this.cached.backend;
  }
}
