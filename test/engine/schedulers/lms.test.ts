// Ported from diffusers tests/schedulers/test_scheduler_lms.py (golden sums and means with the
// same tolerances), plus checks of the multistep coefficients and the SD v1.5 schedule.
import * as assert from 'assert';
import { LMSDiscreteScheduler } from '../../../src/engine/schedulers/lms';
import { dummyModel, dummySampleDeter } from './dummy';
import { SD15_CONFIG, assertSumMean, runLoop } from './helpers';

const TEST_CONFIG = { num_train_timesteps: 1100, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear' };
function fullLoop(config: Record<string, unknown>): Float32Array {
  const scheduler = new LMSDiscreteScheduler(config);
  scheduler.setTimesteps(10);
  return runLoop(scheduler);
}

describe('LMSDiscreteScheduler', () => {
  describe('diffusers golden full loops', () => {
    it('full loop, no noise', () => {
      const sample = fullLoop(TEST_CONFIG);
      assertSumMean(sample, 1006.388, 1.31);
    });

    it('full loop with v_prediction', () => {
      const sample = fullLoop({ ...TEST_CONFIG, prediction_type: 'v_prediction' });
      assertSumMean(sample, 0.0017, 2.2676e-6);
    });

    it('full loop with karras sigmas', () => {
      const sample = fullLoop({ ...TEST_CONFIG, use_karras_sigmas: true });
      assertSumMean(sample, 3812.9927, 4.9648, 2e-2);
    });

    it('full loop with noise (add_noise, starting two steps from the end)', () => {
      const scheduler = new LMSDiscreteScheduler(TEST_CONFIG);
      scheduler.setTimesteps(10);
      const sample = runLoop(scheduler, { from: 8 });
      assertSumMean(sample, 27663.6895, 36.0204);
    });
  });

  describe('multistep coefficients (the integral diffusers takes with scipy quad)', () => {
    const s = new LMSDiscreteScheduler(TEST_CONFIG);
    s.setTimesteps(10);
    const step = (t: number) => s.sigmas[t + 1] - s.sigmas[t];

    it('order 1 is the Euler step', () => {
      assert.strictEqual(s.lmsCoefficient(1, 0, 0), step(0));
    });

    it('the Lagrange basis sums to one, so the coefficients of any order sum to the step', () => {
      for (const order of [2, 3, 4]) {
        const t = 5;
        let total = 0;
        for (let c = 0; c < order; c++) total += s.lmsCoefficient(order, t, c);
        assert.ok(Math.abs(total - step(t)) < 1e-12 * Math.abs(step(t)) + 1e-15, `order ${order}`);
      }
    });

    it('integrates a cubic basis exactly (checked against a fine Simpson rule)', () => {
      const t = 6;
      const order = 4;
      const sig = s.sigmas;
      for (let c = 0; c < order; c++) {
        const basis = (tau: number) => {
          let p = 1;
          for (let k = 0; k < order; k++) if (k !== c) p *= (tau - sig[t - k]) / (sig[t - c] - sig[t - k]);
          return p;
        };
        const a = sig[t];
        const b = sig[t + 1];
        const n = 2000;
        const h = (b - a) / n;
        let simpson = basis(a) + basis(b);
        for (let i = 1; i < n; i++) simpson += (i % 2 ? 4 : 2) * basis(a + i * h);
        simpson *= h / 3;
        assert.ok(Math.abs(s.lmsCoefficient(order, t, c) - simpson) < 1e-9, `basis ${c}`);
      }
    });
  });

  describe('Stable Diffusion v1.5 schedule', () => {
    it('20 steps: the fractional linspace timesteps shared with Euler', () => {
      const s = new LMSDiscreteScheduler(SD15_CONFIG);
      s.setTimesteps(20);
      assert.strictEqual(s.timesteps.length, 20);
      assert.strictEqual(s.timesteps[1], Math.fround(946.4211));
      assert.strictEqual(s.timesteps[10], Math.fround(473.21054));
      assert.strictEqual(s.sigmas[10], Math.fround(1.4805826));
      assert.strictEqual(s.initNoiseSigma, Math.fround(14.614645));
    });

    it('20 steps with karras sigmas', () => {
      const s = new LMSDiscreteScheduler({ ...SD15_CONFIG, use_karras_sigmas: true });
      s.setTimesteps(20);
      assert.strictEqual(s.timesteps[2], Math.fround(921.04205));
      assert.strictEqual(s.timesteps[19], 0);
      assert.strictEqual(s.sigmas[1], Math.fround(11.725371));
    });

    it('a loop over the SD schedule stays finite', () => {
      const s = new LMSDiscreteScheduler(SD15_CONFIG);
      s.setTimesteps(20);
      let x: Float32Array = dummySampleDeter().map((v) => v * s.initNoiseSigma);
      for (const t of s.timesteps) {
        const input = s.scaleModelInput(x, t);
        x = s.step(dummyModel(input, t), t, input).prevSample;
      }
      assert.ok(x.every(Number.isFinite));
    });
  });

  describe('bad config values', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ prediction_type: 'noise' }, /LMSDiscreteScheduler.*"prediction_type".*"epsilon", "v_prediction", "sample"/],
      [{ timestep_spacing: 'log' }, /"timestep_spacing".*"leading", "trailing", "linspace"/],
      [{ use_exponential_sigmas: true, use_karras_sigmas: true }, /only one/],
      [{ use_beta_sigmas: true }, /"use_beta_sigmas".*not supported/],
      [{ num_train_timesteps: 0 }, /"num_train_timesteps"/],
    ];
    for (const [extra, pattern] of cases) {
      it(`${JSON.stringify(extra)} -> Error naming the key and the valid values`, () => {
        assert.throws(() => new LMSDiscreteScheduler({ ...SD15_CONFIG, ...extra }), pattern);
      });
    }
  });
});
