// The clean-up's decisions against real files: which images would go, the checks again right
// before each goes (linked since, changed, symbolic links, outside the workspace), and the trash.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type GalleryEntry, entryId } from '../../../src/core/galleryIndex';
import { ImageLinkIndex } from '../../../src/core/imageLinks';
import { type CleanUpChecks, containedDirectly, planCleanUp, runCleanUp } from '../../../src/extension/gallery/cleanUp';

describe('gallery clean-up of unlinked images', () => {
  let tmp: string;
  let ws: string;
  let outside: string;

  function png(rel: string, bytes = 100, root = ws): string {
    const p = path.join(root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, Buffer.alloc(bytes, 1));
    return p;
  }

  function entryOf(p: string): GalleryEntry {
    const st = fs.statSync(p);
    return {
      id: entryId(p), path: p, label: path.relative(ws, p), fileName: path.basename(p), mtimeMs: st.mtimeMs, size: st.size,
      width: 8, height: 8, prompt: 'x', negativePrompt: '', fields: {},
    };
  }

  beforeEach(() => {
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ci-cleanup-')));
    ws = path.join(tmp, 'ws');
    outside = path.join(tmp, 'outside');
    fs.mkdirSync(ws, { recursive: true });
    fs.mkdirSync(outside, { recursive: true });
  });

  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('plans the unlinked images only, oldest first, with their total size', () => {
    const linked = png('course/images/linked.png', 300);
    const a = png('course/images/a.png', 100);
    const b = png('course/images/b.png', 200);
    fs.utimesSync(a, new Date(2000), new Date(2000_000));
    const links = new ImageLinkIndex();
    links.set({ path: path.join(ws, 'course', 'lesson.md'), text: '![l](images/linked.png)', root: ws });
    const plan = planCleanUp([linked, b, a].map(entryOf), (p) => links.isUnused(p));
    assert.deepEqual(plan.files.map((f) => path.basename(f.path)), ['a.png', 'b.png']);
    assert.equal(plan.bytes, 300);
  });

  it('moves what is still unlinked and unchanged; keeps what a document links now or what changed', async () => {
    const files = ['a', 'b', 'c', 'd'].map((n) => png(`images/${n}.png`));
    const plan = planCleanUp(files.map(entryOf), () => true);
    const linkedNow = new Set([files[1]]);
    fs.writeFileSync(files[2], Buffer.alloc(999, 2)); // regenerated in place after the confirmation
    fs.rmSync(files[3]);
    const trashed: string[] = [];
    const checks: CleanUpChecks = {
      isUnlinked: (p) => !linkedNow.has(p),
      contained: (p) => containedDirectly(p, [ws]),
      trash: async (p) => {
        trashed.push(p);
        fs.renameSync(p, path.join(outside, path.basename(p)));
      },
    };
    const r = await runCleanUp(plan, checks);
    assert.deepEqual(r.moved.map((f) => f.path), [files[0]]);
    assert.deepEqual(r.nowLinked.map((f) => f.path), [files[1]]);
    assert.deepEqual(r.skipped.map((f) => f.path).sort(), [files[2], files[3]].sort());
    assert.deepEqual(trashed, [files[0]]);
    assert.ok(fs.existsSync(files[1]) && fs.existsSync(files[2]));
  });

  it('never touches a file reached through a symbolic link, or outside the workspace', async function () {
    const target = png('real.png', 100, outside);
    const inside = png('images/inside.png');
    try {
      fs.symlinkSync(target, path.join(ws, 'images', 'link-out.png'));
      fs.symlinkSync(path.join(ws, 'images'), path.join(ws, 'alias'), 'dir');
      fs.symlinkSync(outside, path.join(ws, 'external'), 'dir');
    } catch {
      this.skip(); // no symbolic links here (Windows without the privilege)
    }
    const candidates = [
      path.join(ws, 'images', 'link-out.png'), // a link to a file outside
      path.join(ws, 'alias', 'inside.png'), // a folder link inside the workspace: the same file under another path
      path.join(ws, 'external', 'real.png'), // a folder link to outside
      target, // outside itself
      inside,
    ];
    const st = fs.statSync(inside);
    const plan = { files: candidates.map((p) => ({ path: p, label: p, size: st.size, mtimeMs: st.mtimeMs })), bytes: 0 };
    const trashed: string[] = [];
    const r = await runCleanUp(plan, { isUnlinked: () => true, contained: (p) => containedDirectly(p, [ws]), trash: async (p) => void trashed.push(p) });
    assert.deepEqual(trashed, [inside]);
    assert.equal(r.skipped.length, 4);
    assert.equal(await containedDirectly(path.join(ws, 'images'), [ws]), undefined, 'a folder is not a file');
  });

  it('a workspace of 200 lessons and 1,000 images: read, plan and check (timings printed, not asserted)', async () => {
    const lessons = Array.from({ length: 200 }, (_, d) => {
      const p = path.join(ws, 'course', `lesson${d}`, 'index.md');
      const body = [`# Lesson ${d}`, ''];
      for (let i = 0; i < 4; i++) body.push('Teaching text about the heart and its chambers. '.repeat(10), '', `![figure ${i}](images/fig-${i}.png)`, '');
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, body.join('\n'));
      return p;
    });
    // 5 images per lesson, 4 linked: 200 unlinked.
    const images = lessons.flatMap((_, d) => Array.from({ length: 5 }, (__, i) => png(`course/lesson${d}/images/fig-${i}.png`, 64)));
    const t0 = performance.now();
    const links = new ImageLinkIndex();
    await Promise.all(lessons.map(async (p) => links.set({ path: p, text: await fs.promises.readFile(p, 'utf8'), root: ws })));
    const t1 = performance.now();
    const plan = planCleanUp(images.map(entryOf), (p) => links.isUnused(p));
    const t2 = performance.now();
    const r = await runCleanUp(plan, { isUnlinked: (p) => links.isUnused(p), contained: (p) => containedDirectly(p, [ws]), trash: async () => undefined });
    const t3 = performance.now();
    console.log(
      `      200 lessons read and indexed in ${(t1 - t0).toFixed(0)} ms; 1,000 images planned in ${(t2 - t1).toFixed(1)} ms; ` +
        `${r.moved.length} re-checked on disk (containment, size, time) in ${(t3 - t2).toFixed(0)} ms`,
    );
    assert.equal(plan.files.length, 200);
    assert.equal(r.moved.length, 200);
  });

  it('reports a file the trash refuses as failed and goes on; cancelling leaves the rest', async () => {
    const files = ['a', 'b', 'c'].map((n) => png(`images/${n}.png`));
    const plan = planCleanUp(files.map(entryOf), () => true);
    let cancel = false;
    const r = await runCleanUp(
      plan,
      {
        isUnlinked: () => true,
        contained: (p) => containedDirectly(p, [ws]),
        trash: async (p) => {
          if (p === files[0]) throw new Error('Unable to delete file via trash because provider does not support it.');
          cancel = true;
        },
        cancelled: () => cancel,
      },
      1,
    );
    assert.deepEqual(r.failed.map((f) => [path.basename(f.file.path), f.message]), [['a.png', 'Unable to delete file via trash because provider does not support it.']]);
    assert.deepEqual(r.moved.map((f) => path.basename(f.path)), ['b.png']);
    assert.deepEqual(r.notDone.map((f) => path.basename(f.path)), ['c.png']);
    assert.ok(files.every((f) => fs.existsSync(f)), 'nothing was deleted by the clean-up itself');
  });
});
