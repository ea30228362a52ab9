// models/* request handlers for the engine's JSON-RPC server. The server registers each entry of
// `modelsHandlers` under its method name and passes a progress sink (models/progress
// notifications) and an AbortSignal fired by JSON-RPC cancellation.

import {
  ModelsListResult,
  ModelsProgress,
  ModelsPullResult,
  ModelsRemoveResult,
  ModelsVerifyResult,
  validateModelsListParams,
  validateModelsPullParams,
  validateModelsRemoveParams,
  validateModelsVerifyParams,
} from '../../core/modelsProtocol';
import { ValidationError } from '../../core/validate';
import { catalogueSummaries, resolveModelSpec } from './catalogue';
import { pullModel } from './download';
import { ModelError } from './errors';
import { HubClient } from './hub';
import { defaultStoreDir, listInstalled, listPartial, removeModel, verifyModel } from './store';
import * as path from 'node:path';

export interface ModelsHandlerContext {
  progress(p: ModelsProgress): void;
  signal: AbortSignal;
}

export type ModelsHandler<R> = (params: unknown, ctx: ModelsHandlerContext) => Promise<R>;

function storeOf(store: string | undefined): string {
  if (store !== undefined && !path.isAbsolute(store)) {
    throw new ModelError('badInput', `The model store must be an absolute path, got "${store}" (setting courseIllustrator.modelStore).`);
  }
  return store ?? defaultStoreDir();
}

function checked<T>(validate: (x: unknown) => T, x: unknown): T {
  try {
    return validate(x);
  } catch (err) {
    if (err instanceof ValidationError) throw new ModelError('badInput', err.message);
    throw err;
  }
}

export const modelsHandlers: {
  'models/list': ModelsHandler<ModelsListResult>;
  'models/pull': ModelsHandler<ModelsPullResult>;
  'models/verify': ModelsHandler<ModelsVerifyResult>;
  'models/remove': ModelsHandler<ModelsRemoveResult>;
} = {
  'models/list': async (params) => {
    const p = checked(validateModelsListParams, params);
    const store = storeOf(p.store);
    return { store, installed: await listInstalled(store), partial: await listPartial(store), catalogue: catalogueSummaries() };
  },

  'models/pull': async (params, ctx) => {
    const p = checked(validateModelsPullParams, params);
    const store = storeOf(p.store);
    const target = resolveModelSpec(p.model, { include: p.include, exclude: p.exclude });
    const hub = new HubClient({ endpoint: p.endpoint, token: p.token ?? process.env.HF_TOKEN, proxy: p.proxy });
    const r = await pullModel({
      store,
      target,
      hub,
      parallel: p.parallel,
      signal: ctx.signal,
      onProgress: (pr) => ctx.progress({ operationId: p.operationId, ...pr }),
    });
    return r;
  },

  'models/verify': async (params, ctx) => {
    const p = checked(validateModelsVerifyParams, params);
    const store = storeOf(p.store);
    return verifyModel(store, p.id, {
      signal: ctx.signal,
      onProgress: p.operationId
        ? throttled((file, bytesDone, bytesTotal, filesDone, filesTotal) =>
            ctx.progress({ operationId: p.operationId ?? '', id: p.id, phase: 'verifying', file, bytesDone, bytesTotal, filesDone, filesTotal, bytesPerSecond: 0, etaSeconds: -1 }),
          )
        : undefined,
    });
  },

  'models/remove': async (params) => {
    const p = checked(validateModelsRemoveParams, params);
    return removeModel(storeOf(p.store), p.id);
  },
};

/** At most one call per 250 ms, the last one always delivered when the counts say "done". */
function throttled<A extends [string, number, number, number, number]>(fn: (...a: A) => void): (...a: A) => void {
  let last = 0;
  return (...a: A) => {
    const now = Date.now();
    if (now - last >= 250 || a[1] === a[2]) {
      last = now;
      fn(...a);
    }
  };
}
