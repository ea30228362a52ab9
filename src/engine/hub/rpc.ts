// models/* request handlers for the engine's JSON-RPC server, one per request of
// ModelsRequests (src/core/modelsProtocol.ts). The server registers every ModelsRequests entry
// and hands its raw params to `handleModelsRequest`, with a progress sink (models/progress
// notifications) and an AbortSignal fired by JSON-RPC cancellation. The extension host runs the
// same function when the engine cannot run at all.

import { type ModelsProgress, ModelsRequests } from '../../core/modelsProtocol';
import type { RequestType } from '../../core/rpc';
import { ValidationError } from '../../core/validate';
import { catalogueSummaries, resolveModelSpec } from './catalogue';
import { pullModel } from './download';
import { ModelError } from './errors';
import { hubTokenFromEnv } from './hub';
import { sourceClient } from './sources';
import { defaultStoreDir, listInstalled, listPartial, removeModel, verifyModel } from './store';
import * as path from 'node:path';

export interface ModelsHandlerContext {
  progress(p: ModelsProgress): void;
  signal: AbortSignal;
}

type Handler<P, R> = (params: P, ctx: ModelsHandlerContext) => Promise<R>;

const handlers = new Map<string, Handler<never, unknown>>();

/** Registers the handler of one request; its types are the request's. */
function on<P, R>(type: RequestType<P, R>, handler: Handler<P, R>): void {
  handlers.set(type.method, handler as Handler<never, unknown>);
}

/**
 * Registers a handler from outside this file, for requests that only the engine process runs:
 * models/import (engine/checkpoint/rpc.ts) runs onnxruntime, which the extension host, sharing
 * this file for the others, must never load.
 */
export function registerModelsHandler<P, R>(type: RequestType<P, R>, handler: Handler<P, R>): void {
  on(type, handler);
}

/**
 * Runs the models/* request `type` with params as they arrived: checked by the request's own
 * validator (a bad one is a 'badInput' ModelError), then handled.
 */
export async function handleModelsRequest<P, R>(type: RequestType<P, R>, raw: unknown, ctx: ModelsHandlerContext): Promise<R> {
  const handler = handlers.get(type.method) as Handler<P, R> | undefined;
  if (!handler && type.method === ModelsRequests.import.method) {
    throw new ModelError('badInput', 'Checkpoint import is not available here: it runs in the engine process only (the extension host never loads onnxruntime). Run `course-illustrator models import FILE` in a terminal instead.');
  }
  if (!handler) throw new ModelError('badInput', `Unknown models request ${type.method}.`);
  let params: P;
  try {
    params = type.params(raw);
  } catch (err) {
    if (err instanceof ValidationError) throw new ModelError('badInput', err.message);
    throw err;
  }
  return handler(params, ctx);
}

export function storeOf(store: string | undefined): string {
  if (store !== undefined && !path.isAbsolute(store)) {
    throw new ModelError('badInput', `The model store must be an absolute path, got "${store}" (setting courseIllustrator.modelStore).`);
  }
  return store ?? defaultStoreDir();
}

on(ModelsRequests.list, async (p) => {
  const store = storeOf(p.store);
  return { store, installed: await listInstalled(store), partial: await listPartial(store), catalogue: catalogueSummaries() };
});

on(ModelsRequests.pull, async (p, ctx) => {
  const store = storeOf(p.store);
  const source = p.source ?? 'huggingface';
  const target = resolveModelSpec(p.model, { include: p.include, exclude: p.exclude, source });
  // p.token is a Hugging Face token: sourceClient never hands it to ModelScope.
  const hub = sourceClient({ source, endpoint: p.endpoint, hubToken: p.token ?? hubTokenFromEnv(), proxy: p.proxy });
  return pullModel({
    store,
    target,
    hub,
    parallel: p.parallel,
    signal: ctx.signal,
    onProgress: (pr) => ctx.progress({ operationId: p.operationId, ...pr }),
  });
});

on(ModelsRequests.verify, async (p, ctx) => {
  const store = storeOf(p.store);
  return verifyModel(store, p.id, {
    signal: ctx.signal,
    onProgress: p.operationId
      ? throttled((file, bytesDone, bytesTotal, filesDone, filesTotal) =>
          ctx.progress({ operationId: p.operationId ?? '', id: p.id, phase: 'verifying', file, bytesDone, bytesTotal, filesDone, filesTotal, bytesPerSecond: 0, etaSeconds: -1 }),
        )
      : undefined,
  });
});

on(ModelsRequests.remove, async (p) => removeModel(storeOf(p.store), p.id));

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
