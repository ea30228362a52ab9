// JSON-RPC over stdio (vscode-jsonrpc, as language servers do). stdout carries only protocol
// messages; everything human goes to stderr. Every request is answered through its one
// definition in src/core (EngineRequests, ModelsRequests), whose validator checks the params on
// arrival; notifications go out through theirs (EngineNotifications, ModelsNotifications).

import {
  createMessageConnection, StreamMessageReader, StreamMessageWriter, ResponseError,
  MessageConnection, CancellationToken,
} from 'vscode-jsonrpc/node';
import { EngineOptions, ErrorCodes } from '../core/protocol';
import { EngineNotifications, EngineRequests } from '../core/engineRequests';
import { ModelsNotifications, ModelsRequests } from '../core/modelsProtocol';
import type { NotificationType, RequestType } from '../core/rpc';
import { ValidationError } from '../core/validate';
import { Engine } from './engine';
import { convertImage } from './image/convertImage';
import { importImage } from './image/importImage';
import { Translator } from './translate/translator';
import { EngineError, errorCode } from './errors';
import { handleModelsRequest } from './hub/rpc';
// Registers models/import here, in the engine process only: its check run loads onnxruntime,
// which the extension bundle (it shares hub/rpc.ts) must not pull in.
import './checkpoint/rpc';
import { ModelError } from './hub/errors';

export function startServer(input: NodeJS.ReadableStream = process.stdin, output: NodeJS.WritableStream = process.stdout): MessageConnection {
  const connection = createMessageConnection(new StreamMessageReader(input), new StreamMessageWriter(output));
  let engine: Engine | undefined;
  let options: EngineOptions = {};
  const getEngine = () => (engine ??= new Engine(options));
  // The translation model lives beside the image model, with its own lifetime (translate/translator.ts).
  let translator: Translator | undefined;
  const getTranslator = () => (translator ??= new Translator({ threads: options.threads }));
  const notify = <P>(type: NotificationType<P>, params: P) => {
    void connection.sendNotification(type.method, params);
  };
  const log = (message: string) => process.stderr.write(`${message}\n`);

  /** Answers `type` with `fn`, given the params as checked by the request's own validator. */
  const handle = <P, R>(type: RequestType<P, R>, fn: (p: P, token: CancellationToken) => Promise<R> | R) => {
    connection.onRequest(type.method, async (raw: unknown, token: CancellationToken) => {
      const t0 = performance.now();
      try {
        const result = await fn(type.params(raw), token);
        log(`${type.method} done in ${Math.round(performance.now() - t0)} ms`);
        return result;
      } catch (err) {
        log(`${type.method} failed: ${err instanceof Error ? err.message : String(err)}`);
        throw toResponseError(err);
      }
    });
  };

  handle(EngineRequests.initialize, async (p) => {
    if (engine) await engine.dispose();
    options = p;
    engine = new Engine(options);
    for (const w of engine.warnings) notify(EngineNotifications.log, { level: 'warn', message: w });
    return engine.status();
  });

  handle(EngineRequests.generate, (p, token) =>
    getEngine().generate(p, {
      progress: (e) => notify(EngineNotifications.progress, e),
      queue: (position) => notify(EngineNotifications.queue, { jobId: p.jobId, position }),
      cancelled: () => token.isCancellationRequested,
      warn: (message) => notify(EngineNotifications.log, { level: 'warn', message }),
    }));

  handle(EngineRequests.tokenize, (p) => getEngine().tokenize(p));
  handle(EngineRequests.info, (p) => getEngine().info(p.path));
  handle(EngineRequests.thumbnail, (p) => getEngine().thumbnail(p));
  handle(EngineRequests.status, () => {
    const status = getEngine().status();
    // The translation model's folder is open too ("Remove Model…" stops the engine before deleting it).
    return translator?.loaded ? { ...status, loadedModels: [...status.loadedModels, translator.loaded] } : status;
  });
  handle(EngineRequests.cancel, (p) => ({ cancelled: getEngine().cancel(p.jobId) }));
  // Images a server made, written as ours (metadata, labels); no model needed.
  handle(EngineRequests.importImage, (p) => importImage(p));
  handle(EngineRequests.translate, (p) => getTranslator().translate(p));
  // Save As JPEG/WebP: the parameters and XMP label go along; no model needed.
  handle(EngineRequests.convert, (p) => convertImage(p));
  handle(EngineRequests.shutdown, async () => {
    await engine?.dispose();
    await translator?.dispose();
    setImmediate(() => process.exit(0));
  });

  // models/*: handleModelsRequest checks the params with the request's validator (a bad one is a
  // ModelError with a code). Each request's own P and R do not matter here, only its method.
  for (const type of Object.values(ModelsRequests) as RequestType<unknown, unknown>[]) {
    connection.onRequest(type.method, async (raw: unknown, token: CancellationToken) => {
      const abort = new AbortController();
      const sub = token.onCancellationRequested(() => abort.abort());
      try {
        return await handleModelsRequest(type, raw, {
          progress: (p) => notify(ModelsNotifications.progress, p),
          signal: abort.signal,
        });
      } catch (err) {
        throw toResponseError(err);
      } finally {
        sub.dispose();
      }
    });
  }

  // The extension owns our life: when it goes away, so do we.
  connection.onClose(() => process.exit(0));
  input.on('end', () => process.exit(0));
  connection.listen();
  return connection;
}

function toResponseError(err: unknown): ResponseError<{ kind: string; code?: string }> {
  if (err instanceof ValidationError) return new ResponseError(ErrorCodes.badInput, err.message, { kind: 'badInput' });
  // Download errors carry a finer code (unauthorized, notFound, diskFull...) so the extension can offer the right fix.
  if (err instanceof ModelError) return new ResponseError(errorCode(err.kind), err.message, { kind: err.kind, code: err.code });
  if (err instanceof EngineError) return new ResponseError(errorCode(err.kind), err.message, { kind: err.kind });
  const message = err instanceof Error ? err.message : String(err);
  return new ResponseError(ErrorCodes.internal, message, { kind: 'internal' });
}
