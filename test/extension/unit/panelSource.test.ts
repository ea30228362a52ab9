// The panel's source image on the extension side: files are only read; dropped bytes and masks
// are kept in the storage folder it is given, written whole (temporary file, then rename).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PanelSource } from '../../../src/extension/panel/panelSource';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1]);

describe('panel source image', () => {
  let dir: string;
  let store: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-source-'));
    store = path.join(dir, 'storage', 'panel-sources');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('uses an image file where it is, without copying or touching it', async () => {
    const file = path.join(dir, 'scan.jpg');
    fs.writeFileSync(file, JPEG);
    const before = fs.statSync(file).mtimeMs;
    const s = new PanelSource(store);
    const got = await s.setFile(file);
    assert.equal(got.path, file);
    assert.equal(got.name, 'scan.jpg');
    assert.match(got.id, /^src-[a-z0-9]+-\d+$/);
    assert.equal(fs.statSync(file).mtimeMs, before);
    assert.equal(fs.existsSync(store), false, 'nothing staged for a file used in place');
  });

  it('refuses what is not an image, a folder, or a missing file, with the file name and what to choose', async () => {
    const s = new PanelSource(store);
    const txt = path.join(dir, 'notes.png');
    fs.writeFileSync(txt, 'not really a png');
    await assert.rejects(s.setFile(txt), /notes\.png is not a PNG, JPEG or WebP image/);
    await assert.rejects(s.setFile(dir), /is not a file that can be read; choose a PNG, JPEG or WebP image/);
    await assert.rejects(s.setFile(path.join(dir, 'gone.png')), /gone\.png is not a file/);
    assert.equal(s.get(), undefined);
  });

  it('keeps dropped bytes in the storage folder under its own name, whatever name the webview sends', async () => {
    const s = new PanelSource(store);
    const got = await s.setBytes('../../../evil.png', PNG.toString('base64'));
    assert.equal(path.dirname(got.path), store);
    assert.match(path.basename(got.path), /^src-[a-z0-9]+-\d+\.png$/);
    assert.deepEqual(fs.readFileSync(got.path), PNG);
    assert.equal(got.name, '../../../evil.png', 'the name only labels it');
    assert.deepEqual(fs.readdirSync(store), [path.basename(got.path)], 'no temporary file left');
    const jpeg = await s.setBytes('', JPEG.toString('base64'));
    assert.match(jpeg.path, /\.jpg$/);
    await assert.rejects(s.setBytes('x.png', Buffer.from('GIF89a').toString('base64')), /x\.png is not a PNG, JPEG or WebP image/);
  });

  it('writes a painted mask as a PNG file and refuses anything else', async () => {
    const s = new PanelSource(store);
    const mask = await s.writeMask(PNG.toString('base64'));
    assert.equal(path.dirname(mask), store);
    assert.match(path.basename(mask), /^mask-[a-z0-9]+-\d+\.png$/);
    await assert.rejects(s.writeMask(JPEG.toString('base64')), /did not arrive as a PNG/);
  });

  it('removes staged copies older than a week when it starts, and nothing else', async () => {
    fs.mkdirSync(store, { recursive: true });
    const old = path.join(store, 'src-abc-1.png');
    const fresh = path.join(store, 'mask-abc-2.png');
    const other = path.join(store, 'notes.txt');
    for (const f of [old, fresh, other]) fs.writeFileSync(f, PNG);
    const weekAgo = new Date(Date.now() - 8 * 24 * 3600 * 1000);
    fs.utimesSync(old, weekAgo, weekAgo);
    fs.utimesSync(other, weekAgo, weekAgo);
    new PanelSource(store);
    for (let i = 0; i < 50 && fs.existsSync(old); i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(fs.readdirSync(store).sort(), ['mask-abc-2.png', 'notes.txt']);
  });
});
