// The serve command's pure parts: options, credentials, and A1111 sampler names.

import * as assert from 'assert';
import { isLoopback, parseListen, parseServeArgs } from '../../../src/engine/serve/serveArgs';
import { isAuthorized, parseCredentials } from '../../../src/engine/serve/auth';
import { resolveSampler } from '../../../src/engine/serve/a1111Samplers';

describe('serve: options, credentials, sampler names', () => {
  it('parses --listen forms and knows loopback addresses', () => {
    assert.deepStrictEqual(parseListen('127.0.0.1:7860'), { host: '127.0.0.1', port: 7860 });
    assert.deepStrictEqual(parseListen(':8080'), { host: '0.0.0.0', port: 8080 });
    assert.deepStrictEqual(parseListen('[::1]:7860'), { host: '::1', port: 7860 });
    assert.deepStrictEqual(parseListen('9000'), { host: '127.0.0.1', port: 9000 });
    assert.throws(() => parseListen('host'), /HOST:PORT/);
    assert.throws(() => parseListen('h:70000'), /port/);
    assert.ok(isLoopback('127.0.0.1') && isLoopback('::1') && isLoopback('localhost'));
    assert.ok(!isLoopback('0.0.0.0') && !isLoopback('::') && !isLoopback('192.168.1.5'));
  });

  it('has safe defaults and refuses bad options with what to do', () => {
    const o = parseServeArgs(['--model', 'm']);
    assert.deepStrictEqual([o.host, o.port, o.maxQueue, o.corsOrigin, o.authFile, o.unetWeights], ['127.0.0.1', 7860, 16, undefined, undefined, undefined]);
    assert.equal(parseServeArgs(['--model', 'm', '--int8']).unetWeights, 'int8', 'a CPU-only school server can use the int8 UNet');
    assert.throws(() => parseServeArgs([]), /--model DIR/);
    assert.throws(() => parseServeArgs(['--model', 'm', '--max-queue', '-1']), /--max-queue/);
    assert.throws(() => parseServeArgs(['--model', 'm', '--cors-origin', 'https://a.example/path']), /--cors-origin/);
    assert.throws(() => parseServeArgs(['--model', 'm', '--provider', 'tpu']), /--provider/);
    assert.throws(() => parseServeArgs(['--model', 'm', '--lisen', '1']), /Unknown option --lisen/);
  });

  it('reads user:password lines and comma lists, and checks Basic credentials', () => {
    const creds = parseCredentials('# comment\nanna:pw:with:colons\nbob:1, carl:2\n\n');
    const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
    assert.ok(isAuthorized(basic('anna:pw:with:colons'), creds));
    assert.ok(isAuthorized(basic('carl:2'), creds));
    assert.ok(!isAuthorized(basic('carl:1'), creds));
    assert.ok(!isAuthorized(basic('carl'), creds));
    assert.ok(!isAuthorized('Bearer abc', creds));
    assert.ok(!isAuthorized(undefined, creds));
    assert.throws(() => parseCredentials('justaname\n'), (e: Error) => /line 1/.test(e.message) && !e.message.includes('justaname'));
    assert.throws(() => parseCredentials('# nothing\n'), /no user:password/);
  });

  it('maps A1111 samplers and schedule types onto the engine\'s schedulers', () => {
    const pick = (s: string, t?: string) => {
      const r = resolveSampler(s, t);
      return 'scheduler' in r ? r.scheduler : r.field;
    };
    assert.strictEqual(pick('Euler a'), 'euler-a');
    assert.strictEqual(pick('k_euler_a'), 'euler-a');
    assert.strictEqual(pick('euler'), 'euler');
    assert.strictEqual(pick('DPM++ 2M'), 'dpmpp-2m-karras', 'A1111\'s Automatic is Karras for DPM++ 2M');
    assert.strictEqual(pick('DPM++ 2M', 'Uniform'), 'dpmpp-2m');
    assert.strictEqual(pick('DPM++ 2M Karras'), 'dpmpp-2m-karras');
    assert.strictEqual(pick('PLMS', 'automatic'), 'pndm');
    assert.strictEqual(pick('Euler', 'Karras'), 'scheduler');
    assert.strictEqual(pick('Heun'), 'sampler_name');
  });
});
