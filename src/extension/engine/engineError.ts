// The single error type of the engine client. `kind` lets callers react (a cancelled job is not
// an error to show); `message` is written for the user and says what to do.

import type { EngineErrorKind } from '../services';
import { ErrorCodes } from '../../core/protocol';
import * as l10n from '@vscode/l10n';

export class EngineError extends Error {
  constructor(
    readonly kind: EngineErrorKind,
    message: string,
    readonly code?: number,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

export function isEngineError(e: unknown): e is EngineError {
  return e instanceof Error && e.name === 'EngineError' && 'kind' in e && typeof e.kind === 'string';
}

export function isCancelled(e: unknown): boolean {
  return isEngineError(e) && e.kind === 'cancelled';
}

/** Maps a JSON-RPC error reply (ResponseError or its JSON shape) to an EngineError. */
export function fromReplyError(method: string, e: unknown): EngineError {
  if (isEngineError(e)) return e;
  const code = typeof (e as { code?: unknown })?.code === 'number' ? (e as { code: number }).code : undefined;
  const message = e instanceof Error ? e.message : String(e);
  switch (code) {
    case ErrorCodes.cancelled:
      return new EngineError('cancelled', l10n.t('Generation cancelled.'), code);
    case ErrorCodes.badInput:
      return new EngineError('badInput', message, code);
    case ErrorCodes.modelError:
      return new EngineError('modelError', l10n.t('Model problem: {0}', message), code);
    case ErrorCodes.outputError:
      return new EngineError('outputError', l10n.t('Could not write the image: {0}', message), code);
    default:
      return new EngineError('internal', l10n.t('The engine failed on {0}: {1}', method, message), code);
  }
}
