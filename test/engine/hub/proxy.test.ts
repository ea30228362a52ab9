// Proxies: https through an HTTP CONNECT tunnel (Node 20's fetch cannot do this), plain http in
// absolute form, proxy logins, NO_PROXY, and an untrusted TLS certificate. All on loopback.

import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { HubServer } from '../../support/hubServer';
import { bypassesProxy, proxyFor } from '../../../src/engine/hub/http';
import { REPO, fixtureDir, pull, rejection, startHub, tempStore } from './helpers';
import { TEST_CERT, TEST_KEY } from './tlsCert';

interface TestProxy {
  url: string;
  connects: string[];
  forwards: string[];
  close(): Promise<void>;
}

async function startProxy(login?: string): Promise<TestProxy> {
  const sockets = new Set<net.Socket>();
  const connects: string[] = [];
  const forwards: string[] = [];
  const authorised = (req: http.IncomingMessage): boolean =>
    !login || req.headers['proxy-authorization'] === `Basic ${Buffer.from(login).toString('base64')}`;
  const server = http.createServer((req, res) => {
    if (!authorised(req)) {
      res.writeHead(407, { 'Proxy-Authenticate': 'Basic' });
      res.end();
      return;
    }
    forwards.push(req.url ?? '');
    const target = new URL(req.url ?? '');
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const up = http.request({ host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    sockets.add(client);
    if (!authorised(req)) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n');
      return;
    }
    connects.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  server.on('connection', (s) => sockets.add(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connects,
    forwards,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('models: proxies and TLS', function () {
  let store: string;
  beforeEach(async () => {
    store = await tempStore();
  });
  afterEach(async () => {
    await fs.rm(store, { recursive: true, force: true });
  });

  it('https hub and CDN through a CONNECT proxy with a login', async () => {
    const hub = await HubServer.start([{ repo: REPO, dir: await fixtureDir() }], { tls: { key: TEST_KEY, cert: TEST_CERT } });
    const proxy = await startProxy('user:p@ss');
    try {
      const proxyUrl = proxy.url.replace('http://', 'http://user:p%40ss@');
      const r = await pull(hub, store, { hubOptions: { ca: TEST_CERT, env: { HTTPS_PROXY: proxyUrl } } });
      assert.equal(r.model.commit, hub.commitOf(REPO));
      const hubHost = new URL(hub.endpoint).host;
      const cdnHost = new URL(hub.cdnEndpoint).host;
      assert.ok(proxy.connects.includes(hubHost), 'the hub was not reached through the tunnel');
      assert.ok(proxy.connects.includes(cdnHost), 'the CDN was not reached through the tunnel');
      assert.deepEqual(proxy.forwards, []);
    } finally {
      await proxy.close();
      await hub.close();
    }
  });

  it('a proxy login that is missing is explained (HTTP 407)', async () => {
    const hub = await HubServer.start([{ repo: REPO, dir: await fixtureDir() }], { tls: { key: TEST_KEY, cert: TEST_CERT } });
    const proxy = await startProxy('user:secret');
    try {
      const err = await rejection(() => pull(hub, store, { hubOptions: { ca: TEST_CERT, env: { HTTPS_PROXY: proxy.url } } }));
      assert.equal(err.code, 'unauthorized');
      assert.match(err.message, /proxy .* wants a login \(HTTP 407\)/);
    } finally {
      await proxy.close();
      await hub.close();
    }
  });

  it('an untrusted certificate names NODE_EXTRA_CA_CERTS', async () => {
    const hub = await HubServer.start([{ repo: REPO, dir: await fixtureDir() }], { tls: { key: TEST_KEY, cert: TEST_CERT } });
    try {
      const err = await rejection(() => pull(hub, store, { hubOptions: { env: {} } }));
      assert.match(err.message, /not trusted/);
      assert.match(err.message, /NODE_EXTRA_CA_CERTS/);
    } finally {
      await hub.close();
    }
  });

  it('plain http goes through the proxy in absolute form; NO_PROXY bypasses it', async () => {
    const hub = await startHub();
    const proxy = await startProxy();
    try {
      await pull(hub, store, { hubOptions: { env: { HTTP_PROXY: proxy.url } } });
      assert.ok(proxy.forwards.some((u) => u.startsWith(`${hub.endpoint}/api/models/${REPO}/tree/`)));
      assert.ok(proxy.forwards.some((u) => u.startsWith(`${hub.cdnEndpoint}/blobs/`)));
      const seen = proxy.forwards.length;
      const other = await tempStore();
      try {
        await pull(hub, other, { hubOptions: { env: { HTTP_PROXY: proxy.url, NO_PROXY: 'localhost,127.0.0.1' } } });
      } finally {
        await fs.rm(other, { recursive: true, force: true });
      }
      assert.equal(proxy.forwards.length, seen, 'NO_PROXY was ignored');
    } finally {
      await proxy.close();
      await hub.close();
    }
  });

  it('proxy selection follows the usual variables', () => {
    const u = new URL('https://huggingface.co/x');
    assert.equal(proxyFor(u, { env: { HTTPS_PROXY: 'http://p:1' } })?.host, 'p:1');
    assert.equal(proxyFor(u, { env: { https_proxy: 'p2:3128' } })?.host, 'p2:3128');
    assert.equal(proxyFor(u, { env: { HTTP_PROXY: 'http://p:1' } }), undefined);
    assert.equal(proxyFor(new URL('http://mirror.example/x'), { env: { HTTP_PROXY: 'http://p:1' } })?.host, 'p:1');
    assert.equal(proxyFor(u, { env: { HTTPS_PROXY: 'http://p:1', NO_PROXY: '.huggingface.co' } }), undefined);
    assert.equal(proxyFor(u, { proxy: 'http://explicit:8080', env: { HTTPS_PROXY: 'http://p:1' } })?.host, 'explicit:8080');
    assert.ok(bypassesProxy(new URL('https://cdn-lfs.huggingface.co/a'), 'huggingface.co'));
    assert.ok(!bypassesProxy(new URL('https://nothuggingface.co/a'), 'huggingface.co'));
    assert.ok(bypassesProxy(new URL('http://127.0.0.1:8080/a'), '127.0.0.1:8080'));
    assert.ok(!bypassesProxy(new URL('http://127.0.0.1:9090/a'), '127.0.0.1:8080'));
    assert.ok(bypassesProxy(u, '*'));
    assert.throws(() => proxyFor(u, { env: { HTTPS_PROXY: 'socks5://p:1' } }), /not a valid http/);
  });
});
