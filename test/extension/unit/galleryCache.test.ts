import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { limiter } from '../../../src/extension/gallery/limit';
import { MetadataCache } from '../../../src/extension/images/metadataFile';

describe('gallery metadata cache', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-gallery-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('answers only while mtime and size match, and survives a restart', () => {
    const file = path.join(dir, 'sub', 'meta.json');
    const a = new MetadataCache(file);
    a.load();
    a.set('/ws/a.png', 10, 100, { width: 512, height: 512, prompt: 'a cat', madeByCourseIllustrator: true, fields: { Seed: '1' } });
    a.saveNow();
    const b = new MetadataCache(file);
    b.load();
    assert.equal(b.get('/ws/a.png', 10, 100)?.prompt, 'a cat');
    assert.equal(b.get('/ws/a.png', 11, 100), undefined, 'a changed file is read again');
    b.retainOnly(new Set());
    b.saveNow();
    const c = new MetadataCache(file);
    c.load();
    assert.equal(c.get('/ws/a.png', 10, 100), undefined);
  });

  it('starts empty from a corrupt file', () => {
    const file = path.join(dir, 'meta.json');
    fs.writeFileSync(file, '{not json');
    const a = new MetadataCache(file);
    a.load();
    assert.equal(a.get('/ws/a.png', 1, 1), undefined);
  });

  it('limits work in flight', async () => {
    const run = limiter(2);
    let active = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 8 }, () =>
        run(async () => {
          active++;
          peak = Math.max(peak, active);
          await new Promise((r) => setTimeout(r, 5));
          active--;
        }),
      ),
    );
    assert.equal(peak, 2);
  });
});
