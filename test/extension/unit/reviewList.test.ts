import assert from 'node:assert/strict';
import { type ReviewItem, byDocument, parseSavedReview, savedReview, withItem } from '../../../src/extension/course/reviewList';

function item(id: string, uri: string, line: number, image = `/staging/${id}.png`): ReviewItem {
  return {
    id,
    stub: { uri, line, prompt: `p${id}`, kind: 'empty-link' },
    image,
    seed: 1,
    width: 64,
    height: 64,
    infotext: 'p',
    settings: { prompt: `p${id}` },
    alt: `p${id}`,
    label: { domain: 'general', lang: 'en' },
  };
}

describe('course review list (Review First)', () => {
  it('groups waiting images by lesson, lessons in lesson order, images in line order', () => {
    const items = [item('a', 'file:///c/lesson-10.md', 3), item('b', 'file:///c/lesson-2.md', 9), item('c', 'file:///c/lesson-2.md', 1)];
    assert.deepEqual(
      byDocument(items).map((g) => [g.uri, g.items.map((i) => i.id)]),
      [['file:///c/lesson-2.md', ['c', 'b']], ['file:///c/lesson-10.md', ['a']]],
    );
  });

  it('is kept in workspace state and read back; malformed entries and vanished files are dropped', () => {
    const items = [item('a', 'file:///l.md', 1), item('b', 'file:///l.md', 2, '/gone.png')];
    const raw = JSON.parse(JSON.stringify(savedReview(items)));
    raw.items.push({ id: 'x' }, { ...item('c', 'file:///l.md', 3), label: { domain: 'weird', lang: 'en' } });
    assert.deepEqual(parseSavedReview(raw, (f) => f !== '/gone.png').map((i) => i.id), ['a']);
    assert.deepEqual(parseSavedReview({ version: 2, items }, () => true), []);
    assert.equal(savedReview([]), undefined, 'an empty list is no state');
  });

  it('replaces an item by id, or adds it', () => {
    const a = item('a', 'file:///l.md', 1);
    const list = withItem([a], { ...a, seed: 7 });
    assert.deepEqual(list.map((i) => i.seed), [7]);
    assert.equal(withItem(list, item('b', 'file:///l.md', 2)).length, 2);
  });
});
