// Typed JSON-RPC requests and notifications, in the manner of vscode-languageserver-node's
// `RequestType<P, R>`: each one is defined once (src/core/protocol.ts for engine/*,
// src/core/modelsProtocol.ts for models/*) with its method name and the validators both ends run
// on what arrives: the engine checks the params, the extension checks the reply. The transport
// stays vscode-jsonrpc's (the method name and the params object as they are); no transport here.

import { ValidationError } from './validate';

export interface RequestType<P, R> {
  readonly method: string;
  /** Checks a request's params where they arrive (the engine); throws a ValidationError. */
  readonly params: (x: unknown) => P;
  /** Checks a reply where it arrives (the extension), knowing the params it answers; throws a ValidationError. */
  readonly result: (x: unknown, params: P) => R;
}

export interface NotificationType<P> {
  readonly method: string;
  /** Checks a notification's params where they arrive; throws a ValidationError. */
  readonly params: (x: unknown) => P;
}

export function requestType<P, R>(method: string, params: (x: unknown) => P, result: (x: unknown, params: P) => R): RequestType<P, R> {
  return Object.freeze({ method, params, result });
}

export function notificationType<P>(method: string, params: (x: unknown) => P): NotificationType<P> {
  return Object.freeze({ method, params });
}

/** A reply that failed its validator, with the message to show: which request, what was wrong. */
export class MalformedReplyError extends ValidationError {
  constructor(
    readonly method: string,
    readonly detail: string,
  ) {
    super(`The engine sent a malformed reply to ${method}: ${detail}.`);
    this.name = 'MalformedReplyError';
  }
}

/** Runs `type`'s reply validator; whatever it throws becomes a MalformedReplyError naming the method. */
export function checkReply<P, R>(type: RequestType<P, R>, raw: unknown, params: P): R {
  try {
    return type.result(raw, params);
  } catch (e) {
    throw new MalformedReplyError(type.method, e instanceof Error ? e.message : String(e));
  }
}
