// A real HTTP server on 127.0.0.1 that behaves like ModelScope's API for the two calls our client
// makes (the shapes of modelscope's own SDK, hub/api.py and hub/file_download.py):
//
//   GET /api/v1/models/{owner}/{name}/repo/files?Revision={rev}&Recursive=true
//       -> {Code: 200, Success: true, Message, RequestId, Data: {Files: [{Type: 'tree'|'blob',
//           Name, Path, Size, Sha256, Revision}]}}; an unknown repo: HTTP 404 with Code/Message
//   GET /api/v1/models/{owner}/{name}/repo?Revision={rev}&FilePath={path}
//       -> the bytes (Range: bytes=N- answered 206), or with `redirectFiles` a 302 to a second
//          server on another port (object storage) that sends them
//
// Switches (`faults`): cut a file after N bytes, flip a byte, answer a status, leave Sha256 out
// of the list, list a wrong Sha256, redirect files to a host the client must refuse. `requests`
// logs every request with its Range and Authorization.

import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import * as path from 'node:path';

export interface MsRepo {
  repo: string;
  dir: string;
  /** Default master. */
  branch?: string;
  /** Files of `dir` the server does not have (a repo missing a file). */
  without?: string[];
}

interface Times {
  times?: number;
}

export interface MsFaults {
  drop?: { path: string; bytes: number } & Times;
  corrupt?: { path: string } & Times;
  status?: { code: number; on: 'files' | 'file'; path?: string; body?: string } & Times;
  /** Files listed without a Sha256. */
  noSha256?: string[];
  /** Files listed with this (wrong) Sha256. */
  wrongSha256?: string[];
  /** File downloads redirect to the storage server (on 127.0.0.1, another port). */
  redirectFiles?: boolean;
  /** File downloads redirect to this URL prefix instead (a host the client should refuse). */
  redirectFilesTo?: string;
}

export interface MsRequest {
  server: 'api' | 'storage';
  url: string;
  range?: string;
  authorization?: string;
}

interface Served {
  path: string;
  data: Buffer;
  sha256: string;
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

function take(t: Times | undefined): boolean {
  if (!t) return false;
  if (t.times === undefined) return true;
  if (t.times <= 0) return false;
  t.times--;
  return true;
}

export class ModelScopeServer {
  faults: MsFaults = {};
  readonly requests: MsRequest[] = [];
  readonly bytesServed = new Map<string, number>();
  endpoint = '';
  storageEndpoint = '';
  private readonly sockets = new Set<Socket>();
  private api!: http.Server;
  private storage!: http.Server;

  private constructor(private readonly repos: Map<string, { spec: MsRepo; files: Served[] }>) {}

  static async start(repos: MsRepo[]): Promise<ModelScopeServer> {
    const map = new Map<string, { spec: MsRepo; files: Served[] }>();
    for (const spec of repos) {
      const files: Served[] = [];
      for (const p of await readTree(spec.dir)) {
        if (spec.without?.includes(p)) continue;
        const data = await fs.readFile(path.join(spec.dir, ...p.split('/')));
        files.push({ path: p, data, sha256: createHash('sha256').update(data).digest('hex') });
      }
      map.set(spec.repo, { spec, files });
    }
    const s = new ModelScopeServer(map);
    s.api = http.createServer((req, res) => void s.onApi(req, res).catch((err) => s.fail(res, err)));
    s.storage = http.createServer((req, res) => void s.onStorage(req, res).catch((err) => s.fail(res, err)));
    for (const srv of [s.api, s.storage]) {
      srv.on('connection', (sock: Socket) => {
        s.sockets.add(sock);
        sock.on('close', () => s.sockets.delete(sock));
      });
      await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    }
    s.endpoint = `http://127.0.0.1:${(s.api.address() as AddressInfo).port}`;
    s.storageEndpoint = `http://127.0.0.1:${(s.storage.address() as AddressInfo).port}`;
    return s;
  }

  file(repo: string, p: string): Served {
    const f = this.repos.get(repo)?.files.find((x) => x.path === p);
    if (!f) throw new Error(`modelscopeServer: no ${p} in ${repo}`);
    return f;
  }

  served(p: string): number {
    return this.bytesServed.get(p) ?? 0;
  }

  async close(): Promise<void> {
    for (const sock of this.sockets) sock.destroy();
    await Promise.all([this.api, this.storage].map((srv) => new Promise<void>((resolve) => srv.close(() => resolve()))));
  }

  private fail(res: http.ServerResponse, err: unknown): void {
    if (!res.headersSent) {
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(String(err));
    } else {
      res.destroy();
    }
  }

  private json(res: http.ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  /** ModelScope's error shape: HTTP status plus a JSON body with its own Code and Message. */
  private error(res: http.ServerResponse, status: number, message: string, body?: string): void {
    if (body !== undefined) {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(body);
      return;
    }
    this.json(res, status, { Code: status === 404 ? 10010205001 : status, Message: message, RequestId: 'req-test', Success: false });
  }

  private log(server: 'api' | 'storage', req: http.IncomingMessage): void {
    this.requests.push({ server, url: req.url ?? '', range: req.headers.range, authorization: req.headers.authorization });
  }

  private async onApi(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.log('api', req);
    const url = new URL(req.url ?? '/', this.endpoint);
    const m = /^\/api\/v1\/models\/([^/]+\/[^/]+)\/repo(\/files)?$/.exec(url.pathname);
    if (!m) return this.error(res, 404, 'no such route');
    const [, repoName, list] = m;
    const revision = url.searchParams.get('Revision') ?? 'master';
    const st = this.faults.status;
    if (st && st.on === (list ? 'files' : 'file') && (!st.path || st.path === url.searchParams.get('FilePath')) && take(st)) {
      return this.error(res, st.code, `HTTP ${st.code} (test fault)`, st.body);
    }
    const repo = this.repos.get(repoName);
    if (!repo) return this.error(res, 404, `model ${repoName} not exist`);
    if (revision !== (repo.spec.branch ?? 'master')) return this.error(res, 404, `revision ${revision} not exist`);
    if (list) {
      if (url.searchParams.get('Recursive') !== 'true') return this.error(res, 400, 'test server: the client must ask Recursive=true');
      const dirs = new Set<string>();
      for (const f of repo.files) {
        const parts = f.path.split('/');
        for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
      }
      const files = [
        ...[...dirs].sort().map((d) => ({ Type: 'tree', Name: path.posix.basename(d), Path: d, Size: 0, Revision: revision })),
        ...repo.files.map((f) => {
          const entry: Record<string, unknown> = { Type: 'blob', Name: path.posix.basename(f.path), Path: f.path, Size: f.data.length, Revision: revision, IsLFS: f.data.length > 10000 };
          if (this.faults.wrongSha256?.includes(f.path)) entry.Sha256 = 'ab'.repeat(32);
          else if (!this.faults.noSha256?.includes(f.path)) entry.Sha256 = f.sha256;
          return entry;
        }),
      ];
      return this.json(res, 200, { Code: 200, Data: { Files: files }, Message: 'success', RequestId: 'req-test', Success: true });
    }
    const p = url.searchParams.get('FilePath') ?? '';
    const file = repo.files.find((f) => f.path === p);
    if (!file) return this.error(res, 404, `file ${p} not exist`);
    const to = this.faults.redirectFilesTo ?? (this.faults.redirectFiles ? this.storageEndpoint : undefined);
    if (to) {
      res.writeHead(302, { Location: `${to}/objects/${file.sha256}?Expires=1&Signature=test` });
      res.end();
      return;
    }
    await this.send(req, res, file);
  }

  private async onStorage(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.log('storage', req);
    const m = /^\/objects\/([0-9a-f]{64})$/.exec(new URL(req.url ?? '/', this.storageEndpoint).pathname);
    const file = m ? [...this.repos.values()].flatMap((r) => r.files).find((f) => f.sha256 === m[1]) : undefined;
    if (!file) return this.error(res, 404, 'NoSuchKey');
    await this.send(req, res, file);
  }

  private async send(req: http.IncomingMessage, res: http.ServerResponse, file: Served): Promise<void> {
    const size = file.data.length;
    let start = 0;
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      start = Number(range[1]);
      if (start >= size) {
        res.writeHead(416, { 'Content-Range': `bytes */${size}` });
        res.end();
        return;
      }
      status = 206;
    }
    const headers: http.OutgoingHttpHeaders = { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size - start), 'Accept-Ranges': 'bytes' };
    if (status === 206) headers['Content-Range'] = `bytes ${start}-${size - 1}/${size}`;
    res.writeHead(status, headers);
    let body = file.data.subarray(start);
    if (this.faults.corrupt?.path === file.path && take(this.faults.corrupt) && body.length > 0) {
      body = Buffer.from(body);
      body[body.length - 1] ^= 0xff;
    }
    let cutAt = Infinity;
    if (this.faults.drop?.path === file.path && take(this.faults.drop)) cutAt = Math.max(0, this.faults.drop.bytes - start);
    const CHUNK = 16 << 10;
    for (let off = 0; off < body.length && off < cutAt; off += CHUNK) {
      if (res.destroyed) return;
      const piece = body.subarray(off, Math.min(off + CHUNK, body.length, cutAt));
      await new Promise<void>((resolve) => res.write(piece, () => resolve()));
      this.bytesServed.set(file.path, this.served(file.path) + piece.length);
    }
    if (cutAt !== Infinity) {
      res.destroy();
      return;
    }
    res.end();
  }
}
