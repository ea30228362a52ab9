// A small HTTP(S) GET client on node:http/https: redirects (bounded, Authorization dropped when
// the host changes), proxies (Node 20's global fetch ignores HTTPS_PROXY, so https goes through a
// CONNECT tunnel we open ourselves; plain http uses absolute-form requests), an idle timeout that
// turns a silent connection into a "stalled" error, and AbortSignal cancellation.

import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { ModelError, cancelled, networkError } from './errors';

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
  maxRedirects?: number;
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

export const DEFAULT_STALL_MS = 60_000;
export const DEFAULT_MAX_REDIRECTS = 10;

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
    throw new ModelError('badInput', `The proxy setting "${raw}" is not a valid http://host:port URL (from ${opts.proxy ? 'the proxy setting' : 'HTTPS_PROXY / HTTP_PROXY'}).`);
  }
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
  return new Promise((resolve, reject) => {
    const req = lib.request(options);
    req.setTimeout(stallMs, () =>
      req.destroy(new ModelError('stalled', `No data from ${url.host} for ${stallMs / 1000} s (stalled).`, true)),
    );
    req.once('response', (res) => {
      // The idle timer now watches the body; the reader adds its own per-chunk timer too.
      resolve(res);
    });
    req.once('error', (err) => {
      if (signal?.aborted) reject(cancelled());
      else reject(err instanceof ModelError ? err : networkError(err, url.host));
    });
    req.end();
  });
}

/**
 * GET with redirects. Returns the first non-redirect response; the caller reads (or discards)
 * its body. `Authorization` goes only to the origin of the first URL, never to a CDN.
 */
export async function httpGet(url: URL, headers: Record<string, string>, opts: HttpOptions, signal?: AbortSignal): Promise<OpenResponse> {
  const max = opts.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const origin = url.origin;
  const redirects: URL[] = [];
  const redirectHeaders: http.IncomingHttpHeaders[] = [];
  let current = url;
  for (let hop = 0; ; hop++) {
    if (signal?.aborted) throw cancelled();
    const sendHeaders = { ...headers };
    if (current.origin !== origin) delete sendHeaders.Authorization;
    const res = await requestOnce(current, sendHeaders, opts, signal);
    const status = res.statusCode ?? 0;
    if (!REDIRECTS.has(status)) return { status, headers: res.headers, url: current, redirects, redirectHeaders, body: res };
    res.resume(); // discard the redirect body so the socket closes
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
    current = new URL(location, current);
    if (current.protocol !== 'http:' && current.protocol !== 'https:') {
      throw new ModelError('http', `Refusing to follow a redirect to ${current.protocol} (from ${redirects[redirects.length - 1].host}).`);
    }
  }
}

/** Reads a whole (small) body as text with a size cap. */
export async function readText(res: http.IncomingMessage, maxBytes = 64 << 20): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of res) {
    n += (chunk as Buffer).length;
    if (n > maxBytes) {
      res.destroy();
      throw new ModelError('http', `Reply too large (over ${maxBytes} bytes).`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
