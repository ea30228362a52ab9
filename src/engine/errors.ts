// Errors the engine reports to a user. `kind` decides the JSON-RPC error code and the CLI
// exit status; the message always names what to fix.

import { ErrorCodes } from '../core/protocol';

export type EngineErrorKind = 'badInput' | 'modelError' | 'outputError' | 'cancelled' | 'internal';

export class EngineError extends Error {
  constructor(readonly kind: EngineErrorKind, message: string) {
    super(message);
    this.name = 'EngineError';
  }
}

export class CancelledError extends EngineError {
  constructor() {
    super('cancelled', 'Generation cancelled.');
  }
}

export function badInput(message: string): EngineError {
  return new EngineError('badInput', message);
}

export function errorCode(kind: EngineErrorKind): number {
  return ErrorCodes[kind];
}

/** CLI exit status: 2 for bad input, 3 for model problems, 4 for output problems, 130 cancelled, 1 otherwise. */
export function exitCode(err: unknown): number {
  if (!(err instanceof EngineError)) return 1;
  switch (err.kind) {
    case 'badInput': return 2;
    case 'modelError': return 3;
    case 'outputError': return 4;
    case 'cancelled': return 130;
    default: return 1;
  }
}

/** Anything thrown below us (ORT, fs, sharp) becomes an EngineError with its message kept. */
export function asEngineError(err: unknown, kind: EngineErrorKind = 'internal'): EngineError {
  if (err instanceof EngineError) return err;
  const message = err instanceof Error ? err.message : String(err);
  // Lower layers (image output, model folder, downloads) tag their errors with a `kind`.
  const tagged = (err as { kind?: unknown } | null)?.kind;
  const known: EngineErrorKind[] = ['badInput', 'modelError', 'outputError', 'cancelled'];
  return new EngineError(known.includes(tagged as EngineErrorKind) ? (tagged as EngineErrorKind) : kind, message);
}
