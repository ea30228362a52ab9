import assert from 'node:assert/strict';
import { checkEmphasis, formatEta, formatTokenCount } from '../../src/core/tokenDisplay';

describe('tokenDisplay', () => {
  it('shows the count over one window for short prompts', () => {
    assert.deepEqual(formatTokenCount(31, 1), { count: 31, windows: 1, text: '31/75', over: false });
    assert.equal(formatTokenCount(0).text, '0/75');
    assert.equal(formatTokenCount(75).text, '75/75');
  });

  it('shows the capacity of the windows in use past 75 tokens', () => {
    const info = formatTokenCount(90, 2);
    assert.equal(info.text, '90/150');
    assert.equal(info.over, true);
    assert.equal(formatTokenCount(151).text, '151/225', 'windows computed when the engine does not say');
  });

  it('accepts valid emphasis syntax', () => {
    assert.deepEqual(checkEmphasis('a (red:1.3) cat, [blurry], ((sharp)), \\(literal\\)'), []);
    assert.deepEqual(checkEmphasis('plain prompt, no brackets'), []);
  });

  it('points at unclosed and unmatched brackets', () => {
    const p = checkEmphasis('a (red cat');
    assert.equal(p.length, 1);
    assert.equal(p[0].start, 2);
    assert.match(p[0].message, /never closed/);
    const q = checkEmphasis('a red) cat');
    assert.equal(q[0].start, 5);
    assert.match(q[0].message, /no matching/);
  });

  it('reports mismatched pairs, empty groups and bad weights', () => {
    assert.match(checkEmphasis('(red]')[0].message, /closed by/);
    assert.match(checkEmphasis('a () b')[0].message, /empty/);
    const bad = checkEmphasis('(red:heavy)');
    assert.equal(bad.length, 1);
    assert.equal('(red:heavy)'.slice(bad[0].start, bad[0].end), 'heavy');
    assert.match(checkEmphasis('(red:7)')[0].message, /outside/);
  });

  it('formats the ETA', () => {
    assert.equal(formatEta(12_300), '12 s');
    assert.equal(formatEta(65_000), '1 min 05 s');
    assert.equal(formatEta(NaN), '');
  });
});
