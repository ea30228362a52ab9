import * as assert from 'assert';
import {
  type CurrentStub,
  type QueueItem,
  type SavedQueue,
  DEFAULT_SECONDS_PER_STEP_PER_MEGAPIXEL,
  estimateSeconds,
  estimateText,
  matchItem,
  orderDocuments,
  parseSavedQueue,
  parseSpeed,
  updateSpeed,
} from '../../../src/extension/course/courseQueue';

const stub = (line: number, prompt: string, o: Partial<CurrentStub> = {}): CurrentStub => ({ line, prompt, kind: 'empty-link', illustrated: false, ...o });
const item = (line: number, prompt: string, o: Partial<QueueItem> = {}): QueueItem => ({ uri: 'file:///c/a.md', line, prompt, kind: 'empty-link', ...o });

describe('extension/course/courseQueue', () => {
  it('orders lessons by path, numbers as numbers', () => {
    assert.deepStrictEqual(orderDocuments(['/c/lesson-10.md', '/c/lesson-2.md', '/c/b/intro.md', '/c/lesson-1.md']), ['/c/b/intro.md', '/c/lesson-1.md', '/c/lesson-2.md', '/c/lesson-10.md']);
  });

  it('finds a saved stub again after lines moved, by prompt and nearest line', () => {
    // An image went in above (a directive's line below it): everything moved down by one.
    const now = [stub(3, 'a heart', { kind: 'directive', illustrated: true }), stub(8, 'a plant cell'), stub(12, 'a lung')];
    assert.strictEqual(matchItem(item(7, 'a plant cell'), now, false), 1);
    assert.strictEqual(matchItem(item(11, 'a lung'), now, false), 2);
    // A directive with an image is done unless the run redoes them.
    assert.strictEqual(matchItem(item(3, 'a heart', { kind: 'directive' }), now, false), undefined);
    assert.strictEqual(matchItem(item(3, 'a heart', { kind: 'directive' }), now, true), 0);
    // Replaced by its link already: gone.
    assert.strictEqual(matchItem(item(5, 'a kidney'), now, false), undefined);
    // The same prompt twice: the nearer one.
    assert.strictEqual(matchItem(item(20, 'a cell'), [stub(2, 'a cell'), stub(21, 'a cell')], false), 1);
    assert.strictEqual(matchItem(item(20, 'a cell', { kind: 'directive' }), [stub(21, 'a cell')], false), undefined, 'the kind must match');
  });

  it('round-trips the saved queue through JSON and refuses malformed ones', () => {
    const q: SavedQueue = { version: 1, total: 3, includeIllustrated: false, items: [item(2, 'a cell'), item(6, 'a heart', { kind: 'directive', uri: 'file:///c/b.md' })] };
    assert.deepStrictEqual(parseSavedQueue(JSON.parse(JSON.stringify(q))), q);
    assert.strictEqual(parseSavedQueue(undefined), undefined);
    assert.strictEqual(parseSavedQueue({ ...q, version: 2 }), undefined);
    assert.strictEqual(parseSavedQueue({ ...q, items: [] }), undefined, 'nothing left: nothing to resume');
    const odd = parseSavedQueue({ ...q, items: [...q.items, { uri: 5, line: 1, prompt: 'x', kind: 'empty-link' }, { uri: 'u', line: -1, prompt: 'x', kind: 'empty-link' }] });
    assert.deepStrictEqual(odd?.items, q.items, 'bad items are dropped');
  });

  it('measures seconds per step per megapixel, leaving model loading out, as a moving average', () => {
    const first = updateSpeed(undefined, { steps: 20, width: 1000, height: 1000, images: 1, totalMs: 45_000, loadMs: 5_000 });
    assert.deepStrictEqual(first, { secondsPerStepPerMegapixel: 2, jobs: 1 });
    const second = updateSpeed(first, { steps: 10, width: 500, height: 500, images: 2, totalMs: 20_000, loadMs: 0 });
    assert.ok(second && Math.abs(second.secondsPerStepPerMegapixel - (2 * 0.7 + 4 * 0.3)) < 1e-9 && second.jobs === 2);
    assert.strictEqual(updateSpeed(first, { steps: 20, width: 64, height: 64, images: 1, totalMs: 0, loadMs: 0 }), first, 'a job without timings changes nothing');
    assert.deepStrictEqual(parseSpeed(JSON.parse(JSON.stringify(second))), second);
    assert.strictEqual(parseSpeed({ secondsPerStepPerMegapixel: -1, jobs: 1 }), undefined);
  });

  it('estimates from the measured speed, or the stated default', () => {
    const jobs = [
      { steps: 20, width: 1000, height: 1000 },
      { steps: 4, width: 500, height: 500 },
    ];
    assert.strictEqual(estimateSeconds(jobs, { secondsPerStepPerMegapixel: 2, jobs: 3 }), 42);
    assert.strictEqual(estimateSeconds(jobs, undefined), 21 * DEFAULT_SECONDS_PER_STEP_PER_MEGAPIXEL);
    assert.strictEqual(estimateText(42), 'under a minute');
    assert.strictEqual(estimateText(40 * 60 + 10), 'about 40 min');
    assert.strictEqual(estimateText(127 * 60), 'about 2 h 10 min');
    assert.strictEqual(estimateText(119 * 60), 'about 2 h');
  });
});
