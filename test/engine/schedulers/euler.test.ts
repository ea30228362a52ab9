// Ported from diffusers tests/schedulers/test_scheduler_euler.py (golden sums and means with the
// same tolerances), plus the Stable Diffusion v1.5 schedules this engine actually runs.
import * as assert from 'assert';
import { EulerDiscreteScheduler } from '../../../src/engine/schedulers/euler';
import { TorchGenerator } from '../../../src/engine/rng/torchGenerator';
import { dummyModel, dummySampleDeter, DUMMY_SIZE } from './dummy';
import { SD15_CONFIG, assertSumMean, runLoop } from './helpers';

const TEST_CONFIG = { num_train_timesteps: 1100, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear' };
function fullLoop(config: Record<string, unknown>, steps = 10): Float32Array {
  const scheduler = new EulerDiscreteScheduler(config);
  scheduler.setTimesteps(steps);
  return runLoop(scheduler, { generator: new TorchGenerator(0) });
}

function assertF32List(actual: readonly number[] | Float32Array, expected: number[], what: string): void {
  assert.strictEqual(actual.length, expected.length, `${what}: length`);
  expected.forEach((v, i) => assert.strictEqual(actual[i], Math.fround(v), `${what}[${i}]`));
}

describe('EulerDiscreteScheduler', () => {
  describe('diffusers golden full loops', () => {
    it('full loop, no noise', () => {
      const sample = fullLoop(TEST_CONFIG);
      assertSumMean(sample, 10.0807, 0.0131);
    });

    it('full loop with v_prediction', () => {
      const sample = fullLoop({ ...TEST_CONFIG, prediction_type: 'v_prediction' });
      assertSumMean(sample, 0.0002, 2.2676e-6);
    });

    it('full loop with karras sigmas', () => {
      const sample = fullLoop({ ...TEST_CONFIG, use_karras_sigmas: true });
      assertSumMean(sample, 124.52299499511719, 0.16213932633399963);
    });

    it('full loop with noise (add_noise, starting two steps from the end)', () => {
      const scheduler = new EulerDiscreteScheduler(TEST_CONFIG);
      scheduler.setTimesteps(10);
      const generator = new TorchGenerator(0);
      const sample = runLoop(scheduler, { from: 8, generator });
      assertSumMean(sample, 57062.9297, 74.3007);
    });

    it('prediction_type "sample" uses the model output as x0', () => {
      const scheduler = new EulerDiscreteScheduler({ ...TEST_CONFIG, prediction_type: 'sample' });
      scheduler.setTimesteps(10);
      const t = scheduler.timesteps[0];
      const x = dummySampleDeter();
      const out = scheduler.step(dummyModel(x, t), t, x);
      assert.deepStrictEqual(out.predOriginalSample, dummyModel(x, t));
    });
  });

  describe('Stable Diffusion v1.5 schedule (from_config of its PNDM config)', () => {
    it('20 steps: fractional linspace timesteps and interpolated sigmas', () => {
      const s = new EulerDiscreteScheduler(SD15_CONFIG);
      s.setTimesteps(20);
      assertF32List(s.timesteps, [999, 946.4211, 893.8421, 841.2632, 788.6842, 736.1053, 683.5263, 630.9474, 578.3684,
        525.7895, 473.21054, 420.6316, 368.05264, 315.4737, 262.89474, 210.3158, 157.73685, 105.1579, 52.57895, 0], 'timesteps');
      assertF32List(s.sigmas, [14.614645, 10.746849, 8.081535, 6.2049513, 4.8556647, 3.8653843, 3.1237688, 2.557168,
        2.1156616, 1.7648252, 1.4805826, 1.2458153, 1.0481428, 0.87842995, 0.7297195, 0.59643507, 0.47358626,
        0.35554704, 0.2321682, 0.029167533, 0], 'sigmas');
      assert.strictEqual(s.initNoiseSigma, Math.fround(14.614645));
    });

    it('25 steps', () => {
      const s = new EulerDiscreteScheduler(SD15_CONFIG);
      s.setTimesteps(25);
      assertF32List(s.timesteps, [999, 957.375, 915.75, 874.125, 832.5, 790.875, 749.25, 707.625, 666, 624.375, 582.75,
        541.125, 499.5, 457.875, 416.25, 374.625, 333, 291.375, 249.75, 208.125, 166.5, 124.875, 83.25, 41.625, 0], 'timesteps');
      assertF32List(s.sigmas.subarray(0, 5), [14.614645, 11.435941, 9.076808, 7.3019943, 5.948918], 'sigmas');
      assert.strictEqual(s.sigmas[24], Math.fround(0.029167533));
    });

    it('20 steps with karras sigmas: fractional timesteps from the sigma -> t inverse', () => {
      const s = new EulerDiscreteScheduler({ ...SD15_CONFIG, use_karras_sigmas: true });
      s.setTimesteps(20);
      assertF32List(s.timesteps, [999, 961.7328, 921.04205, 876.3137, 826.7906, 771.55194, 709.5297, 639.61475,
        560.97534, 473.74893, 380.13174, 285.3175, 197.08058, 123.39509, 69.25686, 34.697353, 15.481607, 5.991831,
        1.7829493, 0], 'timesteps');
      assertF32List(s.sigmas, [14.614645, 11.725371, 9.340211, 7.383626, 5.7894206, 4.4998436, 3.464755, 2.6408474,
        1.9909215, 1.4832165, 1.0907905, 0.79094946, 0.56472445, 0.39639223, 0.27303976, 0.1841693, 0.121342435,
        0.07786081, 0.04848191, 0.029167533, 0], 'sigmas');
    });

    it('"leading" spacing adds steps_offset and scales the initial noise by sqrt(sigma_max^2 + 1)', () => {
      const s = new EulerDiscreteScheduler({ ...SD15_CONFIG, timestep_spacing: 'leading' });
      s.setTimesteps(20);
      assertF32List(s.timesteps, [951, 901, 851, 801, 751, 701, 651, 601, 551, 501, 451, 401, 351, 301, 251, 201, 151,
        101, 51, 1], 'timesteps');
      assert.strictEqual(s.sigmas[0], Math.fround(11.028335));
      assert.strictEqual(s.initNoiseSigma, Math.fround(11.07358));
    });

    it('"trailing" spacing', () => {
      const s = new EulerDiscreteScheduler({ ...SD15_CONFIG, timestep_spacing: 'trailing' });
      s.setTimesteps(20);
      assertF32List(s.timesteps, [999, 949, 899, 849, 799, 749, 699, 649, 599, 549, 499, 449, 399, 349, 299, 249, 199,
        149, 99, 49], 'timesteps');
      assert.strictEqual(s.sigmas[19], Math.fround(0.22300382));
    });

    it('final_sigmas_type "sigma_min" ends on the smallest training sigma', () => {
      const s = new EulerDiscreteScheduler({ ...SD15_CONFIG, final_sigmas_type: 'sigma_min' });
      s.setTimesteps(20);
      assert.strictEqual(s.sigmas[20], Math.fround(0.029167533));
    });
  });

  describe('behaviour', () => {
    it('scaleModelInput divides by sqrt(sigma^2 + 1) in float32', () => {
      const s = new EulerDiscreteScheduler(SD15_CONFIG);
      s.setTimesteps(20);
      const x = new Float32Array([1, -2, 0.5]);
      const sigma = s.sigmas[0];
      const denom = Math.fround(Math.sqrt(Math.fround(Math.fround(sigma * sigma) + 1)));
      assert.deepStrictEqual(s.scaleModelInput(x, s.timesteps[0]), x.map((v) => v / denom));
    });

    it('does not touch the generator when s_churn is 0, draws once per step when churn applies', () => {
      const s = new EulerDiscreteScheduler(TEST_CONFIG);
      s.setTimesteps(10);
      const g = new TorchGenerator(7);
      const x = dummySampleDeter();
      s.step(dummyModel(x, s.timesteps[0]), s.timesteps[0], x, g);
      assert.deepStrictEqual(g.randn(4), new TorchGenerator(7).randn(4));

      const churned = new EulerDiscreteScheduler(TEST_CONFIG);
      churned.setTimesteps(10);
      churned.sChurn = 1;
      assert.throws(() => churned.step(dummyModel(x, churned.timesteps[0]), churned.timesteps[0], x), /generator/);
      const g2 = new TorchGenerator(7);
      churned.setTimesteps(10);
      churned.step(dummyModel(x, churned.timesteps[0]), churned.timesteps[0], x, g2);
      const reference = new TorchGenerator(7);
      reference.randn(DUMMY_SIZE);
      assert.deepStrictEqual(g2.randn(4), reference.randn(4));
    });

    it('ignores the keys of other schedulers (from_config of a PNDM config)', () => {
      assert.doesNotThrow(() => new EulerDiscreteScheduler({ ...SD15_CONFIG, skip_prk_steps: true, set_alpha_to_one: false }));
    });

    it('rejects a timestep that is not in the schedule', () => {
      const s = new EulerDiscreteScheduler(SD15_CONFIG);
      s.setTimesteps(20);
      assert.throws(() => s.scaleModelInput(new Float32Array(4), 123.25), /timestep 123.25 is not in the schedule/);
    });
  });

  describe('bad config values', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ timestep_spacing: 'even' }, /"timestep_spacing".*"leading", "trailing", "linspace"/],
      [{ prediction_type: 'flow' }, /"prediction_type".*"epsilon", "v_prediction", "sample"/],
      [{ interpolation_type: 'cubic' }, /"interpolation_type".*"linear", "log_linear"/],
      [{ final_sigmas_type: 'one' }, /"final_sigmas_type".*"zero", "sigma_min"/],
      [{ beta_schedule: 'cosine' }, /"beta_schedule"/],
      [{ use_karras_sigmas: 'yes' }, /"use_karras_sigmas".*true or false/],
      [{ use_karras_sigmas: true, use_exponential_sigmas: true }, /only one/],
      [{ use_beta_sigmas: true }, /"use_beta_sigmas".*not supported/],
    ];
    for (const [extra, pattern] of cases) {
      it(`${JSON.stringify(extra)} -> Error naming the key and the valid values`, () => {
        assert.throws(() => new EulerDiscreteScheduler({ ...SD15_CONFIG, ...extra }), (e: Error) => {
          assert.match(e.message, /EulerDiscreteScheduler/);
          assert.match(e.message, pattern);
          return true;
        });
      });
    }
  });
});
