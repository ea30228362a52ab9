import * as assert from 'assert';
import { imageFileName, nextFreeName, slugify } from '../../src/core/fileNames';

describe('slugify', () => {
  it('makes lowercase ASCII words joined by dashes', () => {
    assert.strictEqual(slugify('A Cat, sitting on a MAT!'), 'a-cat-sitting-on-a-mat');
    assert.strictEqual(slugify('(masterpiece:1.2), [sketch] of a heart'), 'masterpiece-1-2-sketch-of-a-heart');
    assert.strictEqual(slugify('  --weird__spacing--  '), 'weird-spacing');
  });

  it('spells Chinese as pinyin (polyphones read in context), or keeps it when asked', () => {
    assert.strictEqual(slugify('标注清晰的植物细胞结构图'), 'biao-zhu-qing-xi-de-zhi-wu-xi-bao-jie-gou-tu');
    assert.strictEqual(slugify('银行行长'), 'yin-hang-hang-zhang');
    assert.strictEqual(slugify('Café 植物 cell'), 'cafe-zhi-wu-cell');
    assert.strictEqual(slugify('标注清晰的植物细胞结构图', 48, 'original'), '标注清晰的植物细胞结构图');
    assert.strictEqual(slugify('心脏 (heart:1.2) 结构', 48, 'original'), '心脏-heart-1-2-结构');
    assert.strictEqual(imageFileName('植物细胞', 42), 'zhi-wu-xi-bao-42.png');
    assert.strictEqual(imageFileName('植物细胞', 42, 'original'), '植物细胞-42.png');
  });

  it('leaves LoRA tags out of the name', () => {
    assert.equal(slugify('a heart <lora:anatomy-lineart:0.8> diagram <LYCO:x>'), 'a-heart-diagram');
  });

  it('drops accents and keeps ASCII only', () => {
    assert.strictEqual(slugify('Crème brûlée à la Façade, Straße'), 'creme-brulee-a-la-facade-strasse');
    assert.match(slugify('Ünïcode 🐱 ✓ 日本 test'), /^[a-z0-9-]+$/);
    assert.strictEqual(slugify('Ünïcode 🐱 ✓ test'), 'unicode-test');
  });

  it('falls back to "illustration" when nothing is left', () => {
    assert.strictEqual(slugify(''), 'illustration');
    assert.strictEqual(slugify('日本語のプロンプト'), 'illustration', 'Japanese is not spelled as pinyin');
    assert.strictEqual(slugify('!!! ???'), 'illustration');
  });

  it('cuts at a word boundary within maxLen', () => {
    const s = slugify('one two three four five six seven eight nine ten eleven twelve');
    assert.ok(s.length <= 48, s);
    assert.strictEqual(s, 'one-two-three-four-five-six-seven-eight-nine-ten');
    assert.strictEqual(slugify('alpha beta gamma', 10), 'alpha-beta');
    assert.strictEqual(slugify('supercalifragilistic', 5), 'super');
    assert.ok(!slugify('a b c d e f g h i j k l m n o p q r s t u v w x y z', 7).endsWith('-'));
  });

  it('avoids names Windows cannot create', () => {
    assert.strictEqual(slugify('CON'), 'con-image');
    assert.strictEqual(slugify('nul'), 'nul-image');
  });
});

describe('imageFileName', () => {
  it('is <slug>-<seed>.png', () => {
    assert.strictEqual(imageFileName('A red apple', 1234), 'a-red-apple-1234.png');
    assert.strictEqual(imageFileName('', 0), 'illustration-0.png');
  });
});

describe('nextFreeName', () => {
  it('returns the name when it is free', () => {
    assert.strictEqual(nextFreeName('cat-1.png', () => false), 'cat-1.png');
  });

  it('numbers before the extension and skips taken names', () => {
    const taken = new Set(['cat-1.png', 'cat-1-2.png', 'cat-1-3.png']);
    assert.strictEqual(nextFreeName('cat-1.png', (n) => taken.has(n)), 'cat-1-4.png');
  });

  it('handles names without extension and folders with dots', () => {
    assert.strictEqual(nextFreeName('notes', (n) => n === 'notes'), 'notes-2');
    assert.strictEqual(nextFreeName('my.dir/img', (n) => n === 'my.dir/img'), 'my.dir/img-2');
    assert.strictEqual(nextFreeName('img/.hidden', (n) => n === 'img/.hidden'), 'img/.hidden-2');
  });

  it('never returns an existing name', () => {
    const taken = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const n = nextFreeName('x.png', (c) => taken.has(c));
      assert.ok(!taken.has(n));
      taken.add(n);
    }
    assert.strictEqual(taken.size, 20);
  });
});
