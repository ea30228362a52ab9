// engine/convert as the extension sends it: over JSON-RPC to the built engine (dist/engine.js),
// its reply checked by the request's own validator, its refusals mapped to the error codes the
// extension shows.

import * as assert from 'assert';
import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ResponseError } from 'vscode-jsonrpc/node';
import { EngineRequests } from '../../../src/core/engineRequests';
import { ErrorCodes } from '../../../src/core/protocol';
import { checkReply } from '../../../src/core/rpc';
import { writeGeneratedPng } from '../../../src/engine/image/writeImage';
import { buildXmp } from '../../../src/engine/image/xmp';
import { runCli, startServer, type EngineServer } from '../../support/engineProcess';

describe('engine/convert over JSON-RPC, and the convert command', function () {
  this.timeout(120000);
  let server: EngineServer;
  let dir: string;
  let png: string;
  const infotext = 'mitosis 有丝分裂\nSteps: 4, Seed: 3, Size: 16x16';

  before(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'ci-convert-rpc-'));
    png = await writeGeneratedPng({ rgb: new Uint8Array(16 * 16 * 3).fill(90), width: 16, height: 16, dest: path.join(dir, 'm.png'), infotext, xmp: buildXmp({ prompt: 'mitosis', version: '0.1.0' }) });
    server = await startServer();
    await server.connection.sendRequest(EngineRequests.initialize.method, { provider: 'cpu', threads: 1 });
  });
  after(async () => {
    await server?.close();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  const send = (params: object) => server.connection.sendRequest(EngineRequests.convert.method, params).catch((e: unknown) => e);

  it('converts, and engine/info reads the parameters from the JPEG', async () => {
    const params = EngineRequests.convert.params({ source: png, dest: path.join(dir, 'm.jpg'), format: 'jpeg', quality: 80, confineTo: dir });
    const r = checkReply(EngineRequests.convert, await send(params), params);
    assert.equal(r.path, path.join(dir, 'm.jpg'));
    assert.equal(r.bytes, (await fsp.stat(r.path)).size);
    const info = checkReply(EngineRequests.info, await server.connection.sendRequest(EngineRequests.info.method, { path: r.path }), { path: r.path });
    assert.equal(info.kind === 'png' && info.parameters, infotext);
  });

  it('answers bad params with badInput and an existing file with outputError', async () => {
    const bad = await send({ source: png, dest: path.join(dir, 'x.gif'), format: 'gif' });
    assert.ok(bad instanceof ResponseError);
    assert.equal(bad.code, ErrorCodes.badInput);
    assert.match(bad.message, /png, jpeg or webp/);
    const taken = await send({ source: png, dest: path.join(dir, 'm.jpg'), format: 'jpeg' });
    assert.ok(taken instanceof ResponseError);
    assert.equal(taken.code, ErrorCodes.outputError);
    assert.match(taken.message, /already exists/);
    const outside = await send({ source: png, dest: path.join(os.tmpdir(), 'ci-never-written.webp'), format: 'webp', confineTo: dir });
    assert.ok(outside instanceof ResponseError);
    assert.equal(outside.code, ErrorCodes.outputError);
  });

  it('converts from the command line, the format by the extension, and explains a bad one', async () => {
    const dest = path.join(dir, 'cli.webp');
    const ok = await runCli(['convert', png, dest, '--quality', '70']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout), { path: dest, bytes: (await fsp.stat(dest)).size, format: 'webp', width: 16, height: 16 });
    const again = await runCli(['convert', png, dest]);
    assert.equal(again.code, 4, 'an existing file is an output error');
    assert.match(again.stderr, /--overwrite/);
    const gif = await runCli(['convert', png, path.join(dir, 'a.gif')]);
    assert.equal(gif.code, 2);
    assert.match(gif.stderr, /\.png, \.jpg, \.jpeg or \.webp/);
  });
});
