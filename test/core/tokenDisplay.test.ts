import assert from 'node:assert/strict';
import { formatTokenCount } from '../../src/core/tokenDisplay';

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
});
