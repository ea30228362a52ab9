import * as assert from 'assert';
import sharp from 'sharp';
import * as zlib from 'zlib';
import {
  addTextChunks,
  crc32,
  encodeChunk,
  listChunks,
  makeTextChunk,
  readPngSize,
  readTextChunks,
} from '../../../src/engine/image/pngChunks';
import {
  buildXmp,
  isAiSourceType,
  parseXmpCreatorTool,
  parseXmpDigitalSourceType,
  TEACHING_STATEMENT,
  TRAINED_ALGORITHMIC_MEDIA,
} from '../../../src/engine/image/xmp';

async function tinyPng(): Promise<Buffer> {
  return sharp({ create: { width: 4, height: 3, channels: 3, background: { r: 10, g: 20, b: 30 } } })
    .png()
    .toBuffer();
}

describe('PNG text chunks', () => {
  it('CRC-32: native and table agree on random data', () => {
    const data = Buffer.alloc(1000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 131 + 7) & 0xff;
    assert.strictEqual(crc32(data), crc32(data, true));
    assert.strictEqual(crc32(Buffer.from('123456789')), 0xcbf43926);
  });

  it('writes tEXt for Latin-1 and iTXt for other text, before IDAT, with valid CRCs', async () => {
    const png = addTextChunks(await tinyPng(), [
      { keyword: 'parameters', text: 'café, 20 steps' },
      { keyword: 'Comment', text: 'ünïcode ✓ 日本' },
    ]);
    const chunks = listChunks(png);
    assert.ok(chunks.every((c) => c.crcOk));
    const types = chunks.map((c) => c.type);
    assert.deepStrictEqual(types.slice(-2), ['IDAT', 'IEND']);
    const idat = types.indexOf('IDAT');
    assert.ok(types.indexOf('tEXt') < idat && types.indexOf('iTXt') < idat);
    assert.deepStrictEqual(
      readTextChunks(png).map((t) => [t.type, t.keyword, t.text]),
      [
        ['tEXt', 'parameters', 'café, 20 steps'],
        ['iTXt', 'Comment', 'ünïcode ✓ 日本'],
      ],
    );
    // libvips/libpng accept the file and see the same text. (libvips decodes tEXt as UTF-8
    // rather than Latin-1, so only the iTXt and the byte length of the tEXt are compared.)
    const meta = await sharp(png).metadata();
    const comments = (meta as { comments?: { keyword: string; text: string }[] }).comments ?? [];
    assert.deepStrictEqual(
      comments.map((c) => c.keyword),
      ['parameters', 'Comment'],
    );
    assert.strictEqual(comments[1].text, 'ünïcode ✓ 日本');
    assert.deepStrictEqual(readPngSize(png), { width: 4, height: 3 });
  });

  it('reads zTXt and compressed iTXt', async () => {
    const z = makeTextChunk({ keyword: 'zkey', text: 'compressed latin-1 é'.repeat(20), compress: true });
    const i = makeTextChunk({ keyword: 'ikey', text: 'compressed ✓'.repeat(20), compress: true, languageTag: 'en', translatedKeyword: 'clé' });
    assert.strictEqual(z.toString('latin1', 4, 8), 'zTXt');
    assert.strictEqual(i.toString('latin1', 4, 8), 'iTXt');
    const base = await tinyPng();
    // Splice the raw chunks in after IHDR by hand, so the reader is tested independently of the writer.
    const ihdrEnd = 8 + 12 + base.readUInt32BE(8);
    const png = Buffer.concat([base.subarray(0, ihdrEnd), z, i, base.subarray(ihdrEnd)]);
    const texts = readTextChunks(png);
    assert.deepStrictEqual(texts[0], { type: 'zTXt', keyword: 'zkey', text: 'compressed latin-1 é'.repeat(20), compressed: true });
    assert.deepStrictEqual(texts[1], {
      type: 'iTXt',
      keyword: 'ikey',
      text: 'compressed ✓'.repeat(20),
      languageTag: 'en',
      translatedKeyword: 'clé',
      compressed: true,
    });
    assert.ok((await sharp(png).metadata()).width === 4);
  });

  it('reads a compressed iTXt built by hand to the spec', async () => {
    const body = Buffer.concat([
      Buffer.from('parameters\0', 'latin1'),
      Buffer.from([1, 0]),
      Buffer.from('\0\0'),
      zlib.deflateSync(Buffer.from('p ✓\nSteps: 1, Seed: 2, Size: 4x3', 'utf8')),
    ]);
    const base = await tinyPng();
    const ihdrEnd = 8 + 12 + base.readUInt32BE(8);
    const png = Buffer.concat([base.subarray(0, ihdrEnd), encodeChunk('iTXt', body), base.subarray(ihdrEnd)]);
    assert.strictEqual(readTextChunks(png)[0].text, 'p ✓\nSteps: 1, Seed: 2, Size: 4x3');
  });

  it('replaces an existing chunk with the same keyword', async () => {
    const once = addTextChunks(await tinyPng(), [{ keyword: 'parameters', text: 'old' }]);
    const twice = addTextChunks(once, [{ keyword: 'parameters', text: 'new ✓' }]);
    assert.deepStrictEqual(
      readTextChunks(twice).map((t) => t.text),
      ['new ✓'],
    );
  });

  it('detects a corrupted CRC and rejects non-PNG data', async () => {
    const png = addTextChunks(await tinyPng(), [{ keyword: 'parameters', text: 'x' }]);
    const bad = Buffer.from(png);
    const t = listChunks(bad).find((c) => c.type === 'tEXt');
    assert.ok(t);
    bad[t.offset + 8] ^= 0xff;
    assert.strictEqual(listChunks(bad).find((c) => c.type === 'tEXt')?.crcOk, false);
    assert.throws(() => listChunks(Buffer.from('GIF89a....')), /not a PNG/);
    assert.throws(() => listChunks(png.subarray(0, 40)), /not a PNG.*runs past the end|truncated/);
  });

  it('rejects invalid keywords', () => {
    assert.throws(() => makeTextChunk({ keyword: '', text: 'x' }), /keyword/);
    assert.throws(() => makeTextChunk({ keyword: 'k'.repeat(80), text: 'x' }), /keyword/);
    assert.throws(() => makeTextChunk({ keyword: ' lead', text: 'x' }), /keyword/);
  });
});

describe('XMP', () => {
  it('labels the image as trainedAlgorithmicMedia with prompt, tool and statement', () => {
    const xmp = buildXmp({ prompt: 'a <heart> & "lungs"', version: '0.1.0', statement: TEACHING_STATEMENT, createDate: '2026-01-01T00:00:00Z' });
    assert.strictEqual(parseXmpDigitalSourceType(xmp), TRAINED_ALGORITHMIC_MEDIA);
    assert.strictEqual(parseXmpCreatorTool(xmp), 'Course Illustrator 0.1.0');
    assert.ok(xmp.includes('a &lt;heart&gt; &amp; &quot;lungs&quot;'));
    assert.ok(xmp.includes(TEACHING_STATEMENT));
    assert.ok(xmp.startsWith('<?xpacket begin="\ufeff"'));
  });

  it('parses element and resource forms other tools write', () => {
    assert.strictEqual(
      parseXmpDigitalSourceType(
        '<rdf:Description><Iptc4xmpExt:DigitalSourceType>http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia</Iptc4xmpExt:DigitalSourceType></rdf:Description>',
      ),
      TRAINED_ALGORITHMIC_MEDIA,
    );
    assert.strictEqual(
      parseXmpDigitalSourceType('<ext:DigitalSourceType rdf:resource="http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"/>'),
      'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture',
    );
    assert.strictEqual(parseXmpDigitalSourceType('<x:xmpmeta/>'), undefined);
    assert.ok(isAiSourceType(TRAINED_ALGORITHMIC_MEDIA));
    assert.ok(isAiSourceType('http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia'));
    assert.ok(!isAiSourceType('http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture'));
  });
});
