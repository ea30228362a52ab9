// HTTP to a school server with Node's fetch, and the errors a teacher can act on: the server
// cannot be reached (check the URL), the credentials were refused (set them), the queue is full
// (try again in N s), the reply was not what this kind of server sends (check the backend kind).

import { isRecord } from '../../core/validate';
import * as l10n from '@vscode/l10n';
import { EngineError } from '../engine/engineError';
import type { Credentials, ServerKind } from './generationBackend';
import { SERVER_NAMES } from './generationBackend';

/** An answer with a status that is not 2xx: the message is for the user, the rest for backends to refine it. */
export class ServerHttpError extends EngineError {
  constructor(
    kind: ConstructorParameters<typeof EngineError>[0],
    message: string,
    readonly status: number,
    /** The server's own explanation, when it gave one. */
    readonly detail: string,
  ) {
    super(kind, message, status);
  }
}

export interface CallOptions {
  body?: unknown;
  /** Form data (ComfyUI's /upload/image) instead of JSON. */
  form?: FormData;
  signal?: AbortSignal;
  /** Give up after this long (polls); default: wait as long as the server works. */
  timeoutMs?: number;
}

export class ServerHttp {
  readonly name: string;
  private readonly base: string;

  constructor(
    readonly kind: ServerKind,
    url: string,
    private readonly credentials: () => Promise<Credentials | undefined>,
  ) {
    this.name = SERVER_NAMES[kind];
    this.base = url.replace(/\/+$/, '');
  }

  get url(): string {
    return this.base;
  }

  /** The JSON answer to `method route`; throws an EngineError for every failure. */
  async json(method: 'GET' | 'POST', route: string, opts: CallOptions = {}): Promise<unknown> {
    const res = await this.send(method, route, opts);
    const text = await this.read(res, route, opts.signal);
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw this.unexpected(route, `not JSON: ${JSON.stringify(text.slice(0, 80))}`);
    }
  }

  /** The raw bytes of `route` (an image). */
  async bytes(route: string, signal?: AbortSignal): Promise<Buffer> {
    const res = await this.send('GET', route, { signal, timeoutMs: 120_000 });
    try {
      return Buffer.from(await res.arrayBuffer());
    } catch (e) {
      throw this.lost(route, e, signal);
    }
  }

  /** A badReply error for a reply of the wrong shape, naming the likely fix. */
  unexpected(route: string, what: string): EngineError {
    return new EngineError(
      'badReply',
      l10n.t('The server at {0} sent an unexpected reply to {1} ({2}). Is it a {3} server? Check courseIllustrator.backend and courseIllustrator.backendUrl.', this.base, route, what, this.name),
    );
  }

  private async send(method: 'GET' | 'POST', route: string, opts: CallOptions): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    const creds = await this.credentials();
    if (creds?.user !== undefined && creds.password !== undefined) {
      headers.Authorization = `Basic ${Buffer.from(`${creds.user}:${creds.password}`, 'utf8').toString('base64')}`;
    }
    if (creds?.token) headers.Cookie = `swarm_user_token=${encodeURIComponent(creds.token)}`;
    let body: string | FormData | undefined;
    if (opts.form) body = opts.form;
    else if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    const signals = [opts.signal, opts.timeoutMs ? AbortSignal.timeout(opts.timeoutMs) : undefined].filter((s): s is AbortSignal => s !== undefined);
    let res: Response;
    try {
      res = await fetch(`${this.base}${route}`, { method, headers, body, signal: signals.length ? AbortSignal.any(signals) : undefined });
    } catch (e) {
      throw this.lost(route, e, opts.signal);
    }
    if (res.ok) return res;
    const text = await res.text().catch(() => '');
    throw this.statusError(res, route, text);
  }

  private async read(res: Response, route: string, signal?: AbortSignal): Promise<string> {
    try {
      return await res.text();
    } catch (e) {
      throw this.lost(route, e, signal);
    }
  }

  /** The request never got an answer: cancelled by us, timed out, or the server is not there. */
  private lost(route: string, e: unknown, signal?: AbortSignal): EngineError {
    if (signal?.aborted) return new EngineError('cancelled', l10n.t('Generation cancelled.'));
    const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (err?.name === 'TimeoutError') {
      return new EngineError('timeout', l10n.t('The server at {0} did not answer {1} in time. Check that it is running, or try again later.', this.base, route));
    }
    const why = err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(e);
    return new EngineError(
      'internal',
      l10n.t("Can't reach the {0} server at {1} ({2}). Check courseIllustrator.backendUrl, that the server is running, and your network.", this.name, this.base, why),
    );
  }

  private statusError(res: Response, route: string, text: string): ServerHttpError {
    const detail = errorDetail(text);
    const said = detail ? `: ${detail}` : '';
    const status = res.status;
    if (status === 401 || status === 403) {
      return new ServerHttpError(
        'badInput',
        status === 401
          ? l10n.t("The {0} server at {1} refused the request (HTTP {2}, not signed in). Run \"Course Illustrator: Set Server Credentials…\" with the user and password (or token) the server's administrator gave you.", this.name, this.base, status)
          : l10n.t("The {0} server at {1} refused the request (HTTP {2}, not allowed). Run \"Course Illustrator: Set Server Credentials…\" with the user and password (or token) the server's administrator gave you.", this.name, this.base, status),
        status,
        detail,
      );
    }
    if (status === 429) {
      const retry = Number(res.headers.get('Retry-After'));
      const message = Number.isFinite(retry) && retry > 0 ? l10n.t("The server's queue is full, try again in {0} s.", Math.ceil(retry)) : l10n.t("The server's queue is full, try again in a minute.");
      return new ServerHttpError('internal', message, status, detail);
    }
    if (status === 503) return new ServerHttpError('internal', l10n.t('The {0} server at {1} is not available now{2}. Try again later.', this.name, this.base, said), status, detail);
    if (status === 404 && !detail) {
      return new ServerHttpError('badReply', l10n.t('The server at {0} has no {1} (HTTP 404). Is it a {2} server with its API on? Check courseIllustrator.backend and courseIllustrator.backendUrl.', this.base, route, this.name), status, detail);
    }
    return new ServerHttpError(status >= 500 ? 'internal' : 'badInput', l10n.t('The {0} server at {1} answered HTTP {2} to {3}{4}.', this.name, this.base, status, route, said), status, detail);
  }
}

/** The server's own words from an error body: A1111/FastAPI `detail`, ComfyUI `error.message`, SwarmUI `error`. */
export function errorDetail(text: string): string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return text.trim().startsWith('<') ? '' : text.trim().slice(0, 300);
  }
  if (!isRecord(body)) return '';
  const d = body.detail;
  if (typeof d === 'string') return d;
  if (Array.isArray(d)) {
    return d.map((e) => (isRecord(e) ? `${Array.isArray(e.loc) ? e.loc.filter((l) => l !== 'body').join('.') + ': ' : ''}${String(e.msg ?? '')}` : String(e))).join('; ');
  }
  if (isRecord(body.error) && typeof body.error.message === 'string') {
    const details = typeof body.error.details === 'string' && body.error.details ? ` (${body.error.details})` : '';
    return `${body.error.message}${details}`;
  }
  if (typeof body.error === 'string') return body.error;
  return '';
}

export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
