import assert from 'node:assert/strict';
import { imageKind, isSourceImagePath } from '../../src/core/imageKind';

describe('imageKind', () => {
  it('tells PNG, JPEG and WebP from their first bytes, whatever the name says', () => {
    assert.equal(imageKind(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0])), 'png');
    assert.equal(imageKind(Buffer.from([0xff, 0xd8, 0xff, 0xe0])), 'jpeg');
    assert.equal(imageKind(Buffer.from('RIFF\x00\x00\x00\x00WEBPVP8 ', 'latin1')), 'webp');
    assert.equal(imageKind(Buffer.from('RIFF\x00\x00\x00\x00WAVEfmt ', 'latin1')), undefined);
    assert.equal(imageKind(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')), undefined);
    assert.equal(imageKind(Buffer.from([0x89, 0x50])), undefined, 'too short to be anything');
  });

  it('offers PNG, JPEG and WebP files as source images', () => {
    for (const p of ['a.png', 'B.JPG', 'c.jpeg', '/x/d.webp']) assert.ok(isSourceImagePath(p), p);
    for (const p of ['a.gif', 'b.svg', 'png', 'c.png.txt']) assert.ok(!isSourceImagePath(p), p);
  });
});
