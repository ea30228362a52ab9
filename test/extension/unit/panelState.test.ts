import assert from 'node:assert/strict';
import { readConfig } from '../../../src/extension/config';
import { JobList, defaultSettings, restoreResults } from '../../../src/extension/panel/panelState';

const cfg = readConfig({ get: <T>(k: string) => ({ steps: 30, guidance: 6, scheduler: 'Euler a', size: '768x512', negativePrompt: 'blurry' } as Record<string, unknown>)[k] as T });

describe('results panel state', () => {
  it('fills the form from the user settings', () => {
    const s = defaultSettings(cfg);
    assert.deepEqual(
      { w: s.width, h: s.height, steps: s.steps, g: s.guidance, sched: s.scheduler, neg: s.negativePrompt, seed: s.seed },
      { w: 768, h: 512, steps: 30, g: 6, sched: 'euler-a', neg: 'blurry', seed: undefined },
    );
  });

  it('tracks the running job and the waiting ones', () => {
    const jobs = new JobList();
    jobs.add('a', 'first');
    jobs.add('b', 'second');
    jobs.add('c', 'third');
    assert.equal(jobs.running(), 'a');
    assert.deepEqual(jobs.list().map((j) => j.position), [0, 1, 2]);
    jobs.remove('a');
    jobs.setPosition('b', 0);
    jobs.setPosition('c', 1);
    assert.equal(jobs.running(), 'b');
    assert.deepEqual(jobs.list().map((j) => [j.jobId, j.position]), [['b', 0], ['c', 1]]);
  });

  it('restores saved results and drops malformed ones', () => {
    const settings = { ...defaultSettings(cfg), prompt: 'x' };
    const good = { id: 'img-1', path: '/ws/a.png', image: { path: '/ws/a.png', seed: 1, width: 512, height: 512, infotext: 'x' }, settings };
    const restored = restoreResults([
      good,
      { ...good, id: '../evil' },
      { ...good, settings: { ...settings, width: 7 } },
      { id: 'img-2' },
      'junk',
    ]);
    assert.deepEqual(restored.map((r) => r.id), ['img-1']);
    assert.deepEqual(restoreResults(undefined), []);
  });
});
