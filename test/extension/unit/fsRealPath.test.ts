// Containment against real symbolic links on disk: the destination rules with the same real-path
// view the extension gives them (insert/destinationFs.ts, minus vscode), then the write the
// extension and the engine would do; and the gallery's "listed and deletable" test.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DestinationError, resolveDestination, type DestinationInput } from '../../../src/core/destination';
import { writeGeneratedPng } from '../../../src/engine/image/writeImage';
import { containedRegularFile, isPathInside, realPathOrUndefined } from '../../../src/extension/insert/fsRealPath';

const posix = process.platform !== 'win32';

/** What the extension does for a generation: resolve, create the folder, let the engine write. */
async function generateInto(input: Omit<DestinationInput, 'fileName' | 'imageFolder'> & { imageFolder?: string }): Promise<string> {
  const dest = await resolveDestination(
    { imageFolder: 'images/${documentBaseName}/', fileName: 'cell-1.png', ...input },
    {
      readDirectory: async (p) => fs.promises.readdir(p).catch(() => []),
      realPath: realPathOrUndefined,
    },
  );
  fs.mkdirSync(dest.folder, { recursive: true });
  return writeGeneratedPng({ rgb: new Uint8Array(8 * 8 * 3), width: 8, height: 8, dest: dest.file, infotext: 'p', xmp: '' });
}

function listAll(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true }).map(String).sort();
}

describe('real paths and symbolic links (real file system)', function () {
  let tmp: string;
  let ws: string;
  let outside: string;
  beforeEach(function () {
    if (!posix) this.skip();
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ci-links-')));
    ws = path.join(tmp, 'ws');
    outside = path.join(tmp, 'outside');
    fs.mkdirSync(path.join(ws, 'course'), { recursive: true });
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(ws, 'course', 'intro.md'), '# Intro\n');
  });
  afterEach(() => tmp && fs.rmSync(tmp, { recursive: true, force: true }));

  const refused = (e: unknown) => {
    assert.ok(e instanceof DestinationError, String(e));
    assert.match((e as Error).message, /which a symbolic link makes ".*outside.*": outside the workspace folder/);
    assert.match((e as Error).message, /Change courseIllustrator\.imageFolder to a path inside it/);
    return true;
  };

  it('refuses an images folder that is an absolute or relative link out of the workspace; nothing is written outside', async () => {
    for (const target of [outside, '../../outside']) {
      fs.rmSync(path.join(ws, 'course', 'images'), { force: true, recursive: false });
      fs.symlinkSync(target, path.join(ws, 'course', 'images'));
      await assert.rejects(generateInto({ documentPath: path.join(ws, 'course', 'intro.md'), workspaceFolder: ws }), refused);
      assert.deepEqual(listAll(outside), []);
    }
  });

  it('refuses a Markdown file inside a linked folder, and writes when the folder is anchored at the workspace', async () => {
    fs.mkdirSync(path.join(outside, 'notes'));
    fs.writeFileSync(path.join(outside, 'notes', 'lesson.md'), '# Lesson\n');
    fs.symlinkSync(path.join(outside, 'notes'), path.join(ws, 'notes'));
    const documentPath = path.join(ws, 'notes', 'lesson.md');
    await assert.rejects(generateInto({ documentPath, workspaceFolder: ws }), refused);
    assert.deepEqual(listAll(outside), ['notes', 'notes/lesson.md']);
    const written = await generateInto({ documentPath, workspaceFolder: ws, imageFolder: '/images/${documentBaseName}/' });
    assert.equal(written, path.join(ws, 'images', 'lesson', 'cell-1.png'));
  });

  it('refuses a deeper link, a dangling link and a loop, and accepts links that stay inside', async () => {
    fs.mkdirSync(path.join(ws, 'course', 'images'));
    fs.symlinkSync(outside, path.join(ws, 'course', 'images', 'intro'));
    await assert.rejects(generateInto({ documentPath: path.join(ws, 'course', 'intro.md'), workspaceFolder: ws }), refused);
    fs.rmSync(path.join(ws, 'course', 'images', 'intro'));
    fs.symlinkSync(path.join(tmp, 'gone'), path.join(ws, 'course', 'images', 'intro'));
    await assert.rejects(generateInto({ documentPath: path.join(ws, 'course', 'intro.md'), workspaceFolder: ws }), /is a symbolic link to ".*gone", which does not exist/);
    fs.rmSync(path.join(ws, 'course', 'images', 'intro'));
    fs.symlinkSync('intro', path.join(ws, 'course', 'images', 'intro'));
    await assert.rejects(generateInto({ documentPath: path.join(ws, 'course', 'intro.md'), workspaceFolder: ws }), /loop of symbolic links/);
    fs.rmSync(path.join(ws, 'course', 'images', 'intro'));
    fs.mkdirSync(path.join(ws, 'shared'));
    fs.symlinkSync('../../shared', path.join(ws, 'course', 'images', 'intro'));
    // Inside the workspace through a link: allowed here; the engine still refuses a linked final folder.
    await assert.rejects(generateInto({ documentPath: path.join(ws, 'course', 'intro.md'), workspaceFolder: ws }), /is a symbolic link to/);
    fs.mkdirSync(path.join(ws, 'shared', 'deeper'));
    const written = await generateInto({ documentPath: path.join(ws, 'course', 'intro.md'), workspaceFolder: ws, imageFolder: 'images/intro/deeper/' });
    assert.equal(fs.realpathSync(written), path.join(ws, 'shared', 'deeper', 'cell-1.png'));
    assert.deepEqual(listAll(outside), []);
  });

  it('accepts a workspace opened through a symbolic link', async () => {
    const alias = path.join(tmp, 'alias');
    fs.symlinkSync(ws, alias);
    const written = await generateInto({ documentPath: path.join(alias, 'course', 'intro.md'), workspaceFolder: alias });
    assert.equal(written, path.join(alias, 'course', 'images', 'intro', 'cell-1.png'));
  });

  it('lists and deletes only regular files whose real path is inside the workspace', async () => {
    const inside = path.join(ws, 'course', 'a.png');
    fs.writeFileSync(inside, 'png');
    fs.writeFileSync(path.join(outside, 'b.png'), 'png');
    fs.symlinkSync(outside, path.join(ws, 'linked'));
    fs.symlinkSync(path.join(outside, 'b.png'), path.join(ws, 'b.png'));
    fs.symlinkSync('course/a.png', path.join(ws, 'alias.png'));
    fs.symlinkSync('/dev/zero', path.join(ws, 'zero.png'));
    fs.symlinkSync(path.join(tmp, 'gone.png'), path.join(ws, 'gone.png'));
    assert.equal((await containedRegularFile(inside, [ws]))?.real, inside);
    assert.equal((await containedRegularFile(path.join(ws, 'alias.png'), [ws]))?.real, inside);
    for (const f of ['linked/b.png', 'b.png', 'zero.png', 'gone.png', 'course', 'missing.png']) {
      assert.equal(await containedRegularFile(path.join(ws, f), [ws]), undefined, f);
    }
    // A workspace folder opened through a link still contains its files.
    fs.symlinkSync(ws, path.join(tmp, 'alias'));
    assert.ok(await containedRegularFile(path.join(tmp, 'alias', 'course', 'a.png'), [path.join(tmp, 'alias')]));
  });

  it('isPathInside follows the platform path rules (win32: case-insensitive, backslashes)', () => {
    assert.equal(isPathInside('C:\\ws', 'c:\\WS\\a.png', path.win32), true);
    assert.equal(isPathInside('C:\\ws', 'C:\\ws\\..\\x.png', path.win32), false);
    assert.equal(isPathInside('C:\\ws', 'C:\\wsx\\a.png', path.win32), false);
    assert.equal(isPathInside('/ws', '/ws/a/../../x', path.posix), false);
    assert.equal(isPathInside('/ws', '/ws', path.posix), false);
  });
});
