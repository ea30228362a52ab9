// One request to the engine: its time limit (a stall limit that news about the work restarts),
// its cancellation, and what its failure becomes. Nothing here knows about the process or the
// jobs; the caller decides what a call that gave up means for the engine.

import { type CancellationToken, ResponseError, type MessageConnection } from 'vscode-jsonrpc/node';
import * as l10n from '@vscode/l10n';
import { EngineRequests } from '../../core/engineRequests';
import { MalformedReplyError, checkReply, type RequestType } from '../../core/rpc';
import { EngineError, fromReplyError } from './engineError';

/** The engine a call runs on. */
export interface CallTarget {
  readonly connection: Pick<MessageConnection, 'sendRequest'>;
  /** Each call in flight adds its fail function, so an engine that goes away fails them all. */
  readonly pending: Set<(e: EngineError) => void>;
}

export interface CallOptions {
  /** No answer (and no touch) for this long gives up. */
  stallMs: number;
  /** After a cancel, how long the engine has to confirm it. */
  cancelGraceMs: number;
  /** Sent to the engine as $/cancelRequest when it fires. */
  token?: CancellationToken;
  /** Receives the function that restarts the stall timer, for news about the work. */
  onTouch?: (touch: () => void) => void;
  /** Pass JSON-RPC error replies on as they are (models/* callers read their data.code). */
  keepReplyErrors?: boolean;
  /** Called after a timer gave up on the call (the call is rejected by then). */
  onGiveUp?: () => void;
}

/**
 * Sends `type` and settles with the validated reply, or with an EngineError when the call
 * stalls, is cancelled and not confirmed in time, or its engine goes away.
 */
export function call<P, R>(engine: CallTarget, type: RequestType<P, R>, params: P, opts: CallOptions): Promise<R> {
  const method = type.method;
  const isGenerate = method === EngineRequests.generate.method;
  return new Promise<R>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      engine.pending.delete(failPending);
      cancelSub?.dispose();
      fn();
    };
    const arm = (ms: number, error: () => EngineError): void => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        finish(() => reject(error()));
        opts.onGiveUp?.();
      }, ms);
    };
    const limit = opts.stallMs;
    const armStall = (): void =>
      arm(limit, () =>
        new EngineError(
          'timeout',
          isGenerate
            ? l10n.t('The engine sent no progress for {0} s and was restarted. If the machine is short of memory, try courseIllustrator.unetWeights.', Math.round(limit / 1000))
            : l10n.t('The engine did not answer {0} within {1} s and was restarted.', method, Math.round(limit / 1000)),
        ),
      );
    const failPending = (e: EngineError): void => finish(() => reject(e));
    engine.pending.add(failPending);
    armStall();
    opts.onTouch?.(armStall);
    // After a cancel the engine should answer quickly with a cancelled error; if it does
    // not, give up waiting so the user is not stuck behind a hung job.
    const what = isGenerate ? 'Generation' : method;
    const cancelSub = opts.token?.onCancellationRequested(() =>
      arm(opts.cancelGraceMs, () => new EngineError('cancelled', `${what} cancelled (the engine did not confirm in time).`)),
    );
    send(engine.connection, type, params, opts.token).then(
      (value) => finish(() => resolve(value)),
      (err: unknown) => finish(() => reject(callError(method, err, opts.keepReplyErrors))),
    );
  });
}

/**
 * What a failed call rejects with: an EngineError as it is, a JSON-RPC error reply mapped to
 * one by its code, unless the caller asked for the engine's replies as they are.
 */
export function callError(method: string, err: unknown, keepReplyErrors = false): Error {
  return keepReplyErrors && err instanceof ResponseError ? err : fromReplyError(method, err);
}

/**
 * Sends `type` over `connection` (the method name and the params object, as vscode-jsonrpc sends
 * them) and checks the reply with the request's validator (src/core): a malformed one is a
 * 'badReply' EngineError. No token, no token argument: vscode-jsonrpc would send an `undefined`
 * one as a second, positional parameter.
 */
export async function send<P, R>(connection: Pick<MessageConnection, 'sendRequest'>, type: RequestType<P, R>, params: P, token?: CancellationToken): Promise<R> {
  const raw: unknown = await (token ? connection.sendRequest(type.method, params, token) : connection.sendRequest(type.method, params));
  try {
    return checkReply(type, raw, params);
  } catch (e) {
    if (e instanceof MalformedReplyError) throw new EngineError('badReply', `${e.message} Rebuild the engine ("node esbuild.js").`);
    throw e;
  }
}

export class TimeoutError extends Error {}

/** `p`, or a TimeoutError after `ms`; for the short calls that have no stall timer of their own. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new TimeoutError(`${what} timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
