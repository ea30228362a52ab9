// The HTTP side of `course-illustrator serve`: Node's http server, Basic auth, CORS only when
// asked for, a cap on request bodies, JSON errors in A1111's shapes, and a shutdown that answers
// every waiting request before the process ends. Logs say method, path, status and time: never
// bodies (prompts) or headers (credentials).

import { promises as fs } from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { Engine } from '../engine';
import { EngineError } from '../errors';
import { readModelFolder } from '../modelFolder/modelFolder';
import { Credential, isAuthorized, loadCredentials } from './auth';
import { HttpError, a1111Error } from './httpError';
import { RequestQueue } from './requestQueue';
import { ROUTES, Reply, RouteContext } from './routes';
import { ServeOptions } from './serveArgs';

/** Largest request body: a 4096 x 4096 PNG in base64 is about 30 MB at worst. */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

export interface ServeServer {
  /** http://host:port, with the port actually bound (for --listen HOST:0). */
  url: string;
  port: number;
  queue: RequestQueue;
  tempRoot: string;
  /** Stops accepting, answers queued requests with 503, cancels the running job, cleans up. */
  close(): Promise<void>;
}

export interface StartOptions extends ServeOptions {
  /** An engine of the caller's (tests); default: one made from the options. */
  engine?: Engine;
  log?: (line: string) => void;
  maxBodyBytes?: number;
}

export async function startHttpServer(o: StartOptions): Promise<ServeServer> {
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  // Refuse a wrong folder now rather than at the first request.
  try {
    await readModelFolder(o.model);
  } catch (err) {
    throw new EngineError('modelError', err instanceof Error ? err.message : String(err));
  }
  const credentials: Credential[] | undefined = o.authFile ? await loadCredentials(o.authFile) : undefined;
  const engine = o.engine ?? new Engine({ provider: o.provider, threads: o.threads, lowMemory: o.lowMemory, unetWeights: o.unetWeights });
  for (const w of engine.warnings) log(`warning: ${w}`);
  // mkdtemp makes it 0700: other users of the machine cannot read uploads or images.
  const tempRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'course-illustrator-serve-'));
  const queue = new RequestQueue(engine, o.maxQueue);
  const maxBody = o.maxBodyBytes ?? MAX_BODY_BYTES;
  const ctx: RouteContext = {
    modelDir: o.model,
    model: { title: path.basename(o.model), hash: null },
    queue,
    tempRoot,
    requestTimeoutMs: o.requestTimeoutMs,
    loraDirs: o.loraDirs ?? [],
    readJson: (req) => readJson(req, maxBody),
    log,
  };
  let inFlight = 0;
  let idle: (() => void) | undefined;

  const server = http.createServer((req, res) => {
    const t0 = performance.now();
    const pathname = safePathname(req.url);
    inFlight++;
    res.on('close', () => {
      log(`${req.method} ${pathname} ${res.writableFinished ? res.statusCode : 'client gone'} ${Math.round(performance.now() - t0)} ms`);
      if (--inFlight === 0) idle?.();
    });
    void handle(req, res, pathname).catch((err) => sendError(res, err, log));
  });
  // Time to receive a whole request (a 32 MiB upload on a slow school network included).
  server.requestTimeout = 120_000;
  server.headersTimeout = 30_000;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, pathname: string): Promise<void> {
    const preflight = cors(req, res, o.corsOrigin);
    if (preflight) {
      send(res, { status: 204, body: undefined });
      return;
    }
    if (credentials) {
      const header = req.headers.authorization;
      if (!header) throw a1111Error(401, 'Not authenticated', { 'WWW-Authenticate': 'Basic' });
      if (!isAuthorized(header, credentials)) throw a1111Error(401, 'Incorrect username or password', { 'WWW-Authenticate': 'Basic' });
    }
    const route = ROUTES[pathname];
    if (!route) throw new HttpError(404, { detail: 'Not Found' });
    const handler = req.method === 'GET' || req.method === 'POST' ? route[req.method] : undefined;
    if (!handler) throw new HttpError(405, { detail: 'Method Not Allowed' }, { Allow: Object.keys(route).join(', ') });
    const url = new URL(req.url ?? '/', 'http://localhost');
    const reply = await handler(ctx, req, res, url);
    if (reply && !res.destroyed) send(res, reply);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (err: NodeJS.ErrnoException) => {
    await fs.rm(tempRoot, { recursive: true, force: true });
    await engine.dispose();
    const what = err.code === 'EADDRINUSE' ? 'is in use; choose another port with --listen HOST:PORT' : err.code === 'EACCES' ? 'needs privileges; use a port above 1023' : `failed (${err.message})`;
    throw new EngineError('badInput', `Listening on ${o.host}:${o.port} ${what}.`);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  const close = () => (closing ??= (async () => {
    server.close();
    server.closeIdleConnections();
    // Queued requests get 503, the running job stops before its next step.
    await queue.shutdown();
    // Let the handlers send those answers, then cut what is left (keep-alive sockets, slow uploads).
    if (inFlight > 0) await new Promise<void>((r) => { idle = r; setTimeout(r, 5000).unref(); });
    server.closeAllConnections();
    await engine.dispose();
    await fs.rm(tempRoot, { recursive: true, force: true });
  })());

  return { url: `http://${host}:${address.port}`, port: address.port, queue, tempRoot, close };
}

/** CORS headers when --cors-origin allows the request's origin; true for a preflight to answer. */
function cors(req: http.IncomingMessage, res: http.ServerResponse, allowed: string | undefined): boolean {
  if (!allowed) return false;
  const origin = req.headers.origin;
  if (!origin || (allowed !== '*' && origin !== allowed)) return false;
  res.setHeader('Access-Control-Allow-Origin', allowed === '*' ? '*' : origin);
  res.setHeader('Vary', 'Origin');
  // Basic auth from a page needs credentials allowed, which browsers refuse with "*".
  if (allowed !== '*') res.setHeader('Access-Control-Allow-Credentials', 'true');
  if (req.method !== 'OPTIONS') return false;
  res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
  res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type');
  res.setHeader('Access-Control-Max-Age', '600');
  return true;
}

function safePathname(url: string | undefined): string {
  try {
    return new URL(url ?? '/', 'http://localhost').pathname;
  } catch {
    return '/';
  }
}

function send(res: http.ServerResponse, reply: Reply): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
  if (reply.body === undefined) {
    res.writeHead(reply.status).end();
    return;
  }
  const json = JSON.stringify(reply.body);
  res.writeHead(reply.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) }).end(json);
}

function sendError(res: http.ServerResponse, err: unknown, log: (line: string) => void): void {
  if (res.destroyed) return;
  if (err instanceof HttpError) {
    send(res, { status: err.status, body: err.body, headers: err.headers });
    return;
  }
  log(`internal error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  send(res, { status: 500, body: a1111Error(500, 'Internal server error; the server\'s log says why.').body });
}

/**
 * The request body as JSON. Larger than `max` bytes: 413 at once, the rest read and dropped for
 * 2 s at most. Not JSON: FastAPI's 422 for an invalid body.
 */
function readJson(req: http.IncomingMessage, max: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let done = false;
    const tooLarge = () => {
      done = true;
      // The rest is read and dropped for a while, so the client sees the 413 rather than a
      // broken pipe; a client still sending after that loses the connection.
      req.resume();
      setTimeout(() => {
        if (!req.complete) req.socket.destroy();
      }, 2000).unref();
      reject(a1111Error(413, `The request body is larger than ${max / 2 ** 20} MiB; send smaller images.`));
    };
    if (Number(req.headers['content-length'] ?? NaN) > max) {
      tooLarge();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > max) {
        chunks.length = 0;
        tooLarge();
      } else chunks.push(chunk);
    });
    req.on('error', (err) => {
      if (!done) reject(err);
      done = true;
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      try {
        resolve(parseJson(Buffer.concat(chunks).toString('utf8')));
      } catch (err) {
        reject(err);
      }
    });
  });
}

function parseJson(text: string): unknown {
  if (text.trim() === '') throw new HttpError(422, { detail: [{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }] });
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(422, {
      detail: [{ type: 'json_invalid', loc: ['body', 0], msg: 'JSON decode error', input: {}, ctx: { error: err instanceof Error ? err.message : 'Invalid JSON' } }],
    });
  }
}
