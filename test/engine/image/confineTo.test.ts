import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Engine } from '../../../src/engine/engine';
import { writeGeneratedPng } from '../../../src/engine/image/writeImage';
import { ensureFixture } from '../../fixtures/tinyPipeline';

// The extension resolves real paths before it asks for an image; the engine checks again where
// it writes (GenerateParams.confineTo), so a link anywhere on the path cannot carry it out.
describe('the engine keeps images inside confineTo, by real path', () => {
  let tmp: string;
  let ws: string;
  let outside: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-confine-'));
    ws = path.join(tmp, 'ws');
    outside = path.join(tmp, 'outside');
    fs.mkdirSync(path.join(ws, 'course'), { recursive: true });
    fs.mkdirSync(path.join(outside, 'sub'), { recursive: true });
    // A folder inside the workspace that is a link out of it, one level above the image's folder.
    fs.symlinkSync(outside, path.join(ws, 'course', 'images'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const png = (dest: string, confineTo?: string) =>
    writeGeneratedPng({ rgb: new Uint8Array(4 * 4 * 3), width: 4, height: 4, dest, infotext: 'x', xmp: '', confineTo });

  it('refuses a file whose folder is reached through a link, naming where it would go', async () => {
    const dest = path.join(ws, 'course', 'images', 'sub', 'cell.png');
    await assert.rejects(png(dest, ws), (err: Error) => {
      assert.match(err.message, /outside .* once symbolic links are followed; nothing was written/);
      assert.ok(err.message.includes(fs.realpathSync(outside)), err.message);
      return true;
    });
    assert.deepEqual(fs.readdirSync(path.join(outside, 'sub')), []);
  });

  it('writes inside the workspace, into folders not made yet included in the check', async () => {
    fs.mkdirSync(path.join(ws, 'course', 'pictures'));
    const written = await png(path.join(ws, 'course', 'pictures', 'cell.png'), ws);
    assert.ok(fs.existsSync(written));
    // Without confineTo (the CLI) only a linked final folder is refused.
    assert.ok(fs.existsSync(await png(path.join(ws, 'course', 'images', 'sub', 'cli.png'))));
  });

  it('is checked by Engine.generate before any computing, and the job leaves nothing behind', async () => {
    const model = await ensureFixture('tiny-a');
    const engine = new Engine({ provider: 'cpu', threads: 1 });
    try {
      const t0 = performance.now();
      await assert.rejects(
        engine.generate({ model, prompt: 'a cell', seed: 1, steps: 2, outFile: path.join(ws, 'course', 'images', 'sub', 'cell.png'), confineTo: ws }),
        /outside .* once symbolic links are followed/,
      );
      console.log(`      · refused after ${(performance.now() - t0).toFixed(0)} ms`);
      assert.deepEqual(fs.readdirSync(path.join(outside, 'sub')), []);
    } finally {
      await engine.dispose();
    }
  });
});
