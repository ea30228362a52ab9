// Download and store errors. Each carries a code from the protocol (so the CLI and the extension
// can offer the right fix) and a message that says what happened and what to do about it.

import type { ModelErrorCode } from '../../core/modelsProtocol';
import { EngineError, EngineErrorKind } from '../errors';

function engineKind(code: ModelErrorCode): EngineErrorKind {
  if (code === 'cancelled') return 'cancelled';
  if (code === 'badInput') return 'badInput';
  if (code === 'diskFull' || code === 'io') return 'outputError';
  return 'modelError';
}

// Characters a terminal or an editor would act on instead of showing: C0 and C1 controls, DEL,
// and the bidi embeddings/overrides/isolates that make text read differently from its bytes.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const UNPRINTABLE_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(c: string): string {
  const n = c.charCodeAt(0);
  return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
}

/**
 * `text` with every control character (and bidi override) shown as an escape like \x1b, so text
 * from a server or a file name cannot move the cursor, recolour, retitle or reorder a terminal.
 * `keepNewlines`: for our own multi-line messages; server text is always escaped whole.
 */
export function printable(text: string, keepNewlines = false): string {
  return text.replace(keepNewlines ? UNPRINTABLE_BUT_NEWLINE : UNPRINTABLE, escapeChar);
}

/** True when `text` holds a character that `printable` would escape. */
export function hasUnprintable(text: string): boolean {
  return new RegExp(UNPRINTABLE.source).test(text);
}

// Secrets seen by this process (hub tokens): never shown, whatever message they end up in.
const secrets = new Set<string>();

/** Registers a token so that `redact` (and so every ModelError) hides it. */
export function addSecret(secret: string | undefined): void {
  if (secret && secret.length >= 6) secrets.add(secret);
}

/**
 * `text` with credentials hidden: the user:password@ part of URLs (proxy logins), Bearer tokens,
 * hub tokens (hf_...) and any registered secret. "<user>:<password>@" placeholders in hints stay.
 */
export function redact(text: string): string {
  let out = text
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#<>"'@]*(?:@[^\s/?#<>"'@]*)*@/gi, '$1***@')
    .replace(/(^|[\s"'(=])[^\s/?#<>"'@:=]+:[^\s/?#<>"'@]*(?:@[^\s/?#<>"'@]*)*@(?=[\w[])/g, '$1***@')
    .replace(/\b(Bearer|Basic)\s+[\w.~+/=-]+/g, '$1 ***')
    .replace(/\bhf_[A-Za-z0-9]{30,}/g, 'hf_***');
  for (const s of secrets) out = out.split(s).join('***');
  return out;
}

/** An EngineError (so the server and CLI map it like the others) with a precise `code`. */
export class ModelError extends EngineError {
  constructor(
    readonly code: ModelErrorCode,
    message: string,
    /** Worth trying again after a pause (network hiccups, 5xx, stalls, truncated bodies). */
    readonly retryable = false,
  ) {
    // Messages quote servers, file names and settings: no credential and no control character
    // may reach a terminal or a log through them.
    super(engineKind(code), printable(redact(message), true));
    this.name = 'ModelError';
  }
}

export function cancelled(): ModelError {
  return new ModelError('cancelled', 'Download cancelled. The part already downloaded is kept: pull the same model again to resume.');
}

export function isAbort(err: unknown, signal?: AbortSignal): boolean {
  if (signal?.aborted) return true;
  return err instanceof Error && (err.name === 'AbortError' || (err as NodeJS.ErrnoException).code === 'ABORT_ERR');
}

/** Node socket/DNS error codes -> a ModelError that names the host and the likely fix. */
export function networkError(err: unknown, host: string): ModelError {
  if (err instanceof ModelError) return err;
  const code = (err as NodeJS.ErrnoException)?.code ?? '';
  const detail = err instanceof Error ? err.message : String(err);
  const hint = 'Check your internet connection; behind a proxy set HTTPS_PROXY (or VS Code\'s http.proxy); in a region that needs a mirror set HF_ENDPOINT (or courseIllustrator.hubEndpoint).';
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return new ModelError('offline', `Cannot look up ${host} (DNS: ${code}). Are you offline? ${hint}`, true);
    case 'ECONNREFUSED':
      return new ModelError('offline', `${host} refused the connection (${code}). ${hint}`, true);
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
    case 'ENETDOWN':
    case 'ETIMEDOUT':
    case 'ECONNABORTED':
      return new ModelError('offline', `Cannot reach ${host} (${code}). ${hint}`, true);
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ERR_STREAM_PREMATURE_CLOSE':
    case 'UND_ERR_SOCKET':
      return new ModelError('truncated', `The connection to ${host} was closed early (${code}).`, true);
    case 'CERT_HAS_EXPIRED':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return new ModelError('http', `The TLS certificate of ${host} is not trusted (${code}). Behind a proxy that inspects TLS, point NODE_EXTRA_CA_CERTS at its CA certificate.`);
    default:
      if (detail === 'aborted' || /socket hang up/i.test(detail)) {
        return new ModelError('truncated', `The connection to ${host} was closed early (${detail}).`, true);
      }
      return new ModelError('offline', `Network error talking to ${host}: ${detail}${code ? ` (${code})` : ''}. ${hint}`, true);
  }
}

/** fs errors while writing -> disk full (not retryable: retrying cannot help) or io. */
export function fileError(err: unknown, file: string, store: string): ModelError {
  if (err instanceof ModelError) return err;
  const code = (err as NodeJS.ErrnoException)?.code ?? '';
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new ModelError(
      'diskFull',
      `The disk is full while writing ${file} in ${store}. Free some space or choose another model store (setting courseIllustrator.modelStore, or $COURSE_ILLUSTRATOR_MODELS for the CLI); pull again to resume where it stopped.`,
    );
  }
  const detail = err instanceof Error ? err.message : String(err);
  return new ModelError('io', `Cannot write ${file} in ${store}: ${detail}`);
}
