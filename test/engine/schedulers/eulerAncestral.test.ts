// Ported from diffusers tests/schedulers/test_scheduler_euler_ancestral.py: the golden numbers
// depend on torch.manual_seed(0)'s stream, so they also check that every step draws its noise
// from the generator exactly where diffusers does.
import * as assert from 'assert';
import { EulerAncestralDiscreteScheduler } from '../../../src/engine/schedulers/eulerAncestral';
import { TorchGenerator } from '../../../src/engine/rng/torchGenerator';
import { dummyModel, dummySampleDeter, DUMMY_SIZE } from './dummy';
import { SD15_CONFIG, assertSumMean, runLoop } from './helpers';

const TEST_CONFIG = { num_train_timesteps: 1100, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear' };
function fullLoop(config: Record<string, unknown>, generator = new TorchGenerator(0)): Float32Array {
  const scheduler = new EulerAncestralDiscreteScheduler(config);
  scheduler.setTimesteps(10);
  return runLoop(scheduler, { generator });
}

describe('EulerAncestralDiscreteScheduler', () => {
  describe('diffusers golden full loops (generator = torch.manual_seed(0))', () => {
    it('full loop, no noise', () => {
      const sample = fullLoop(TEST_CONFIG);
      assertSumMean(sample, 152.3192, 0.1983);
    });

    it('full loop with v_prediction', () => {
      const sample = fullLoop({ ...TEST_CONFIG, prediction_type: 'v_prediction' });
      assertSumMean(sample, 108.4439, 0.1412);
    });

    it('full loop with noise (add_noise, starting two steps from the end)', () => {
      const scheduler = new EulerAncestralDiscreteScheduler(TEST_CONFIG);
      scheduler.setTimesteps(10);
      const generator = new TorchGenerator(0);
      const sample = runLoop(scheduler, { from: 8, generator });
      assertSumMean(sample, 56163.0508, 73.129);
    });
  });

  describe('noise stream', () => {
    it('draws randn(modelOutput.length) on every step, so the stream continues as in diffusers', () => {
      const generator = new TorchGenerator(42);
      fullLoop(TEST_CONFIG, generator);
      const reference = new TorchGenerator(42);
      for (let i = 0; i < 10; i++) reference.randn(DUMMY_SIZE);
      assert.deepStrictEqual(generator.randn(8), reference.randn(8));
    });

    it('adds sigma_up times the drawn noise to the Euler move', () => {
      // A fresh scheduler finds step 3 from its timestep.
      const at3 = new EulerAncestralDiscreteScheduler(TEST_CONFIG);
      at3.setTimesteps(10);
      const t = at3.timesteps[3];
      const x = dummySampleDeter();
      const m = dummyModel(x, t);
      const withNoise = at3.step(m, t, x, new TorchGenerator(3)).prevSample;
      const noise = new TorchGenerator(3).randn(DUMMY_SIZE);
      const f = Math.fround;
      const from = at3.sigmas[3];
      const to = at3.sigmas[4];
      const up = f(Math.sqrt(f(f(f(to * to) * f(f(from * from) - f(to * to))) / f(from * from))));
      const down = f(Math.sqrt(f(f(to * to) - f(up * up))));
      for (let k = 0; k < DUMMY_SIZE; k += 97) {
        const x0 = x[k] - from * m[k];
        const moved = f(x[k] + ((x[k] - x0) / from) * f(down - from));
        assert.ok(Math.abs(withNoise[k] - (moved + noise[k] * up)) < 1e-6, `element ${k}`);
      }
    });

    it('needs the generator', () => {
      const s = new EulerAncestralDiscreteScheduler(TEST_CONFIG);
      s.setTimesteps(10);
      const x = dummySampleDeter();
      assert.throws(() => s.step(x, s.timesteps[0], x), /EulerAncestralDiscreteScheduler\.step.*generator/);
    });
  });

  describe('Stable Diffusion v1.5 schedule', () => {
    it('20 steps: the same fractional timesteps and sigmas as Euler', () => {
      const s = new EulerAncestralDiscreteScheduler(SD15_CONFIG);
      s.setTimesteps(20);
      const expected = [999, 946.4211, 893.8421, 841.2632, 788.6842, 736.1053, 683.5263, 630.9474, 578.3684, 525.7895,
        473.21054, 420.6316, 368.05264, 315.4737, 262.89474, 210.3158, 157.73685, 105.1579, 52.57895, 0];
      assert.deepStrictEqual(s.timesteps, expected.map(Math.fround));
      assert.strictEqual(s.sigmas[1], Math.fround(10.746849));
      assert.strictEqual(s.sigmas[19], Math.fround(0.029167533));
      assert.strictEqual(s.sigmas[20], 0);
      assert.strictEqual(s.initNoiseSigma, Math.fround(14.614645));
    });

    it('"leading" spacing: integer timesteps shifted by steps_offset', () => {
      const s = new EulerAncestralDiscreteScheduler({ ...SD15_CONFIG, timestep_spacing: 'leading' });
      s.setTimesteps(20);
      assert.deepStrictEqual(s.timesteps.slice(0, 3), [951, 901, 851]);
      assert.strictEqual(s.timesteps[19], 1);
      assert.strictEqual(s.initNoiseSigma, Math.fround(11.07358));
    });
  });

  describe('bad config values', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ prediction_type: 'sample' }, /"prediction_type" = "sample" is not implemented.*"epsilon" or "v_prediction"/],
      [{ prediction_type: 'x0' }, /"prediction_type".*"epsilon", "v_prediction"/],
      [{ timestep_spacing: 'uniform' }, /"timestep_spacing".*"leading", "trailing", "linspace"/],
      [{ steps_offset: -1 }, /"steps_offset".*integer >= 0/],
    ];
    for (const [extra, pattern] of cases) {
      it(`${JSON.stringify(extra)} -> Error naming the key and the valid values`, () => {
        assert.throws(() => new EulerAncestralDiscreteScheduler({ ...SD15_CONFIG, ...extra }), pattern);
      });
    }
  });
});
