// A small SwarmUI on 127.0.0.1 following its docs/API.md for the routes the backend uses:
// POST /API/GetNewSession, /API/ListModels, /API/GenerateText2Image (parameters at the top level;
// answers {images: ["View/local/raw/..."]}), /API/InterruptAll, and GET /View/... for the image.
// Errors come as status 200 with `error` or `error_id` (invalid_session_id), as SwarmUI sends them.
// With `token` set it requires the `swarm_user_token` cookie, as a Swarm with accounts does.

import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';

export interface FakeSwarmui {
  url: string;
  requests: Record<string, unknown>[];
  interrupts: number;
  /** Sessions handed out; `expireSessions()` makes them invalid. */
  sessions: Set<string>;
  expireSessions(): void;
  token?: string;
  runMs: number;
  /** Answer GenerateText2Image with data: URLs instead of View paths. */
  dataUrls: boolean;
  close(): Promise<void>;
}

export const SWARM_MODELS = ['OfficialStableDiffusion/v1-5-pruned-emaonly.safetensors', 'Other/anything-v3.safetensors'];

export async function startFakeSwarmui(): Promise<FakeSwarmui> {
  const files = new Map<string, Buffer>();
  let n = 0;
  const send = (res: http.ServerResponse, body: unknown) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (fake.token && !(req.headers.cookie ?? '').split(/;\s*/).includes(`swarm_user_token=${fake.token}`)) {
      return send(res, { error: 'You are not logged in. Please log in first.' });
    }
    if (req.method === 'GET' && url.pathname.startsWith('/View/')) {
      const file = files.get(decodeURIComponent(url.pathname.slice(1)));
      if (!file) {
        res.writeHead(404);
        return res.end();
      }
      res.writeHead(200, { 'Content-Type': 'image/png' });
      return res.end(file);
    }
    const parts: Buffer[] = [];
    for await (const c of req) parts.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(parts).toString('utf8') || '{}') as Record<string, unknown>;
    if (url.pathname === '/API/GetNewSession') {
      const id = `S${++n}ABCDEF`;
      fake.sessions.add(id);
      return send(res, { session_id: id, user_id: 'local', output_append_user: true, version: '0.9.5', server_id: 'x', permissions: ['*'] });
    }
    if (!fake.sessions.has(String(body.session_id))) return send(res, { error_id: 'invalid_session_id' });
    if (url.pathname === '/API/ListModels') {
      return send(res, { folders: ['OfficialStableDiffusion', 'Other'], files: SWARM_MODELS.map((name) => ({ name, title: name, architecture: 'stable-diffusion-v1', local: true })) });
    }
    if (url.pathname === '/API/InterruptAll') {
      fake.interrupts++;
      return send(res, { success: true });
    }
    if (url.pathname === '/API/GenerateText2Image') {
      fake.requests.push(body);
      if (!SWARM_MODELS.includes(String(body.model))) return send(res, { error: `Invalid model name "${String(body.model)}".` });
      await new Promise((r) => setTimeout(r, fake.runMs));
      const png = await sharp({ create: { width: Number(body.width), height: Number(body.height), channels: 3, background: '#a63' } }).png().toBuffer();
      if (fake.dataUrls) return send(res, { images: [`data:image/png;base64,${png.toString('base64')}`] });
      const name = `View/local/raw/2026-12-07/${++n}-${String(body.prompt)}-${String(body.seed)}.png`;
      files.set(name, png);
      return send(res, { images: [name] });
    }
    send(res, { error: 'Unknown API route.' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const fake: FakeSwarmui = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: [],
    interrupts: 0,
    sessions: new Set(),
    expireSessions: () => fake.sessions.clear(),
    runMs: 20,
    dataUrls: false,
    close: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
  return fake;
}
