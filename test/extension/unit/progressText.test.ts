import * as assert from 'assert';
import type { ProgressEvent } from '../../../src/core/protocol';
import { progressFraction, progressText } from '../../../src/extension/generation/progressText';
import { engineOptionsChanged, parseSize, readConfig } from '../../../src/extension/config';

const ev = (o: Partial<ProgressEvent>): ProgressEvent => ({ jobId: 'j', image: 0, images: 1, step: 0, total: 20, elapsedMs: 0, etaMs: 0, stage: 'denoise', ...o });

describe('extension/progressText and config', () => {
  it('shows "step 7/20 · ETA 0:42" while denoising', () => {
    assert.strictEqual(progressText(ev({ step: 7, etaMs: 42_000 })), 'step 7/20 · ETA 0:42');
    assert.strictEqual(progressText(ev({ step: 2, etaMs: 3_725_000, image: 1, images: 4 })), 'image 2/4 · step 2/20 · ETA 1:02:05');
    assert.strictEqual(progressText(ev({ stage: 'load', total: 0 })), 'loading the model…');
    assert.strictEqual(progressText(ev({ stage: 'load', step: 4, total: 15 })), 'preparing the model for this computer… 4/15');
  });

  it('counts progress over all images of a batch', () => {
    assert.strictEqual(progressFraction(ev({ step: 10, image: 1, images: 2 })), 0.75);
    assert.strictEqual(progressFraction(ev({ stage: 'save', image: 1, images: 2 })), 1);
  });

  it('reads settings into a frozen snapshot with safe fallbacks', () => {
    const src = (o: Record<string, unknown>) => ({ get: <T>(k: string) => o[k] as T });
    const c = readConfig(src({ size: '768x512', steps: 999, provider: 'nope', threads: 4 }), src({ 'copyFiles.destination': { '**/*.md': 'img/', bad: 3 } }));
    assert.deepStrictEqual([c.width, c.height, c.steps, c.provider, c.threads], [768, 512, 150, 'cpu', 4]);
    assert.deepStrictEqual(c.copyFilesDestination, { '**/*.md': 'img/' });
    assert.ok(Object.isFrozen(c));
    assert.strictEqual(parseSize('500x500'), undefined, 'multiples of 8 only');
    assert.ok(engineOptionsChanged(c, { ...c, lowMemory: true }));
    assert.strictEqual(c.unetWeights, 'full');
    assert.ok(engineOptionsChanged(c, { ...c, unetWeights: 'compact' }), 'the engine restarts with the compact UNet');
    assert.ok(engineOptionsChanged(c, { ...c, unetWeights: 'int8' }), 'and with the int8 UNet');
    assert.ok(!engineOptionsChanged(c, { ...c, steps: 3 }));
  });

  it('low memory: as set; unset, on for the CPU of a computer under 10 GiB (an 8 GB laptop), off otherwise and on GPUs', () => {
    const GiB = 2 ** 30;
    // As VS Code answers: get() gives the default (false) when unset; inspect() tells set from unset.
    const vscodeLike = (o: Record<string, unknown>, set: Record<string, unknown>) => ({
      get: <T>(k: string) => (k in set ? set[k] : o[k]) as T,
      inspect: <T>(k: string) => ({ globalValue: set[k] as T | undefined }),
    });
    const low = (set: Record<string, unknown>, totalMemory: number, provider = 'cpu') => {
      const c = readConfig(vscodeLike({ lowMemory: false, provider }, set), undefined, { totalMemory });
      return [c.lowMemory, c.lowMemoryAuto];
    };
    assert.deepStrictEqual(low({}, 7.6 * GiB), [true, true]);
    assert.deepStrictEqual(low({}, 15.5 * GiB), [false, false]);
    assert.deepStrictEqual(low({ lowMemory: false }, 7.6 * GiB), [false, false], 'set off, it stays off');
    assert.deepStrictEqual(low({ lowMemory: true }, 64 * GiB), [true, false]);
    assert.deepStrictEqual(low({}, 7.6 * GiB, 'cuda'), [false, false]);
    assert.deepStrictEqual(low({}, 7.6 * GiB, 'nope'), [true, true], 'an unknown provider is the CPU');
    // Tests' plain objects have no inspect(): what get() returns counts as set.
    assert.strictEqual(readConfig({ get: () => undefined }, undefined, { totalMemory: 4 * GiB }).lowMemory, true);
    assert.strictEqual(readConfig({ get: <T>(k: string) => (k === 'lowMemory' ? false : undefined) as T }, undefined, { totalMemory: 4 * GiB }).lowMemory, false);
  });

  it('reads the UNet weights setting, and the deprecated compactWeights: true as "compact"', () => {
    const src = (o: Record<string, unknown>) => ({ get: <T>(k: string) => o[k] as T });
    const weights = (o: Record<string, unknown>) => readConfig(src(o), src({})).unetWeights;
    assert.strictEqual(weights({ unetWeights: 'int8' }), 'int8');
    assert.strictEqual(weights({ unetWeights: 'int8', compactWeights: true }), 'int8');
    assert.strictEqual(weights({ unetWeights: 'full', compactWeights: true }), 'compact');
    assert.strictEqual(weights({ compactWeights: true }), 'compact');
    assert.strictEqual(weights({ unetWeights: 'int4' }), 'full');
  });
});
