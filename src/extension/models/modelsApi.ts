// Typed models/* calls for the extension. Two ways to run them:
// - in the engine child process, when the engine client offers a generic models call
//   (`engine.models(method, params, { token, onProgress })`, asked of the extension engineer);
// - in the extension host itself, through the very same handlers (src/engine/models/rpc.ts):
//   they only use node:http/https, fs and crypto, so nothing native is loaded here. This is the
//   fallback until the engine client has the call, and it keeps downloads working if the engine
//   cannot start (a broken onnxruntime install must not block getting a model).

import type {
  ModelErrorCode,
  ModelsListParams,
  ModelsListResult,
  ModelsProgress,
  ModelsPullParams,
  ModelsPullResult,
  ModelsRemoveParams,
  ModelsRemoveResult,
  ModelsRequestMap,
  ModelsVerifyParams,
  ModelsVerifyResult,
} from '../../core/modelsProtocol';
import {
  MODEL_ERROR_CODES,
  validateModelsListResult,
  validateModelsProgress,
  validateModelsPullResult,
  validateModelsRemoveResult,
  validateModelsVerifyResult,
} from '../../core/modelsProtocol';
import { modelsHandlers } from '../../engine/models/rpc';
import type { CancelToken, EngineClient } from '../services';

export interface ModelsCallOptions {
  token?: CancelToken;
  onProgress?: (p: ModelsProgress) => void;
}

export interface ModelsApi {
  list(params: ModelsListParams): Promise<ModelsListResult>;
  pull(params: ModelsPullParams, options?: ModelsCallOptions): Promise<ModelsPullResult>;
  verify(params: ModelsVerifyParams, options?: ModelsCallOptions): Promise<ModelsVerifyResult>;
  remove(params: ModelsRemoveParams): Promise<ModelsRemoveResult>;
}

/** A failed models call; `code` says which kind (so the UI can offer "Enter Token…" and such). */
export class ModelsCallError extends Error {
  constructor(
    readonly code: ModelErrorCode | 'unknown',
    message: string,
  ) {
    super(message);
    this.name = 'ModelsCallError';
  }
}

function asCallError(err: unknown): ModelsCallError {
  if (err instanceof ModelsCallError) return err;
  const e = err as { code?: unknown; kind?: unknown; data?: { code?: unknown; kind?: unknown }; message?: unknown };
  const candidates = [e?.data?.code, e?.code, e?.kind, e?.data?.kind];
  const code = candidates.find((c): c is ModelErrorCode => typeof c === 'string' && (MODEL_ERROR_CODES as readonly string[]).includes(c));
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return new ModelsCallError(code ?? 'unknown', message);
}

/** The generic call the engine client may offer (see the report to the extension engineer). */
export type EngineModelsCall = <M extends keyof ModelsRequestMap>(
  method: M,
  params: ModelsRequestMap[M][0],
  options?: ModelsCallOptions,
) => Promise<unknown>;

type Call = (method: keyof ModelsRequestMap, params: unknown, options?: ModelsCallOptions) => Promise<unknown>;

function api(call: Call): ModelsApi {
  const run = async <T>(method: keyof ModelsRequestMap, params: unknown, validate: (x: unknown) => T, options?: ModelsCallOptions): Promise<T> => {
    let raw: unknown;
    try {
      raw = await call(method, params, options);
    } catch (err) {
      throw asCallError(err);
    }
    return validate(raw);
  };
  return {
    list: (p) => run('models/list', p, validateModelsListResult),
    pull: (p, o) => run('models/pull', p, validateModelsPullResult, o),
    verify: (p, o) => run('models/verify', p, validateModelsVerifyResult, o),
    remove: (p) => run('models/remove', p, validateModelsRemoveResult),
  };
}

/** Runs the handlers in this process; cancellation and progress work the same. */
export function inProcessModelsApi(): ModelsApi {
  return api(async (method, params, options) => {
    const ac = new AbortController();
    if (options?.token?.isCancellationRequested) ac.abort();
    const sub = options?.token?.onCancellationRequested(() => ac.abort());
    try {
      const handler = modelsHandlers[method] as (p: unknown, ctx: { progress(p: ModelsProgress): void; signal: AbortSignal }) => Promise<unknown>;
      return await handler(params, {
        signal: ac.signal,
        progress: (p) => options?.onProgress?.(validateModelsProgress(p)),
      });
    } finally {
      sub?.dispose();
    }
  });
}

/** Uses the engine process when its client has a `models` call, else runs in this process. */
export function modelsApiFor(engine: EngineClient): ModelsApi {
  const call = (engine as EngineClient & { models?: EngineModelsCall }).models;
  if (typeof call !== 'function') return inProcessModelsApi();
  return api((method, params, options) =>
    call.call(engine, method, params as never, {
      token: options?.token,
      // Checked again here: whatever crossed the process boundary is validated on arrival.
      onProgress: options?.onProgress && ((raw: unknown) => options.onProgress?.(validateModelsProgress(raw))),
    }),
  );
}
