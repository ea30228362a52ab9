// A hub that is not on our side (security issue #10): it must not get the token sent to another
// host, fill the disk or memory, hang a pull forever, corrupt verified files through names of its
// choosing, or drive the terminal; and no password may show in an error. All on loopback, with
// small limits so each case takes milliseconds; timings are reported, never asserted.

import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { HubServer } from '../../support/hubServer';
import { runModelsCommand } from '../../../src/engine/hub/cli';
import { printable, redact } from '../../../src/engine/hub/errors';
import { httpGet, proxyFor } from '../../../src/engine/hub/http';
import { HubClient } from '../../../src/engine/hub/hub';
import { listInstalled, listPartial, verifyModel } from '../../../src/engine/hub/store';
import { FAST_RETRY, REPO, TARGET, fixtureDir, listFiles, pull, rejection, startHub, tempStore } from './helpers';

const TOKEN = 'hf_abcdefghijklmnopqrstuvwxyz01234567';
/** What a terminal would act on: C0 but newline, DEL, C1, bidi overrides and isolates. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function report(what: string, t0: number, extra = ''): void {
  console.log(`      [timing] ${what}: ${Date.now() - t0} ms${extra ? `, ${extra}` : ''}`);
}

/** Runs the models CLI against `hub` with a clean environment; returns what a user would see. */
async function cli(hub: HubServer, args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const stdout = new PassThrough().on('data', (c: Buffer) => (out += c.toString()));
  const stderr = new PassThrough().on('data', (c: Buffer) => (err += c.toString()));
  const names = ['HF_ENDPOINT', 'HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'HTTPS_PROXY', 'HTTP_PROXY', 'ALL_PROXY', 'https_proxy', 'http_proxy', 'all_proxy'];
  const saved = new Map(names.map((n) => [n, process.env[n]]));
  for (const n of names) delete process.env[n];
  process.env.HF_ENDPOINT = hub.endpoint;
  try {
    const code = await runModelsCommand(args, { stdout, stderr });
    return { code, out, err };
  } finally {
    for (const [n, v] of saved) {
      if (v === undefined) delete process.env[n];
      else process.env[n] = v;
    }
  }
}

describe('models: hostile hubs (loopback server)', function () {
  let hub: HubServer;
  let store: string;

  before(async () => {
    hub = await startHub();
  });
  after(async () => {
    await hub.close();
  });
  beforeEach(async () => {
    hub.faults = {};
    hub.requireToken = undefined;
    hub.pageSize = 3;
    hub.resetStats();
    store = await tempStore();
  });
  afterEach(async () => {
    await fs.rm(store, { recursive: true, force: true });
  });

  const nothingInstalled = async (): Promise<void> => {
    assert.deepEqual(await listInstalled(store), []);
    assert.equal(await fs.stat(path.join(store, TARGET.id)).catch(() => undefined), undefined);
  };

  describe('the token stays with the endpoint origin', () => {
    it('a next page on another origin is fetched without the token', async () => {
      hub.requireToken = TOKEN;
      hub.faults.paginateToOther = true;
      const r = await pull(hub, store, { hubOptions: { token: TOKEN } });
      assert.equal(r.alreadyInstalled, false);
      const other = hub.requests.filter((q) => q.server === 'other');
      assert.ok(other.length > 0, 'the next pages were not fetched from the other origin');
      assert.deepEqual(other.map((q) => q.authorization), other.map(() => undefined), 'the other origin saw the token');
      assert.ok(hub.requests.filter((q) => q.server === 'hub').every((q) => q.authorization === `Bearer ${TOKEN}`));
      assert.ok(hub.requests.filter((q) => q.server === 'cdn').every((q) => q.authorization === undefined));
    });

    it('a listing redirected to another origin, and its relative next links, go without the token', async () => {
      hub.faults.redirectTreeToOther = true;
      await pull(hub, store, { hubOptions: { token: TOKEN } });
      const other = hub.requests.filter((q) => q.server === 'other');
      assert.ok(other.length > 1, 'the redirect and the relative pages were not followed');
      assert.ok(other.some((q) => q.url.includes('cursor=')), 'a relative next link was not resolved against the other origin');
      assert.ok(other.every((q) => q.authorization === undefined), 'the other origin saw the token');
    });

    it('a link to another scheme is refused', async () => {
      const client = new HubClient({ endpoint: hub.endpoint, env: {} });
      await assert.rejects(httpGet(new URL('file:///etc/passwd'), {}, client.http), /Refusing to follow a link to file:/);
    });
  });

  describe('bodies and listings are bounded', () => {
    it('an endless file body is cut at the listed size: an error, nothing installed', async () => {
      const f = 'unet/weights.pb';
      const size = hub.file(REPO, f).data.length;
      hub.faults.oversize = { path: f, extraBytes: Infinity };
      const t0 = Date.now();
      const err = await rejection(() => pull(hub, store));
      report('endless body refused', t0, `${hub.served(f)} bytes sent by the server for a ${size}-byte file (2 tries)`);
      assert.equal(err.code, 'hashMismatch');
      assert.match(err.message, /kept sending unet\/weights\.pb past its listed size \(\d+ bytes\)/);
      assert.match(err.message, /failed verification twice/);
      await nothingInstalled();
      const parts = await listFiles(path.join(store, '.staging', '.parts', TARGET.id));
      assert.ok(!parts.includes(f), 'the oversized part was kept');
    });

    it('a body longer than listed once is dropped and fetched again', async () => {
      const f = 'text_encoder/model.onnx';
      hub.faults.oversize = { path: f, extraBytes: 100_000, times: 1 };
      const r = await pull(hub, store);
      assert.ok((await fs.readFile(path.join(r.model.path, f))).equals(hub.file(REPO, f).data));
      assert.ok(r.progress.some((p) => /past its listed size/.test(p.message ?? '')));
    });

    it('a listing that pages forever stops at the page limit', async () => {
      hub.faults.endlessPages = true;
      const t0 = Date.now();
      const err = await rejection(() => pull(hub, store));
      report('endless pages refused', t0, `${hub.requests.length} requests`);
      assert.equal(err.code, 'http');
      assert.match(err.message, /file list of test-org\/tiny-sd-onnx@[0-9a-f]{40} from 127\.0\.0\.1:\d+ goes past 100 pages; stopped reading it/);
      assert.ok(!hub.requests.some((q) => q.url.includes('/resolve/')), 'files were fetched anyway');
      await nothingInstalled();
    });

    it('too many entries, or too many files for one model, are refused', async () => {
      let err = await rejection(() => pull(hub, store, { hubOptions: { limits: { maxListEntries: 5 } } }));
      assert.match(err.message, /goes past 5 entries/);
      err = await rejection(() => pull(hub, store, { hubOptions: { limits: { maxFiles: 2 } } }));
      assert.match(err.message, /files to download, more than the 2 a model may have/);
      assert.ok(!hub.requests.some((q) => q.url.includes('/resolve/')));
      await nothingInstalled();
    });

    it('an endless JSON listing stops at the JSON size limit', async () => {
      hub.faults.endlessTree = true;
      const t0 = Date.now();
      const err = await rejection(() => pull(hub, store));
      report('endless JSON refused (default 4 MiB cap)', t0);
      assert.equal(err.code, 'http');
      assert.match(err.message, /sent more than 4\.2 MB for the file list of test-org\/tiny-sd-onnx; refusing it/);
      await nothingInstalled();
    });
  });

  describe('names a hub lists cannot collide with staging', () => {
    let evilHub: HubServer;
    let repoDir: string;
    before(async () => {
      repoDir = await tempStore();
      await fs.cp(await fixtureDir(), repoDir, { recursive: true });
      // Listed files named like the part files of other listed files (the old staging layout).
      await fs.writeFile(path.join(repoDir, 'model_index.json.part'), Buffer.alloc(70_000, 7));
      await fs.writeFile(path.join(repoDir, 'tokenizer', 'vocab.json.part'), 'not the vocabulary');
      evilHub = await HubServer.start([{ repo: REPO, dir: repoDir }]);
    });
    after(async () => {
      await evilHub.close();
      await fs.rm(repoDir, { recursive: true, force: true });
    });

    it('x.json and x.json.part both arrive intact, also across a failed pull and a resume', async () => {
      evilHub.faults.corrupt = { path: 'unet/weights.pb' };
      await rejection(() => pull(evilHub, store, { parallel: 8 }));
      evilHub.faults = {};
      const r = await pull(evilHub, store, { parallel: 8 });
      for (const f of ['model_index.json', 'model_index.json.part', 'tokenizer/vocab.json', 'tokenizer/vocab.json.part']) {
        assert.ok((await fs.readFile(path.join(r.model.path, f))).equals(evilHub.file(REPO, f).data), `${f} differs`);
      }
      assert.deepEqual((await verifyModel(store, TARGET.id)).problems, []);
      assert.deepEqual(await listFiles(path.join(store, '.staging')), []);
    });
  });

  describe('a trickle is too slow, not a stall', () => {
    const slow = { minBytesPerSecond: 1024, slowWindowMs: 300, stallTimeoutMs: 2000 };

    it('a file sent one byte at a time fails with "too slow", keeping what arrived', async () => {
      const f = 'text_encoder/model.onnx';
      hub.faults.trickle = { on: f, intervalMs: 20 };
      const t0 = Date.now();
      const err = await rejection(() => pull(hub, store, { hubOptions: slow, retry: { ...FAST_RETRY, retries: 1 } }));
      report('trickle refused', t0, `${hub.served(f)} bytes arrived`);
      assert.equal(err.code, 'stalled');
      assert.match(err.message, /The server is too slow: 127\.0\.0\.1:\d+ sent \d+ B in the last 0\.\d s, under the 1\.0 KB\/s a download needs, while downloading text_encoder\/model\.onnx/);
      assert.doesNotMatch(err.message, /No data from/);
      assert.match(err.message, /Gave up on text_encoder\/model\.onnx after 2 attempts/);
      await nothingInstalled();
      assert.equal((await listPartial(store)).length, 1);
    });

    it('a file list sent one byte at a time fails the same way', async () => {
      hub.faults.trickle = { on: 'tree', intervalMs: 20 };
      const t0 = Date.now();
      const err = await rejection(() => pull(hub, store, { hubOptions: slow, retry: { ...FAST_RETRY, retries: 1 } }));
      report('trickled list refused', t0);
      assert.equal(err.code, 'stalled');
      assert.match(err.message, /The server is too slow: .* while reading the file list of test-org\/tiny-sd-onnx/);
      await nothingInstalled();
    });

    it('reply headers that trickle in hit a deadline', async () => {
      const sockets = new Set<net.Socket>();
      const server = net.createServer((s) => {
        sockets.add(s);
        const text = 'HTTP/1.1 200 OK\r\nX-Slow: ' + 'a'.repeat(10_000);
        let i = 0;
        const t = setInterval(() => (s.destroyed ? clearInterval(t) : s.write(text[i++ % text.length])), 10);
        s.on('close', () => clearInterval(t));
        s.on('error', () => undefined);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as AddressInfo).port;
      const t0 = Date.now();
      try {
        await assert.rejects(
          httpGet(new URL(`http://127.0.0.1:${port}/x`), {}, { env: {}, stallTimeoutMs: 150, slowWindowMs: 100 }),
          /did not send its reply headers within 0\.3 s: the server is too slow/,
        );
        report('trickled headers refused', t0);
      } finally {
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  });

  describe('nothing received can drive the terminal', () => {
    it('listed names with control characters or bidi overrides are refused, shown escaped', async () => {
      hub.faults.treeExtra = [{ type: 'file', path: 'evil\u001b]0;pwned\u0007\u202egpj.onnx', size: 3, oid: 'a'.repeat(40) }];
      const err = await rejection(() => pull(hub, store));
      assert.equal(err.code, 'http');
      assert.ok(err.message.includes('Refusing the file "evil\\x1b]0;pwned\\x07\\u202egpj.onnx"'), err.message);
      assert.doesNotMatch(err.message, RAW_CONTROL);
      await nothingInstalled();
    });

    it('the CLI prints such a list, and a control-laden error body, escaped on stderr and stdout', async () => {
      hub.faults.treeExtra = [{ type: 'file', path: 'x\u009b31m\u001b[2J.json', size: 1, oid: 'b'.repeat(40) }];
      let r = await cli(hub, ['pull', REPO, '--store', store]);
      assert.equal(r.code, 3);
      assert.match(r.err, /Refusing the file "x\\x9b31m\\x1b\[2J\.json"/);
      assert.doesNotMatch(r.err + r.out, RAW_CONTROL);
      JSON.parse(r.out);

      hub.faults = { status: { code: 400, on: 'tree' }, statusBody: '\u001b[2J\u001b]0;owned\u0007 nope \u202e\u2066' };
      r = await cli(hub, ['pull', REPO, '--store', store]);
      assert.match(r.err, /answered HTTP 400 for file list of test-org\/tiny-sd-onnx@[0-9a-f]{40}: \\x1b\[2J\\x1b\]0;owned\\x07 nope \\u202e\\u2066/);
      assert.doesNotMatch(r.err + r.out, RAW_CONTROL);
    });

    it('other listed paths that could escape or collide are refused', async () => {
      const bad = ['../escape.onnx', 'a\\b.onnx', 'C:/x.onnx', 'unet/../../x', '/abs.onnx', 'a//b', 'MODEL_INDEX.JSON', 'model_index.json', 'unet/model.onnx/inner'];
      for (const p of bad) {
        hub.faults.treeExtra = [{ type: 'file', path: p, size: 1, oid: 'c'.repeat(40) }];
        const err = await rejection(() => pull(hub, store));
        assert.match(err.message, /not a plain relative path|names one file twice|both as a file and as the folder/, `${p}: ${err.message}`);
      }
      hub.faults.treeExtra = [{ type: 'file', path: 'x.bin', size: 1.5 }];
      assert.match((await rejection(() => pull(hub, store))).message, /without a path or a valid size/);
      await nothingInstalled();
    });
  });

  describe('no credential in any message', () => {
    it('a hub that reflects the token into an error body does not get it printed', async () => {
      hub.faults = { status: { code: 400, on: 'tree' }, statusBody: 'echo-authorization' };
      const err = await rejection(() => pull(hub, store, { hubOptions: { token: TOKEN } }));
      assert.match(err.message, /you sent: Bearer \*\*\*/);
      assert.ok(!err.message.includes(TOKEN.slice(3)), err.message);
    });

    it('a proxy or endpoint URL with a password is shown without it', async () => {
      let err = await rejection(() => pull(hub, store, { hubOptions: { proxy: 'socks5://me:s3cr3t-pw@proxy.example:1080' } }));
      assert.equal(err.code, 'badInput');
      assert.match(err.message, /The proxy setting "socks5:\/\/\*\*\*@proxy\.example:1080" is not a valid/);
      assert.doesNotMatch(err.message, /s3cr3t/);
      assert.throws(() => proxyFor(new URL('https://h/x'), { env: { HTTPS_PROXY: 'me:s3cr3t@pw@proxy:bad' } }), (e: Error) => !/s3cr3t|pw@/.test(e.message));

      // A proxy on a port nobody listens on: unreachable, and its login must not show.
      const probe = net.createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const port = (probe.address() as AddressInfo).port;
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      err = await rejection(() => pull(hub, store, { hubOptions: { env: { HTTP_PROXY: `http://me:s3cr3t-pw@127.0.0.1:${port}` } }, retry: { ...FAST_RETRY, retries: 1 } }));
      assert.equal(err.code, 'offline');
      assert.doesNotMatch(err.message, /s3cr3t/);

      err = await rejection(() => pull(hub, store, { hubOptions: { endpoint: hub.endpoint.replace('http://', 'http://me:s3cr3t-pw@') } }));
      assert.equal(err.code, 'badInput');
      assert.match(err.message, /contains a login/);
      assert.doesNotMatch(err.message, /s3cr3t/);

      const r = await cli(hub, ['pull', REPO, '--store', store, '--proxy', 'socks5://me:s3cr3t-pw@proxy.example:1080']);
      assert.equal(r.code, 2);
      assert.doesNotMatch(r.err + r.out, /s3cr3t/);
    });

    it('redact and printable, on their own', () => {
      assert.equal(redact('via http://user:p@ss@proxy:8080/x'), 'via http://***@proxy:8080/x');
      assert.equal(redact('HTTPS_PROXY=user:pw@proxy:3128'), 'HTTPS_PROXY=***@proxy:3128');
      assert.equal(redact(`Authorization: Bearer ${TOKEN}`), 'Authorization: Bearer ***');
      assert.equal(redact(`token ${TOKEN}`), 'token hf_***');
      assert.equal(redact('like http://<user>:<password>@host:1'), 'like http://<user>:<password>@host:1');
      assert.equal(redact('test-org/tiny@main and a@b.c'), 'test-org/tiny@main and a@b.c');
      assert.equal(printable('a\u001b[31mb\u009bc\u007fd\u202ee\u2069\nf'), 'a\\x1b[31mb\\x9bc\\x7fd\\u202ee\\u2069\\x0af');
      assert.equal(printable('line 1\nline 2\r', true), 'line 1\nline 2\\x0d');
    });
  });
});
