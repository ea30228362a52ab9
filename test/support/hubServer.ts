// A real HTTP server on 127.0.0.1 that behaves like the Hugging Face hub for the parts our client
// uses, plus a second server on another port playing the CDN that LFS files redirect to.
//
//   hub  GET /api/models/{owner}/{name}/revision/{rev}          -> { sha }
//        GET /api/models/{owner}/{name}/tree/{rev}?recursive=true -> [{type, path, size, oid, lfs?}]
//                                                (paged: Link: <...&cursor=N>; rel="next")
//        GET /{owner}/{name}/resolve/{rev}/{path}  LFS file: 302 to the CDN with X-Linked-Etag (sha256)
//                                                  small file: the bytes, ETag = git blob id
//   cdn  GET /blobs/{sha256}                       the bytes, with Range support
//   other  a third origin (another port) that answers the tree API like the hub, with relative
//          Link headers, and requires no token: where a hostile hub sends pages to collect tokens
//
// Switches (set `server.faults`): drop the connection mid-file, flip a byte, answer 401/404/5xx,
// stall, redirect in a loop, ignore Range, go slowly; and hostile ones: page or redirect the file
// list to the other origin, page forever, send an endless list, add raw tree entries, send more
// than the listed size, trickle a byte at a time, put control characters or the request's own
// Authorization header into an error body. `stats` counts the body bytes each file sent.

import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import * as path from 'node:path';

export interface HubRepo {
  /** owner/name */
  repo: string;
  /** Folder whose files the repo holds. */
  dir: string;
  /** Branch name the repo answers to (besides its commit sha). Default main. */
  branch?: string;
  /** 40-hex commit; default derived from the repo name. */
  commit?: string;
}

export interface Times {
  /** How many more requests the fault applies to (default: forever). */
  times?: number;
}

export interface HubFaults {
  /** Send `bytes` bytes of the file's body, then destroy the connection. */
  drop?: { path: string; bytes: number } & Times;
  /** Flip the first byte of the body sent for `path`. */
  corrupt?: { path: string } & Times;
  /** Answer with this status. `on`: which request (default any resolve of `path`, or all requests). */
  status?: { code: number; errorCode?: string; on?: 'tree' | 'revision' | 'resolve' | 'all'; path?: string } & Times;
  /** Send `afterBytes` bytes of `path`, then keep the connection open and silent. */
  stall?: { path: string; afterBytes: number } & Times;
  /** The CDN redirects back to the hub, forever. */
  redirectLoop?: boolean;
  /** Answer Range requests with the whole file (200), as some proxies do. */
  ignoreRange?: boolean;
  /** Send bodies in chunks of `chunkBytes` with a pause between them. */
  throttle?: { chunkBytes: number; delayMs: number };
  /** Error body for `status` faults: a string, or 'echo-authorization' to send the request's Authorization back. */
  statusBody?: string;
  /** The hub's tree pages link their next page on the other origin (absolute URLs). */
  paginateToOther?: boolean;
  /** The hub answers the tree request with a 302 to the same path on the other origin. */
  redirectTreeToOther?: boolean;
  /** Every tree page links a next page, forever. */
  endlessPages?: boolean;
  /** The tree reply is a JSON array that never ends. */
  endlessTree?: boolean;
  /** Raw entries added to the tree listing (after the real ones). */
  treeExtra?: unknown[];
  /** After the real bytes of `path`, keep sending `extraBytes` more (Infinity: until the client hangs up); no Content-Length. */
  oversize?: { path: string; extraBytes: number } & Times;
  /** Send the tree or the file `path` one byte every `intervalMs`. */
  trickle?: { on: 'tree' | string; intervalMs: number } & Times;
}

interface ServedFile {
  path: string;
  data: Buffer;
  sha256: string;
  gitOid: string;
  lfs: boolean;
}

export type ServerName = 'hub' | 'cdn' | 'other';

export interface RequestLog {
  server: ServerName;
  url: string;
  range?: string;
  authorization?: string;
}

const CHUNK = 16 << 10;

function isLfs(p: string, size: number): boolean {
  return /\.(onnx|pb|onnx_data|bin|safetensors)$/.test(p) || size > 10_000_000;
}

async function readTree(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await readTree(dir, r)));
    else if (e.isFile()) out.push(r);
  }
  return out.sort();
}

/** Resolves when `res` can take more, or is gone. */
function drained(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function take(t: Times | undefined): boolean {
  if (!t) return false;
  if (t.times === undefined) return true;
  if (t.times <= 0) return false;
  t.times--;
  return true;
}

export class HubServer {
  faults: HubFaults = {};
  /** When set, every hub request needs `Authorization: Bearer <token>` (a gated repo). */
  requireToken?: string;
  /** Tree entries per page (pagination through Link headers). */
  pageSize = 3;
  readonly requests: RequestLog[] = [];
  /** Body bytes written per repo file path (all requests, hub and CDN). */
  readonly bytesServed = new Map<string, number>();
  private readonly sockets = new Set<Socket>();
  private hub!: http.Server;
  private cdn!: http.Server;
  private other!: http.Server;
  endpoint = '';
  cdnEndpoint = '';
  otherEndpoint = '';

  private constructor(private readonly repos: Map<string, { spec: HubRepo; commit: string; files: ServedFile[] }>) {}

  /** `tls`: serve hub and CDN over https with this key and certificate (for proxy/TLS tests). */
  static async start(repos: HubRepo[], opts: { tls?: { key: string; cert: string } } = {}): Promise<HubServer> {
    const map = new Map<string, { spec: HubRepo; commit: string; files: ServedFile[] }>();
    for (const spec of repos) {
      const files: ServedFile[] = [];
      for (const p of await readTree(spec.dir)) {
        const data = await fs.readFile(path.join(spec.dir, ...p.split('/')));
        files.push({
          path: p,
          data,
          sha256: createHash('sha256').update(data).digest('hex'),
          gitOid: createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex'),
          lfs: isLfs(p, data.length),
        });
      }
      const commit = spec.commit ?? createHash('sha1').update(spec.repo).digest('hex');
      map.set(spec.repo, { spec, commit, files });
    }
    const s = new HubServer(map);
    const create = (handler: http.RequestListener): http.Server => (opts.tls ? https.createServer(opts.tls, handler) : http.createServer(handler));
    s.hub = create((req, res) => void s.onHub(req, res, 'hub').catch((err) => s.fail(res, err)));
    s.cdn = create((req, res) => void s.onCdn(req, res).catch((err) => s.fail(res, err)));
    s.other = create((req, res) => void s.onHub(req, res, 'other').catch((err) => s.fail(res, err)));
    for (const srv of [s.hub, s.cdn, s.other]) {
      srv.on(opts.tls ? 'secureConnection' : 'connection', (sock: Socket) => {
        s.sockets.add(sock);
        sock.on('close', () => s.sockets.delete(sock));
      });
      await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    }
    const scheme = opts.tls ? 'https' : 'http';
    s.endpoint = `${scheme}://127.0.0.1:${(s.hub.address() as AddressInfo).port}`;
    s.cdnEndpoint = `${scheme}://127.0.0.1:${(s.cdn.address() as AddressInfo).port}`;
    s.otherEndpoint = `${scheme}://127.0.0.1:${(s.other.address() as AddressInfo).port}`;
    return s;
  }

  /** sha256 / size / git id the hub announces for a file (for assertions). */
  file(repo: string, p: string): ServedFile {
    const f = this.repos.get(repo)?.files.find((x) => x.path === p);
    if (!f) throw new Error(`hubServer: no ${p} in ${repo}`);
    return f;
  }

  commitOf(repo: string): string {
    const r = this.repos.get(repo);
    if (!r) throw new Error(`hubServer: no repo ${repo}`);
    return r.commit;
  }

  served(p: string): number {
    return this.bytesServed.get(p) ?? 0;
  }

  totalServed(): number {
    let n = 0;
    for (const v of this.bytesServed.values()) n += v;
    return n;
  }

  resetStats(): void {
    this.bytesServed.clear();
    this.requests.length = 0;
  }

  async close(): Promise<void> {
    for (const sock of this.sockets) sock.destroy();
    await Promise.all([this.hub, this.cdn, this.other].map((srv) => new Promise<void>((resolve) => srv.close(() => resolve()))));
  }

  private fail(res: http.ServerResponse, err: unknown): void {
    if (!res.headersSent) {
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(String(err));
    } else {
      res.destroy();
    }
  }

  private log(server: ServerName, req: http.IncomingMessage): void {
    this.requests.push({ server, url: req.url ?? '', range: req.headers.range, authorization: req.headers.authorization });
  }

  private error(res: http.ServerResponse, code: number, errorCode?: string, message = '', body?: string): void {
    const headers: http.OutgoingHttpHeaders = { 'Content-Type': 'application/json' };
    if (errorCode) headers['X-Error-Code'] = errorCode;
    if (message) headers['X-Error-Message'] = message;
    res.writeHead(code, headers);
    res.end(body ?? JSON.stringify({ error: message || `HTTP ${code}` }));
  }

  /** The body a status fault sends: the configured text, or the request's own Authorization. */
  private statusBody(req: http.IncomingMessage): string | undefined {
    const b = this.faults.statusBody;
    return b === 'echo-authorization' ? `bad request (you sent: ${req.headers.authorization ?? 'nothing'})` : b;
  }

  /** Writes `body` one byte every `intervalMs` until it is done or the client hangs up. */
  private async trickle(res: http.ServerResponse, body: Buffer, intervalMs: number, served?: string): Promise<void> {
    for (let i = 0; i < body.length && !res.destroyed; i++) {
      await new Promise<void>((resolve) => res.write(body.subarray(i, i + 1), () => resolve()));
      if (served) this.bytesServed.set(served, this.served(served) + 1);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
    if (!res.destroyed) res.end();
  }

  /** A JSON array that never ends (bounded at 1 GiB so a broken client cannot hang the test run forever). */
  private async endlessTree(res: http.ServerResponse): Promise<void> {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const entry = Buffer.from(`${JSON.stringify({ type: 'directory', path: 'x'.repeat(200), oid: '0'.repeat(40), size: 0 })},`);
    const chunk = Buffer.concat([Buffer.from('['), ...Array.from({ length: 256 }, () => entry)]);
    for (let sent = 0; sent < 1 << 30 && !res.destroyed; sent += chunk.length) {
      if (!res.write(chunk)) await drained(res);
    }
    res.destroy();
  }

  private statusFault(on: 'tree' | 'revision' | 'resolve', p?: string): HubFaults['status'] | undefined {
    const f = this.faults.status;
    if (!f) return undefined;
    const where = f.on ?? (f.path ? 'resolve' : 'all');
    if (where !== 'all' && where !== on) return undefined;
    if (f.path && f.path !== p) return undefined;
    return take(f) ? f : undefined;
  }

  private async onHub(req: http.IncomingMessage, res: http.ServerResponse, server: 'hub' | 'other'): Promise<void> {
    this.log(server, req);
    const base = server === 'hub' ? this.endpoint : this.otherEndpoint;
    const url = new URL(req.url ?? '/', base);
    if (server === 'hub' && this.requireToken && req.headers.authorization !== `Bearer ${this.requireToken}`) {
      return this.error(res, 401, 'GatedRepo', 'Access to this model is restricted. You must have access to it and be authenticated.');
    }
    let m = /^\/api\/models\/([^/]+\/[^/]+)\/(revision|tree)\/([^/]+)$/.exec(url.pathname);
    if (m) {
      const [, repoName, kind, revRaw] = m;
      const sf = this.statusFault(kind as 'tree' | 'revision');
      if (sf) return this.error(res, sf.code, sf.errorCode, '', this.statusBody(req));
      if (kind === 'tree' && server === 'hub' && this.faults.redirectTreeToOther) {
        res.writeHead(302, { Location: `${this.otherEndpoint}${url.pathname}${url.search}` });
        res.end();
        return;
      }
      if (kind === 'tree' && this.faults.endlessTree) return this.endlessTree(res);
      const repo = this.repos.get(repoName);
      if (!repo) return this.error(res, 401, 'RepoNotFound', 'Repository not found');
      const rev = decodeURIComponent(revRaw);
      if (rev !== (repo.spec.branch ?? 'main') && rev !== repo.commit) return this.error(res, 404, 'RevisionNotFound', 'Invalid rev id');
      if (kind === 'revision') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ id: repoName, sha: repo.commit }));
        return;
      }
      // The tree lists directories too; directories come first, like the hub's.
      const dirs = new Set<string>();
      for (const f of repo.files) {
        const parts = f.path.split('/');
        for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
      }
      const entries: unknown[] = [
        ...[...dirs].sort().map((d) => ({ type: 'directory', path: d, oid: createHash('sha1').update(d).digest('hex'), size: 0 })),
        ...repo.files.map((f) =>
          f.lfs
            ? { type: 'file', path: f.path, size: f.data.length, oid: f.gitOid, lfs: { oid: f.sha256, size: f.data.length, pointerSize: 134 } }
            : { type: 'file', path: f.path, size: f.data.length, oid: f.gitOid },
        ),
        ...(this.faults.treeExtra ?? []),
      ];
      const cursor = Number(url.searchParams.get('cursor') ?? '0') % entries.length;
      const page = entries.slice(cursor, cursor + this.pageSize);
      const headers: http.OutgoingHttpHeaders = { 'Content-Type': 'application/json' };
      if (cursor + this.pageSize < entries.length || this.faults.endlessPages) {
        // The other origin links relatively (resolved against itself); the hub absolutely, on
        // the other origin when told to.
        const next = new URL(url.pathname + url.search, server === 'hub' && this.faults.paginateToOther ? this.otherEndpoint : base);
        next.searchParams.set('cursor', String(cursor + this.pageSize));
        headers.Link = server === 'other' ? `<${next.pathname}${next.search}>; rel="next"` : `<${next.href}>; rel="next"`;
      }
      const trickle = this.faults.trickle;
      if (kind === 'tree' && trickle?.on === 'tree' && take(trickle)) {
        res.writeHead(200, headers);
        return this.trickle(res, Buffer.from(JSON.stringify(page)), trickle.intervalMs);
      }
      res.writeHead(200, headers);
      res.end(JSON.stringify(page));
      return;
    }
    m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (!m) return this.error(res, 404, undefined, 'no such route');
    const [, repoName, revRaw, pathRaw] = m;
    const p = pathRaw.split('/').map(decodeURIComponent).join('/');
    const sf = this.statusFault('resolve', p);
    if (sf) return this.error(res, sf.code, sf.errorCode, '', this.statusBody(req));
    const repo = this.repos.get(repoName);
    if (!repo) return this.error(res, 401, 'RepoNotFound', 'Repository not found');
    const rev = decodeURIComponent(revRaw);
    if (rev !== (repo.spec.branch ?? 'main') && rev !== repo.commit) return this.error(res, 404, 'RevisionNotFound', 'Invalid rev id');
    const file = repo.files.find((f) => f.path === p);
    if (!file) return this.error(res, 404, 'EntryNotFound', `${p} does not exist`);
    if (file.lfs) {
      res.writeHead(302, {
        Location: `${this.cdnEndpoint}/blobs/${file.sha256}?repo=${encodeURIComponent(repoName)}&path=${encodeURIComponent(p)}`,
        'X-Linked-Etag': `"${file.sha256}"`,
        'X-Linked-Size': String(file.data.length),
        'X-Repo-Commit': repo.commit,
        ETag: `"${file.gitOid}"`,
      });
      res.end();
      return;
    }
    await this.sendFile(req, res, file, { ETag: `"${file.gitOid}"`, 'X-Repo-Commit': repo.commit });
  }

  private async onCdn(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.log('cdn', req);
    const url = new URL(req.url ?? '/', this.cdnEndpoint);
    if (this.faults.redirectLoop) {
      const repoName = url.searchParams.get('repo') ?? '';
      const p = url.searchParams.get('path') ?? '';
      res.writeHead(302, { Location: `${this.endpoint}/${repoName}/resolve/main/${p}` });
      res.end();
      return;
    }
    const m = /^\/blobs\/([0-9a-f]{64})$/.exec(url.pathname);
    const file = m ? [...this.repos.values()].flatMap((r) => r.files).find((f) => f.sha256 === m[1]) : undefined;
    if (!file) return this.error(res, 404, undefined, 'no such blob');
    await this.sendFile(req, res, file, { ETag: `"cdn-${file.sha256.slice(0, 8)}"` });
  }

  private async sendFile(req: http.IncomingMessage, res: http.ServerResponse, file: ServedFile, extra: http.OutgoingHttpHeaders): Promise<void> {
    const size = file.data.length;
    let start = 0;
    let end = size - 1;
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range && !this.faults.ignoreRange) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start >= size) {
        res.writeHead(416, { 'Content-Range': `bytes */${size}` });
        res.end();
        return;
      }
      status = 206;
    }
    const headers: http.OutgoingHttpHeaders = { ...extra, 'Content-Type': 'application/octet-stream', 'Content-Length': String(end - start + 1), 'Accept-Ranges': 'bytes' };
    if (status === 206) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    const oversize = this.faults.oversize?.path === file.path && take(this.faults.oversize) ? this.faults.oversize : undefined;
    if (oversize) delete headers['Content-Length']; // chunked: the body alone says how long it is
    res.writeHead(status, headers);
    const trickle = this.faults.trickle?.on === file.path && take(this.faults.trickle) ? this.faults.trickle : undefined;
    if (trickle) return this.trickle(res, file.data.subarray(start, end + 1), trickle.intervalMs, file.path);

    let body = file.data.subarray(start, end + 1);
    if (this.faults.corrupt?.path === file.path && take(this.faults.corrupt) && body.length > 0) {
      body = Buffer.from(body);
      body[0] ^= 0xff;
    }
    let cutAt = Infinity;
    let cut: 'drop' | 'stall' | undefined;
    if (this.faults.drop?.path === file.path && take(this.faults.drop)) {
      cutAt = Math.max(0, this.faults.drop.bytes - start);
      cut = 'drop';
    } else if (this.faults.stall?.path === file.path && take(this.faults.stall)) {
      cutAt = Math.max(0, this.faults.stall.afterBytes - start);
      cut = 'stall';
    }
    const chunk = this.faults.throttle?.chunkBytes ?? CHUNK;
    for (let off = 0; off < body.length; off += chunk) {
      if (off >= cutAt) break;
      const piece = body.subarray(off, Math.min(off + chunk, body.length, cutAt));
      if (res.destroyed) return;
      await new Promise<void>((resolve) => res.write(piece, () => resolve()));
      this.bytesServed.set(file.path, this.served(file.path) + piece.length);
      if (this.faults.throttle) await new Promise((r) => setTimeout(r, this.faults.throttle?.delayMs ?? 0));
    }
    if (cut === 'drop') {
      res.destroy();
      return;
    }
    if (cut === 'stall') return; // silent until the client gives up (or close() destroys it)
    if (oversize) await this.sendExtra(res, file.path, oversize.extraBytes);
    if (!res.destroyed) res.end();
  }

  /** Bytes past the end of a file (bounded at 1 GiB when endless). */
  private async sendExtra(res: http.ServerResponse, p: string, extraBytes: number): Promise<void> {
    const junk = Buffer.alloc(CHUNK, 0x5a);
    const limit = Math.min(extraBytes, 1 << 30);
    for (let sent = 0; sent < limit && !res.destroyed; sent += junk.length) {
      const piece = junk.subarray(0, Math.min(junk.length, limit - sent));
      await new Promise<void>((resolve) => res.write(piece, () => resolve()));
      this.bytesServed.set(p, this.served(p) + piece.length);
    }
  }
}
