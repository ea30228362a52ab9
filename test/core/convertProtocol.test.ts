// The engine/convert definitions both ends share: bad params are refused with a message that
// names the fix, before any file is touched; replies are checked against the request.

import * as assert from 'assert';
import { formatOfFileName, validateConvertParams, validateConvertResult } from '../../src/core/convertProtocol';
import { EngineRequests } from '../../src/core/engineRequests';
import { checkReply } from '../../src/core/rpc';

describe('convertProtocol', () => {
  const ok = { source: '/c/heart.png', dest: '/c/heart.jpg', format: 'jpeg' };

  it('knows the format from the extension, in any case', () => {
    assert.equal(formatOfFileName('/a/B.JPG'), 'jpeg');
    assert.equal(formatOfFileName('x.jpeg'), 'jpeg');
    assert.equal(formatOfFileName('x.webp'), 'webp');
    assert.equal(formatOfFileName('x.png'), 'png');
    assert.equal(formatOfFileName('x.gif'), undefined);
    assert.equal(formatOfFileName('jpg'), undefined);
  });

  it('accepts good params and leaves defaults to the engine', () => {
    assert.deepEqual(EngineRequests.convert.params(ok), { ...ok, quality: undefined, lossless: undefined, confineTo: undefined, overwrite: undefined });
    assert.equal(validateConvertParams({ ...ok, quality: 75, overwrite: true, confineTo: '/c' }).quality, 75);
    assert.equal(validateConvertParams({ ...ok, dest: '/c/a.webp', format: 'webp', lossless: true }).lossless, true);
  });

  it('refuses bad params, naming what to change', () => {
    assert.throws(() => EngineRequests.convert.params(null), /must be an object/);
    assert.throws(() => validateConvertParams({ ...ok, source: '' }), /"source" must be a non-empty string/);
    assert.throws(() => validateConvertParams({ ...ok, format: 'gif', dest: 'a.gif' }), /png, jpeg or webp, got "gif"/);
    assert.throws(() => validateConvertParams({ ...ok, dest: '/c/heart.png' }), /must end in \.jpg or \.jpeg for format jpeg/);
    for (const quality of [0, 101, 89.5, '90']) assert.throws(() => validateConvertParams({ ...ok, quality }), /"quality"/);
    assert.throws(() => validateConvertParams({ ...ok, lossless: true }), /"lossless" is for webp only/);
    assert.throws(() => validateConvertParams({ ...ok, dest: 'a.png', format: 'png', quality: 90 }), /leave it out for png/);
    assert.throws(() => validateConvertParams({ ...ok, dest: 'a.webp', format: 'webp', lossless: true, quality: 90 }), /lossless webp/);
    assert.throws(() => validateConvertParams({ ...ok, overwrite: 'yes' }), /"overwrite" must be true or false/);
  });

  it('checks the reply against the request', () => {
    const params = validateConvertParams(ok);
    const reply = { path: '/c/heart.jpg', bytes: 1234, format: 'jpeg', width: 512, height: 512 };
    assert.deepEqual(checkReply(EngineRequests.convert, reply, params), reply);
    assert.throws(() => validateConvertResult({ ...reply, format: 'webp' }, params), /is webp, expected jpeg/);
    assert.throws(() => checkReply(EngineRequests.convert, { ...reply, bytes: 0 }, params), /malformed reply to engine\/convert/);
  });
});
