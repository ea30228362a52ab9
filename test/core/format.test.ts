import assert from 'node:assert/strict';
import { formatBytes, formatDurationClock, formatDurationWords } from '../../src/core/format';
import { formatProgress } from '../../src/core/modelsProtocol';

describe('core/format', () => {
  it('writes a duration in milliseconds as words (panel ETA, downloads, the models CLI)', () => {
    assert.equal(formatDurationWords(0), '0 s');
    assert.equal(formatDurationWords(12_300), '12 s');
    assert.equal(formatDurationWords(59_600), '1 min 00 s');
    assert.equal(formatDurationWords(65_000), '1 min 05 s');
    assert.equal(formatDurationWords(75_000), '1 min 15 s');
    assert.equal(formatDurationWords(3_900_000), '1 h 05 min');
    assert.equal(formatDurationWords(-1000), '', 'unknown');
    assert.equal(formatDurationWords(NaN), '');
    assert.equal(formatDurationWords(Infinity), '');
  });

  it('writes a duration in milliseconds as a clock (progress notification, CLI ETA)', () => {
    assert.equal(formatDurationClock(0), '0:00');
    assert.equal(formatDurationClock(42_000), '0:42');
    assert.equal(formatDurationClock(59_600), '1:00');
    assert.equal(formatDurationClock(3_725_000), '1:02:05');
    assert.equal(formatDurationClock(-5), '');
    assert.equal(formatDurationClock(NaN), '');
  });

  it('writes sizes in decimal units', () => {
    assert.equal(formatBytes(999), '999 B');
    assert.equal(formatBytes(1536), '1.5 KB');
    assert.equal(formatBytes(4.3e9), '4.3 GB');
    assert.equal(formatBytes(250e6), '250 MB');
    assert.equal(formatBytes(-1), '?');
  });

  it('a download line gives its ETA, which arrives in seconds, in words', () => {
    const p = { operationId: 'o', id: 'm', phase: 'downloading' as const, filesDone: 1, filesTotal: 3, bytesDone: 1.2e9, bytesTotal: 4.3e9, bytesPerSecond: 12.5e6, etaSeconds: 248 };
    assert.equal(formatProgress(p), '1.2 GB of 4.3 GB, 12.5 MB/s, 4 min 08 s left');
    assert.equal(formatProgress({ ...p, etaSeconds: -1 }), '1.2 GB of 4.3 GB, 12.5 MB/s');
  });
});
