// Typed models/* calls for the extension. They run in the engine child process
// (`engine.models(method, params, { token, onProgress })`), like every other engine request.
// Only when the engine cannot run at all (it dies before doing any of the work, e.g. a broken
// onnxruntime install) does the call run here in the extension host, through the very same
// handlers (src/engine/models/rpc.ts: node:http/https, fs and crypto, nothing native), so a
// broken engine never blocks getting or removing a model.

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

type Call = (method: keyof ModelsRequestMap, params: unknown, options?: ModelsCallOptions) => Promise<unknown>;

function api(call: Call): ModelsApi {
  const run = async <T>(method: keyof ModelsRequestMap, params: unknown, validate: (x: unknown) => T, options?: ModelsCallOptions): Promise<T> => {
    let raw: unknown;
    try {
      raw = await call(method, params, options);
    } catch (err) {
      if (err instanceof RunHere) throw err;
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

/**
 * Runs the calls in the engine process. If the engine dies (or cannot start) before a call made
 * any progress, the call runs again in this process, and the log says why.
 */
export function modelsApiFor(engine: EngineClient, log?: { warn(message: string): void }): ModelsApi {
  const call = engine.models.bind(engine);
  const local = inProcessModelsApi();
  const remote = api(async (method, params, options) => {
    let progressed = false;
    try {
      return await call(method, params as never, {
        token: options?.token,
        // Checked here: whatever crossed the process boundary is validated on arrival.
        onProgress:
          options?.onProgress &&
          ((raw: unknown) => {
            progressed = true;
            options.onProgress?.(validateModelsProgress(raw));
          }),
      });
    } catch (err) {
      const kind = (err as { kind?: unknown })?.kind;
      if ((kind === 'crashed' || kind === 'timeout') && !progressed && !options?.token?.isCancellationRequested) {
        log?.warn(`${method}: the engine could not run it (${(err as Error).message}); running it in the extension host instead.`);
        throw new RunHere();
      }
      throw err;
    }
  });
  const fallback = <A extends unknown[], R>(remoteFn: (...a: A) => Promise<R>, localFn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      try {
        return await remoteFn(...a);
      } catch (err) {
        if (err instanceof RunHere) return localFn(...a);
        throw err;
      }
    };
  return {
    list: fallback(remote.list, local.list),
    pull: fallback(remote.pull, local.pull),
    verify: fallback(remote.verify, local.verify),
    remove: fallback(remote.remove, local.remove),
  };
}

/** Marks an engine failure after which the call runs in this process instead. */
class RunHere extends Error {}
