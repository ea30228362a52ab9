import assert from 'node:assert/strict';
import { ImageLinkIndex, imageKey, imagesOfDocument, mentionedNames } from '../../src/core/imageLinks';

const LESSON = '/ws/course/lesson1/intro.md';
const linksOf = (text: string, path = LESSON) => imagesOfDocument({ path, text, root: '/ws' });

describe('core/imageLinks', () => {
  it('resolves Markdown image links against the document: relative, ../, %20, angle brackets, titles', () => {
    const r = linksOf(
      [
        '![a](images/a.png)',
        '![b](../shared/b.png "A title")',
        '![c](<my pics/c d.png>)',
        '![e](heart%20cells.png)',
        '![f](./images/F.PNG)',
        '![g](images/%E5%BF%83%E8%84%8F.png)',
      ].join('\n\n'),
    );
    assert.deepEqual(r.links, [
      '/ws/course/lesson1/images/a.png',
      '/ws/course/shared/b.png',
      '/ws/course/lesson1/my pics/c d.png',
      '/ws/course/lesson1/heart cells.png',
      '/ws/course/lesson1/images/f.png',
      '/ws/course/lesson1/images/心脏.png',
    ]);
    assert.deepEqual(r.names, [], 'a link is not also counted as a mention of its name');
  });

  it('reads a link starting with "/" as from the workspace folder and as an absolute path', () => {
    assert.deepEqual(linksOf('![x](/course/images/x.png)').links, ['/course/images/x.png', '/ws/course/images/x.png']);
  });

  it('decodes what decodeURI leaves encoded (%23 is "#"), keeping the literal form as well', () => {
    assert.deepEqual(linksOf('![x](images/a%231.png)').links, ['/ws/course/lesson1/images/a%231.png', '/ws/course/lesson1/images/a#1.png']);
  });

  it('works with Windows paths and case: keys are POSIX and lower case', () => {
    const r = imagesOfDocument({ path: 'C:\\ws\\Course\\intro.md', text: '![a](Images/A.png)', root: 'C:\\ws' });
    assert.deepEqual(r.links, ['/c:/ws/course/images/a.png']);
    assert.equal(imageKey('C:\\ws\\Course\\Images\\A.png'), '/c:/ws/course/images/a.png');
  });

  it('ignores remote and non-PNG images and stubs, as the parser does', () => {
    const r = linksOf('![a](https://example.org/a.png)\n\n![b](images/b.jpg)\n\n![a stub]()\n\n![t](TODO)\n');
    assert.deepEqual(r.links, []);
    assert.deepEqual(r.names, ['a.png'], 'the remote one still names a.png: the safety net keeps a local a.png');
  });

  it('does not read links in code, HTML or reference definitions as links, but keeps their file names as mentions', () => {
    const r = linksOf(
      [
        '```markdown',
        '![x](images/code.png)',
        '```',
        '',
        'Inline `![y](images/inline.png)` code.',
        '',
        '<img src="images/html%20pic.png" width="300">',
        '',
        '![ref][r]',
        '',
        '[r]: images/ref.png',
      ].join('\n'),
    );
    assert.deepEqual(r.links, [], 'the stub parser reads inline ![alt](path) images only, never in code');
    assert.deepEqual(r.names.sort(), ['code.png', 'html pic.png', 'inline.png', 'pic.png', 'ref.png']);
  });

  it('counts a name mentioned besides its link (same name, another folder) as a mention', () => {
    const r = linksOf('![a](images/a.png)\n\n<img src="old/a.png">\n');
    assert.deepEqual(r.links, ['/ws/course/lesson1/images/a.png']);
    assert.deepEqual(r.names, ['a.png']);
  });

  it('finds file names in prose, with spaces and %-encoding', () => {
    const m = mentionedNames('See heart cells.png and x/y%20z.png, not a.pngx.');
    assert.deepEqual([...m.keys()], ['see heart cells.png', 'heart cells.png', 'cells.png', 'y z.png', 'z.png']);
  });

  describe('ImageLinkIndex', () => {
    it('answers which documents link or name an image, and follows edits and deletions', () => {
      const index = new ImageLinkIndex();
      assert.equal(index.set({ path: '/ws/a.md', text: '![x](img/x.png)', root: '/ws' }), true);
      index.set({ path: '/ws/sub/b.md', text: '![x](../img/x.png)\n\n<img src="../img/y.png">', root: '/ws' });
      assert.deepEqual(index.use('/ws/img/x.png'), { linkedFrom: ['/ws/a.md', '/ws/sub/b.md'], namedIn: [] });
      assert.deepEqual(index.use('/ws/img/y.png'), { linkedFrom: [], namedIn: ['/ws/sub/b.md'] });
      assert.equal(index.isUnused('/ws/img/z.png'), true);
      assert.equal(index.isUnused('/WS/IMG/X.PNG'), false);

      assert.equal(index.set({ path: '/ws/a.md', text: '![x](img/x.png)', root: '/ws' }), false, 'same links: no change');
      index.set({ path: '/ws/a.md', text: 'no images any more', root: '/ws' });
      assert.deepEqual(index.use('/ws/img/x.png').linkedFrom, ['/ws/sub/b.md']);
      assert.equal(index.deleteUnder('/ws/sub'), 1);
      assert.equal(index.isUnused('/ws/img/x.png'), true);
      assert.equal(index.isUnused('/ws/img/y.png'), true);
      assert.equal(index.delete('/ws/a.md'), true);
      assert.equal(index.size, 0);
    });

    it('reads 200 lessons and answers for 1,000 images quickly (timings printed, not asserted)', () => {
      const docs = Array.from({ length: 200 }, (_, d) => {
        const lines = [`# Lesson ${d}`, ''];
        for (let i = 0; i < 4; i++) {
          lines.push('Some teaching text about cells, organs and the heart, long enough to look like a lesson. '.repeat(8), '');
          lines.push(`<!-- illustrate: a diagram number ${i} of lesson ${d} | seed: ${i} -->`);
          lines.push(`![diagram ${i}](images/lesson${d}/diagram-${i}.png)`, '');
        }
        lines.push('```', `![not a link](images/lesson${d}/in-code.png)`, '```');
        return { path: `/ws/course/lesson${d}.md`, text: lines.join('\n'), root: '/ws' };
      });
      const images = Array.from({ length: 1000 }, (_, i) => `/ws/course/images/lesson${i % 250}/diagram-${Math.floor(i / 250)}.png`);
      const bytes = docs.reduce((n, d) => n + d.text.length, 0);
      const t0 = performance.now();
      const index = new ImageLinkIndex();
      for (const d of docs) index.set(d);
      const t1 = performance.now();
      const unused = images.filter((p) => index.isUnused(p)).length;
      const t2 = performance.now();
      index.set({ ...docs[7], text: docs[7].text.replace('diagram-0.png', 'diagram-9.png') });
      const afterEdit = images.filter((p) => index.isUnused(p)).length;
      const t3 = performance.now();
      console.log(
        `      200 lessons (${(bytes / 1024).toFixed(0)} KB): parsed in ${(t1 - t0).toFixed(1)} ms; 1,000 images checked in ${(t2 - t1).toFixed(1)} ms; ` +
          `one lesson edited and all checked again in ${(t3 - t2).toFixed(1)} ms`,
      );
      assert.equal(unused, 200, 'lessons 200-249 do not exist: their 4 x 50 images are unlinked');
      assert.equal(afterEdit, 201);
    });
  });
});
