// The freedesktop trash used where VS Code has none (a remote extension host on Linux).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { homeTrashDir, moveToFreedesktopTrash } from '../../../src/extension/gallery/freedesktopTrash';

describe('freedesktop trash', () => {
  let tmp: string;

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-trash-'));
  });

  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('is $XDG_DATA_HOME/Trash, or ~/.local/share/Trash', () => {
    assert.equal(homeTrashDir({ XDG_DATA_HOME: '/data', HOME: '/home/t' }), path.join('/data', 'Trash'));
    assert.equal(homeTrashDir({ XDG_DATA_HOME: 'relative', HOME: '/home/t' }), path.join('/home/t', '.local', 'share', 'Trash'));
  });

  it('moves the file with a .trashinfo that can restore it, and never overwrites an earlier one', async () => {
    const trash = path.join(tmp, 'Trash');
    const file = path.join(tmp, 'ws', 'my images', 'heart#1.png');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, 'first');
    const when = new Date(2024, 0, 2, 3, 4, 5);
    const dest = await moveToFreedesktopTrash(file, trash, when);
    assert.equal(dest, path.join(trash, 'files', 'heart#1.png'));
    assert.equal(fs.existsSync(file), false);
    assert.equal(fs.readFileSync(dest, 'utf8'), 'first');
    const info = fs.readFileSync(path.join(trash, 'info', 'heart#1.png.trashinfo'), 'utf8');
    assert.equal(info, `[Trash Info]\nPath=${file.split('/').map(encodeURIComponent).join('/')}\nDeletionDate=2024-01-02T03:04:05\n`);
    assert.match(info, /my%20images\/heart%231\.png/);

    fs.writeFileSync(file, 'second');
    const dest2 = await moveToFreedesktopTrash(file, trash, when);
    assert.equal(path.basename(dest2), 'heart#1.2.png');
    assert.equal(fs.readFileSync(dest, 'utf8'), 'first');
    assert.ok(fs.existsSync(path.join(trash, 'info', 'heart#1.2.png.trashinfo')));
  });

  it('leaves no .trashinfo behind when the file cannot be moved', async () => {
    const trash = path.join(tmp, 'Trash');
    await assert.rejects(moveToFreedesktopTrash(path.join(tmp, 'missing.png'), trash), /ENOENT/);
    assert.deepEqual(fs.readdirSync(path.join(trash, 'info')), []);
  });
});
