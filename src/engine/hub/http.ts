// A small HTTP(S) GET client on node:http/https: redirects (bounded; credentials only ever go to
// the one origin they belong to), proxies (Node 20's global fetch ignores HTTPS_PROXY, so https
// goes through a CONNECT tunnel we open ourselves; plain http uses absolute-form requests), an
// idle timeout that turns a silent connection into a "stalled" error, a minimum transfer rate
// that turns a trickle into a "too slow" error, size caps on bodies, and AbortSignal cancellation.

import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Readable } from 'node:stream';
import { formatBytes } from '../../core/format';
import { ModelError, cancelled, networkError, redact } from './errors';

export interface HttpOptions {
  /** Proxy URL (http://[user:pass@]host:port); default from HTTPS_PROXY / HTTP_PROXY / ALL_PROXY. */
  proxy?: string;
  /** Hosts that bypass the proxy; default from NO_PROXY. */
  noProxy?: string;
  /** Extra CA certificates (PEM) trusted for https, e.g. a TLS-inspecting proxy's CA. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** DNS lookup override (tests simulate DNS failures with it). */
  lookup?: net.LookupFunction;
  /** No bytes for this long (connecting, waiting for headers or reading the body) -> stalled. */
  stallTimeoutMs?: number;
  /**
   * A body that averages less than this over `slowWindowMs` is "too slow" (a server can keep a
   * connection alive forever with one byte every few seconds). Default 1 KiB/s; 0: no minimum.
   */
  minBytesPerSecond?: number;
  /** The window for `minBytesPerSecond` (default 60 s); also bounds the wait for reply headers (twice this). */
  slowWindowMs?: number;
  maxRedirects?: number;
  /**
   * Where a redirect may lead: a hop to a URL this refuses ends the request with an error naming
   * the host. Default: anywhere http(s) (credentials still go to their own origin only).
   */
  allowRedirect?: (to: URL, from: URL) => boolean;
  userAgent?: string;
  env?: NodeJS.ProcessEnv;
}

export interface OpenResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The URL that answered (after redirects). */
  url: URL;
  /** Every URL that redirected us, in order, with the headers of its redirect reply. */
  redirects: URL[];
  redirectHeaders: http.IncomingHttpHeaders[];
  body: http.IncomingMessage;
}

/** Credentials sent only to `origin` (scheme://host:port): never to a CDN, a mirror's next page or a redirect target. */
export interface Credentials {
  origin: string;
  authorization: string;
}

export const DEFAULT_STALL_MS = 60_000;
export const DEFAULT_MAX_REDIRECTS = 10;
export const DEFAULT_MIN_BYTES_PER_SECOND = 1024;
export const DEFAULT_SLOW_WINDOW_MS = 60_000;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function envGet(env: NodeJS.ProcessEnv, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = env[n] ?? env[n.toLowerCase()];
    if (v) return v;
  }
  return undefined;
}

/** True when `host` matches a NO_PROXY list ("*", "example.com", ".example.com", "host:port"). */
export function bypassesProxy(url: URL, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  for (const raw of noProxy.split(/[,\s]+/)) {
    let entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    const m = /^(.*?)(?::(\d+))?$/.exec(entry);
    if (m && m[2] && !entry.includes(']')) {
      if (m[2] !== port) continue;
      entry = m[1];
    }
    entry = entry.replace(/^\*?\./, '.');
    if (host === entry.replace(/^\./, '') || (entry.startsWith('.') && host.endsWith(entry)) || host.endsWith(`.${entry}`)) return true;
  }
  return false;
}

/** The proxy to use for `url`, or undefined for a direct connection. */
export function proxyFor(url: URL, opts: Pick<HttpOptions, 'proxy' | 'noProxy' | 'env'>): URL | undefined {
  const env = opts.env ?? process.env;
  const noProxy = opts.noProxy ?? envGet(env, 'NO_PROXY');
  if (bypassesProxy(url, noProxy)) return undefined;
  const raw = opts.proxy ?? (url.protocol === 'https:' ? envGet(env, 'HTTPS_PROXY', 'ALL_PROXY') : envGet(env, 'HTTP_PROXY', 'ALL_PROXY'));
  if (!raw) return undefined;
  try {
    const p = new URL(raw.includes('://') ? raw : `http://${raw}`);
    if (p.protocol !== 'http:' && p.protocol !== 'https:') throw new Error('unsupported scheme');
    return p;
  } catch {
    throw new ModelError(
      'badInput',
      `The proxy setting "${withoutLogin(raw)}" is not a valid http://host:port URL (from ${opts.proxy ? 'the proxy setting' : 'HTTPS_PROXY / HTTP_PROXY'}).`,
    );
  }
}

/** A proxy or endpoint setting as it may be shown: everything before the last "@" hidden (a login). */
export function withoutLogin(raw: string): string {
  const at = raw.lastIndexOf('@');
  if (at < 0) return redact(raw);
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(raw)?.[0] ?? '';
  return redact(`${scheme}***${raw.slice(at)}`);
}

function proxyAuth(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  const user = decodeURIComponent(proxy.username);
  const pass = decodeURIComponent(proxy.password);
  return { 'Proxy-Authorization': `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` };
}

/** Opens a CONNECT tunnel through `proxy` to host:port and resolves with the raw socket. */
function connectTunnel(proxy: URL, target: URL, opts: HttpOptions, signal?: AbortSignal): Promise<net.Socket> {
  const port = target.port || '443';
  return new Promise((resolve, reject) => {
    const lib = proxy.protocol === 'https:' ? https : http;
    const req = lib.request({
      host: proxy.hostname,
      port: proxy.port || (proxy.protocol === 'https:' ? 443 : 80),
      method: 'CONNECT',
      path: `${target.hostname}:${port}`,
      headers: { Host: `${target.hostname}:${port}`, ...proxyAuth(proxy) },
      lookup: opts.lookup,
      agent: false,
      signal,
    });
    req.setTimeout(opts.stallTimeoutMs ?? DEFAULT_STALL_MS, () =>
      req.destroy(new ModelError('stalled', `The proxy ${proxy.host} did not answer within ${(opts.stallTimeoutMs ?? DEFAULT_STALL_MS) / 1000} s.`, true)),
    );
    req.once('connect', (res, socket) => {
      if (res.statusCode === 200) {
        resolve(socket);
        return;
      }
      socket.destroy();
      const code = res.statusCode ?? 0;
      if (code === 407) {
        reject(new ModelError('unauthorized', `The proxy ${proxy.host} wants a login (HTTP 407): put user:password in the proxy URL, like http://user:pass@${proxy.host}.`));
      } else {
        reject(new ModelError('http', `The proxy ${proxy.host} refused to connect to ${target.host} (HTTP ${code}).`, code >= 500));
      }
    });
    req.once('error', (err) => reject(signal?.aborted ? cancelled() : err instanceof ModelError ? err : networkError(err, `proxy ${proxy.host}`)));
    req.end();
  });
}

/** One request, no redirect handling. */
async function requestOnce(url: URL, headers: Record<string, string>, opts: HttpOptions, signal?: AbortSignal): Promise<http.IncomingMessage> {
  const proxy = proxyFor(url, opts);
  const stallMs = opts.stallTimeoutMs ?? DEFAULT_STALL_MS;
  const isHttps = url.protocol === 'https:';
  const base: https.RequestOptions = {
    method: 'GET',
    headers: { 'User-Agent': opts.userAgent ?? 'course-illustrator', ...headers },
    agent: false,
    signal,
    lookup: opts.lookup,
  };
  let options: https.RequestOptions;
  let lib: typeof http | typeof https = isHttps ? https : http;
  if (proxy && isHttps) {
    const socket = await connectTunnel(proxy, url, opts, signal);
    options = {
      ...base,
      host: url.hostname,
      port: url.port || 443,
      path: url.pathname + url.search,
      // Node uses createConnection only when no agent is given.
      agent: undefined,
      createConnection: () => tls.connect({ socket, servername: net.isIP(url.hostname) ? undefined : url.hostname, ca: opts.ca }),
    };
  } else if (proxy) {
    // Plain http through a proxy: absolute-form request line, the proxy forwards it.
    options = {
      ...base,
      host: proxy.hostname,
      port: proxy.port || 80,
      path: url.href,
      headers: { ...base.headers, Host: url.host, ...proxyAuth(proxy) },
    };
    lib = proxy.protocol === 'https:' ? https : http;
  } else {
    options = { ...base, host: url.hostname, port: url.port || (isHttps ? 443 : 80), path: url.pathname + url.search, ca: opts.ca };
  }
  // The idle timeout alone would wait forever on headers that trickle in a byte at a time.
  const headersMs = 2 * Math.max(stallMs, opts.slowWindowMs ?? DEFAULT_SLOW_WINDOW_MS);
  return new Promise((resolve, reject) => {
    const req = lib.request(options);
    req.setTimeout(stallMs, () =>
      req.destroy(new ModelError('stalled', `No data from ${url.host} for ${stallMs / 1000} s (stalled).`, true)),
    );
    const deadline = setTimeout(
      () => req.destroy(new ModelError('stalled', `${url.host} did not send its reply headers within ${headersMs / 1000} s: the server is too slow.`, true)),
      headersMs,
    );
    req.once('response', (res) => {
      clearTimeout(deadline);
      // From here the reader's BodyGuard alone watches the body: with the socket's idle timer
      // racing it, a stall could reach the reader as ECONNRESET instead of "stalled".
      req.setTimeout(0);
      resolve(res);
    });
    req.once('error', (err) => {
      clearTimeout(deadline);
      if (signal?.aborted) reject(cancelled());
      else reject(err instanceof ModelError ? err : networkError(err, url.host));
    });
    req.end();
  });
}

function checkScheme(url: URL, from: string): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ModelError('http', `Refusing to follow a link to ${url.protocol} (from ${from}).`);
  }
}

/** The headers for one hop: `credentials` only when the hop goes to their origin. */
function hopHeaders(url: URL, headers: Record<string, string>, credentials?: Credentials): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() !== 'authorization') out[k] = v;
  if (credentials && url.origin === credentials.origin) out.Authorization = credentials.authorization;
  return out;
}

/**
 * GET with redirects. Returns the first non-redirect response; the caller reads (or discards)
 * its body. `credentials` go with every hop to their own origin and to no other: not to the CDN
 * a file redirects to, nor to a page or redirect on another host, whatever URL we started from.
 */
export async function httpGet(url: URL, headers: Record<string, string>, opts: HttpOptions, signal?: AbortSignal, credentials?: Credentials): Promise<OpenResponse> {
  const max = opts.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const redirects: URL[] = [];
  const redirectHeaders: http.IncomingHttpHeaders[] = [];
  let current = url;
  checkScheme(current, 'the hub');
  for (let hop = 0; ; hop++) {
    if (signal?.aborted) throw cancelled();
    const res = await requestOnce(current, hopHeaders(current, headers, credentials), opts, signal);
    const status = res.statusCode ?? 0;
    if (!REDIRECTS.has(status)) return { status, headers: res.headers, url: current, redirects, redirectHeaders, body: res };
    res.destroy(); // a redirect's body is never read, and may be endless
    const location = res.headers.location;
    if (!location) throw new ModelError('http', `${current.host} answered HTTP ${status} (redirect) without a Location header for ${current.pathname}.`);
    if (hop >= max) {
      throw new ModelError(
        'redirectLoop',
        `Too many redirects (more than ${max}) fetching ${url.pathname}: the server or a proxy/mirror keeps redirecting (last: ${current.host}). Check HF_ENDPOINT / courseIllustrator.hubEndpoint and your proxy.`,
      );
    }
    redirects.push(current);
    redirectHeaders.push(res.headers);
    try {
      current = new URL(location, current);
    } catch {
      throw new ModelError('http', `${redirects[redirects.length - 1].host} redirected to something that is not a URL.`);
    }
    checkScheme(current, redirects[redirects.length - 1].host);
    if (opts.allowRedirect && !opts.allowRedirect(current, redirects[redirects.length - 1])) {
      throw new ModelError(
        'http',
        `${redirects[redirects.length - 1].host} redirected ${url.pathname} to ${current.protocol}//${current.host}, which is not a host this download may use; refused. ` +
          'Check the endpoint setting (--endpoint) and your proxy, or report the new host if the site moved its files.',
      );
    }
  }
}

export interface BodyLimits {
  /** No chunk for this long: stalled. */
  stallMs: number;
  /** More bytes than this: the body is cut (the caller knows how many it may send). */
  maxBytes: number;
  /** Less than this on average over `slowWindowMs`: too slow; 0 disables. */
  minBytesPerSecond: number;
  slowWindowMs: number;
}

export interface BodyErrors {
  stalled(): Error;
  /** `bytes` arrived over the last `windowMs`. */
  tooSlow(bytes: number, windowMs: number): Error;
  tooLong(): Error;
}

/** The limits `opts` set for a body, with `maxBytes` from the caller. */
export function bodyLimits(opts: HttpOptions, maxBytes: number): BodyLimits {
  return {
    stallMs: opts.stallTimeoutMs ?? DEFAULT_STALL_MS,
    maxBytes,
    minBytesPerSecond: opts.minBytesPerSecond ?? DEFAULT_MIN_BYTES_PER_SECOND,
    slowWindowMs: opts.slowWindowMs ?? DEFAULT_SLOW_WINDOW_MS,
  };
}

/**
 * Watches a body as it arrives: destroys it, with the matching error kept in `cut`, when it goes
 * silent (stalled), trickles (below the minimum rate over the window) or runs past `maxBytes`.
 * The reader calls `accept` for each chunk and uses the chunk only when it returns true.
 */
export class BodyGuard {
  /** The error the guard destroyed the body with, if it did. */
  cut: Error | undefined;
  private received = 0;
  private idle: NodeJS.Timeout | undefined;
  private readonly rateTimer: NodeJS.Timeout | undefined;
  /** Byte counts sampled every quarter window: the oldest one a window back gives the rate. */
  private readonly samples: { t: number; bytes: number }[];

  constructor(
    private readonly body: Readable,
    private readonly limits: BodyLimits,
    private readonly errors: BodyErrors,
  ) {
    this.samples = [{ t: Date.now(), bytes: 0 }];
    this.armIdle();
    if (limits.minBytesPerSecond > 0) {
      this.rateTimer = setInterval(() => this.checkRate(), Math.max(10, limits.slowWindowMs / 4));
      this.rateTimer.unref?.();
    }
  }

  accept(n: number): boolean {
    if (this.cut) return false;
    this.received += n;
    if (this.received > this.limits.maxBytes) {
      this.destroy(this.errors.tooLong());
      return false;
    }
    this.armIdle();
    return true;
  }

  stop(): void {
    clearTimeout(this.idle);
    clearInterval(this.rateTimer);
  }

  private destroy(err: Error): void {
    this.cut ??= err;
    this.stop();
    this.body.destroy(this.cut);
  }

  private armIdle(): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.destroy(this.errors.stalled()), this.limits.stallMs);
  }

  private checkRate(): void {
    const now = Date.now();
    this.samples.push({ t: now, bytes: this.received });
    const windowStart = now - this.limits.slowWindowMs;
    // Keep one sample at or before the window start: the rate is measured from there.
    while (this.samples.length > 1 && this.samples[1].t <= windowStart) this.samples.shift();
    const from = this.samples[0];
    if (from.t > windowStart) return; // not a whole window yet
    const bytes = this.received - from.bytes;
    if ((bytes * 1000) / (now - from.t) < this.limits.minBytesPerSecond) this.destroy(this.errors.tooSlow(bytes, now - from.t));
  }
}

/** "60", or "0.3" for the short windows of tests. */
function seconds(ms: number): string {
  return ms >= 10_000 ? String(Math.round(ms / 1000)) : (ms / 1000).toFixed(1);
}

/** What a "too slow" error says; the caller adds what was being fetched. */
export function tooSlowMessage(host: string, bytes: number, windowMs: number, minBytesPerSecond: number): string {
  return (
    `The server is too slow: ${host} sent ${formatBytes(bytes)} in the last ${seconds(windowMs)} s, ` +
    `under the ${formatBytes(minBytesPerSecond)}/s a download needs`
  );
}

/**
 * Reads a whole (small) body as text: at most `maxBytes`, and subject to the stall and rate
 * limits of `opts`. `what` names the body in errors ("the file list of x/y").
 */
export function readText(res: OpenResponse, maxBytes: number, opts: HttpOptions, what: string): Promise<string> {
  const host = res.url.host;
  const limits = bodyLimits(opts, maxBytes);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const guard = new BodyGuard(res.body, limits, {
      stalled: () => new ModelError('stalled', `No data from ${host} for ${limits.stallMs / 1000} s while reading ${what} (stalled).`, true),
      tooSlow: (bytes, ms) => new ModelError('stalled', `${tooSlowMessage(host, bytes, ms, limits.minBytesPerSecond)}, while reading ${what}.`, true),
      tooLong: () =>
        new ModelError(
          'http',
          `${host} sent more than ${formatBytes(maxBytes)} for ${what}; refusing it. A hub's reply is far smaller: check that HF_ENDPOINT / courseIllustrator.hubEndpoint is a hub or mirror.`,
        ),
    });
    const done = (err?: unknown): void => {
      guard.stop();
      if (guard.cut) reject(guard.cut);
      else if (err) reject(err instanceof ModelError ? err : networkError(err, host));
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    res.body.on('data', (chunk: Buffer) => {
      if (guard.accept(chunk.length)) chunks.push(chunk);
    });
    res.body.once('end', () => done());
    res.body.once('error', (err) => done(err));
    res.body.once('close', () => done(res.body.readableEnded ? undefined : new ModelError('truncated', `${host} closed the connection while sending ${what}.`, true)));
  });
}
