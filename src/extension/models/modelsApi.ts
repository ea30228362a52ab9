// Typed models/* calls for the extension. They run in the engine child process
// (`engine.models(ModelsRequests.pull, params, { token, onProgress })`, replies and progress
// validated there), like every other engine request. Only when the engine cannot run at all (it
// dies before doing any of the work, e.g. a broken onnxruntime install) does the call run here
// in the extension host, through the very same handlers (src/engine/hub/rpc.ts:
// node:http/https, fs and crypto, nothing native), so a broken engine never blocks getting or
// removing a model.

import type {
  ModelErrorCode,
  ModelsListParams,
  ModelsListResult,
  ModelsProgress,
  ModelsPullParams,
  ModelsPullResult,
  ModelsRemoveParams,
  ModelsRemoveResult,
  ModelsVerifyParams,
  ModelsVerifyResult,
} from '../../core/modelsProtocol';
import { MODEL_ERROR_CODES, ModelsRequests } from '../../core/modelsProtocol';
import type { RequestType } from '../../core/rpc';
import { handleModelsRequest } from '../../engine/hub/rpc';
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

/** One models/* request, run somewhere; its reply is `type`'s (validated where it crossed a process boundary). */
type Call = <P, R>(type: RequestType<P, R>, params: P, options?: ModelsCallOptions) => Promise<R>;

function api(call: Call): ModelsApi {
  const run = async <P, R>(type: RequestType<P, R>, params: P, options?: ModelsCallOptions): Promise<R> => {
    try {
      return await call(type, params, options);
    } catch (err) {
      if (err instanceof RunHere) throw err;
      throw asCallError(err);
    }
  };
  return {
    list: (p) => run(ModelsRequests.list, p),
    pull: (p, o) => run(ModelsRequests.pull, p, o),
    verify: (p, o) => run(ModelsRequests.verify, p, o),
    remove: (p) => run(ModelsRequests.remove, p),
  };
}

/** Runs the handlers in this process; cancellation and progress work the same. */
export function inProcessModelsApi(): ModelsApi {
  return api(async (type, params, options) => {
    const ac = new AbortController();
    if (options?.token?.isCancellationRequested) ac.abort();
    const sub = options?.token?.onCancellationRequested(() => ac.abort());
    try {
      return await handleModelsRequest(type, params, {
        signal: ac.signal,
        progress: (p) => options?.onProgress?.(p),
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
  const local = inProcessModelsApi();
  const remote = api(async (type, params, options) => {
    let progressed = false;
    try {
      return await engine.models(type, params, {
        token: options?.token,
        onProgress:
          options?.onProgress &&
          ((p) => {
            progressed = true;
            options.onProgress?.(p);
          }),
      });
    } catch (err) {
      const kind = (err as { kind?: unknown })?.kind;
      if ((kind === 'crashed' || kind === 'timeout') && !progressed && !options?.token?.isCancellationRequested) {
        log?.warn(`${type.method}: the engine could not run it (${(err as Error).message}); running it in the extension host instead.`);
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
