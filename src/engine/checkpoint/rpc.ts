// The models/import request handler (engine process only: the import's check run loads
// onnxruntime). Importing this module registers it with the models/* handlers of
// src/engine/hub/rpc.ts; the engine's server imports it, the extension host never does.

import { ModelsRequests } from '../../core/modelsProtocol';
import { ModelError } from '../hub/errors';
import { registerModelsHandler, storeOf } from '../hub/rpc';
import { ImportProgress, importCheckpoint } from './importCheckpoint';
import * as path from 'node:path';

const PHASE = { reading: 'resolving', converting: 'converting', verifying: 'verifying', installing: 'installing', done: 'done' } as const;

registerModelsHandler(ModelsRequests.import, async (p, ctx) => {
  if (!path.isAbsolute(p.file)) throw new ModelError('badInput', `The checkpoint must be an absolute path, got "${p.file}".`);
  let last = 0;
  const progress = (pr: ImportProgress) => {
    const now = Date.now();
    // At most 4 a second while tensors are written; every stage change and message.
    if (pr.stage === 'converting' && !pr.message && now - last < 250 && pr.tensorsDone < pr.tensorsTotal) return;
    last = now;
    ctx.progress({
      operationId: p.operationId,
      id: pr.id,
      phase: PHASE[pr.stage],
      file: pr.component,
      filesDone: pr.tensorsDone,
      filesTotal: pr.tensorsTotal,
      bytesDone: pr.bytesDone,
      bytesTotal: pr.bytesTotal,
      bytesPerSecond: 0,
      etaSeconds: -1,
      message: pr.message,
    });
  };
  return importCheckpoint({ file: p.file, store: storeOf(p.store), base: p.base, name: p.name, signal: ctx.signal, onProgress: progress });
});
