// JSON-RPC over stdio (vscode-jsonrpc, as language servers do). stdout carries only protocol
// messages; everything human goes to stderr. Every request's params are validated on arrival.

import {
  createMessageConnection, StreamMessageReader, StreamMessageWriter, ResponseError,
  MessageConnection, CancellationToken,
} from 'vscode-jsonrpc/node';
import {
  Methods, NotificationMap, validateEngineOptions, validateGenerateParams, validateTokenizeParams,
  EngineOptions, ErrorCodes,
} from '../core/protocol';
import { ValidationError, isRecord, reqString, optInteger } from '../core/validate';
import { Engine } from './engine';
import { EngineError, errorCode } from './errors';
import { modelsHandlers } from './models/rpc';
import { ModelError } from './models/errors';

export function startServer(input: NodeJS.ReadableStream = process.stdin, output: NodeJS.WritableStream = process.stdout): MessageConnection {
  const connection = createMessageConnection(new StreamMessageReader(input), new StreamMessageWriter(output));
  let engine: Engine | undefined;
  let options: EngineOptions = {};
  const getEngine = () => (engine ??= new Engine(options));
  const notify = <K extends keyof NotificationMap>(method: K, params: NotificationMap[K]) => {
    void connection.sendNotification(method, params);
  };
  const log = (message: string) => process.stderr.write(`${message}\n`);

  const handle = <P, R>(method: string, validate: (x: unknown) => P, fn: (p: P, token: CancellationToken) => Promise<R> | R) => {
    connection.onRequest(method, async (raw: unknown, token: CancellationToken) => {
      const t0 = performance.now();
      try {
        const result = await fn(validate(raw), token);
        log(`${method} done in ${Math.round(performance.now() - t0)} ms`);
        return result;
      } catch (err) {
        log(`${method} failed: ${err instanceof Error ? err.message : String(err)}`);
        throw toResponseError(err);
      }
    });
  };

  handle(Methods.initialize, validateEngineOptions, async (p) => {
    if (engine) await engine.dispose();
    options = p;
    engine = new Engine(options);
    for (const w of engine.warnings) notify(Methods.log, { level: 'warn', message: w });
    return engine.status();
  });

  handle(Methods.generate, validateGenerateParams, (p, token) =>
    getEngine().generate(p, {
      progress: (e) => notify(Methods.progress, e),
      queue: (position) => notify(Methods.queue, { jobId: p.jobId, position }),
      cancelled: () => token.isCancellationRequested,
      warn: (message) => notify(Methods.log, { level: 'warn', message }),
    }));

  handle(Methods.tokenize, validateTokenizeParams, (p) => getEngine().tokenize(p));
  handle(Methods.info, (x) => ({ path: reqString(record(x), 'path') }), (p) => getEngine().info(p.path));
  handle(Methods.thumbnail, (x) => {
    const r = record(x);
    return { source: reqString(r, 'source'), dest: reqString(r, 'dest'), size: optInteger(r, 'size', 16, 2048) ?? 256 };
  }, (p) => getEngine().thumbnail(p));
  handle(Methods.status, () => ({}), () => getEngine().status());
  handle(Methods.cancel, (x) => ({ jobId: reqString(record(x), 'jobId') }), (p) => ({ cancelled: getEngine().cancel(p.jobId) }));
  handle(Methods.shutdown, () => ({}), async () => {
    await engine?.dispose();
    setImmediate(() => process.exit(0));
  });

  for (const [method, handler] of Object.entries(modelsHandlers)) {
    connection.onRequest(method, async (raw: unknown, token: CancellationToken) => {
      const abort = new AbortController();
      const sub = token.onCancellationRequested(() => abort.abort());
      try {
        return await handler(raw, {
          progress: (p) => void connection.sendNotification('models/progress', p),
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

function record(x: unknown): Record<string, unknown> {
  if (!isRecord(x)) throw new ValidationError('parameters must be an object');
  return x;
}

function toResponseError(err: unknown): ResponseError<{ kind: string; code?: string }> {
  if (err instanceof ValidationError) return new ResponseError(ErrorCodes.badInput, err.message, { kind: 'badInput' });
  // Download errors carry a finer code (unauthorized, notFound, diskFull...) so the extension can offer the right fix.
  if (err instanceof ModelError) return new ResponseError(errorCode(err.kind), err.message, { kind: err.kind, code: err.code });
  if (err instanceof EngineError) return new ResponseError(errorCode(err.kind), err.message, { kind: err.kind });
  const message = err instanceof Error ? err.message : String(err);
  return new ResponseError(ErrorCodes.internal, message, { kind: 'internal' });
}
