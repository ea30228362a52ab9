// The client for a pull's source, with the right token: a Hugging Face token goes to the hub
// only, a ModelScope token (MODELSCOPE_API_TOKEN) to ModelScope only, never one to the other.

import type { ModelSourceName } from '../../core/modelsProtocol';
import type { HttpOptions } from './http';
import { HubClient } from './hub';
import { ModelScopeClient, modelscopeTokenFromEnv } from './modelscope';
import type { RepoSource } from './source';

export interface SourceChoice extends HttpOptions {
  source: ModelSourceName;
  /** The chosen source's endpoint (a hub mirror for huggingface). */
  endpoint?: string;
  /** A Hugging Face token: used for the hub, dropped for ModelScope. */
  hubToken?: string;
  /** A ModelScope token; default MODELSCOPE_API_TOKEN. */
  modelscopeToken?: string;
}

export function sourceClient(c: SourceChoice): RepoSource {
  const { source, hubToken, modelscopeToken, ...http } = c;
  if (source === 'modelscope') return new ModelScopeClient({ ...http, token: modelscopeToken ?? modelscopeTokenFromEnv(http.env ?? process.env) });
  return new HubClient({ ...http, token: hubToken });
}
