// Ported from diffusers tests/schedulers/test_scheduler_dpm_multi.py (golden means and sums with
// the same tolerances), plus the SD v1.5 schedules of "dpmpp-2m" and "dpmpp-2m-karras".
import * as assert from 'assert';
import { DPMSolverMultistepScheduler } from '../../../src/engine/schedulers/dpmSolverMultistep';
import { TorchGenerator } from '../../../src/engine/rng/torchGenerator';
import { absMean, dummyModel, dummyNoiseDeter, dummySampleDeter, DUMMY_SIZE } from './dummy';
import { SD15_CONFIG, assertSumMean, runLoop } from './helpers';

const TEST_CONFIG = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  solver_order: 2,
  prediction_type: 'epsilon',
  thresholding: false,
  sample_max_value: 1.0,
  algorithm_type: 'dpmsolver++',
  solver_type: 'midpoint',
  lower_order_final: false,
  euler_at_final: false,
  variance_type: null,
  final_sigmas_type: 'sigma_min',
};
function fullLoop(config: Record<string, unknown>, steps = 10): Float32Array {
  const scheduler = new DPMSolverMultistepScheduler(config);
  scheduler.setTimesteps(steps);
  return runLoop(scheduler, { generator: new TorchGenerator(0) });
}

const f32List = (values: number[]) => Float32Array.from(values);

describe('DPMSolverMultistepScheduler', () => {
  describe('diffusers golden full loops', () => {
    it('full loop, no noise', () => {
      assert.ok(Math.abs(absMean(fullLoop(TEST_CONFIG)) - 0.3301) < 1e-3);
    });

    it('full loop with v_prediction', () => {
      assert.ok(Math.abs(absMean(fullLoop({ ...TEST_CONFIG, prediction_type: 'v_prediction' })) - 0.2251) < 1e-3);
    });

    it('full loop with karras sigmas and v_prediction', () => {
      const mean = absMean(fullLoop({ ...TEST_CONFIG, prediction_type: 'v_prediction', use_karras_sigmas: true }));
      assert.ok(Math.abs(mean - 0.2096) < 1e-3, `mean ${mean}`);
    });

    it('full loop with Lu lambdas and v_prediction', () => {
      const mean = absMean(fullLoop({ ...TEST_CONFIG, prediction_type: 'v_prediction', use_lu_lambdas: true }));
      assert.ok(Math.abs(mean - 0.1554) < 1e-3, `mean ${mean}`);
    });

    it('full loop with noise (add_noise, starting at step 5)', () => {
      const scheduler = new DPMSolverMultistepScheduler(TEST_CONFIG);
      scheduler.setTimesteps(10);
      const timesteps = scheduler.timesteps.slice(5);
      let sample: Float32Array = scheduler.addNoise(dummySampleDeter(), dummyNoiseDeter(), timesteps[0]);
      for (const t of timesteps) sample = scheduler.step(dummyModel(sample, t), t, sample).prevSample;
      assertSumMean(sample, 318.4111, 0.4146);
    });

    it('every algorithm, solver type and order runs without NaN (as test_solver_order_and_type)', () => {
      for (const algorithm of ['dpmsolver', 'dpmsolver++', 'sde-dpmsolver', 'sde-dpmsolver++']) {
        for (const solverType of ['midpoint', 'heun']) {
          for (const order of [1, 2, 3]) {
            for (const prediction of ['epsilon', 'sample']) {
              if (algorithm === 'sde-dpmsolver' && order === 3) continue;
              const sample = fullLoop({
                ...TEST_CONFIG,
                algorithm_type: algorithm,
                solver_type: solverType,
                solver_order: order,
                prediction_type: prediction,
              });
              assert.ok(sample.every(Number.isFinite), `${algorithm} ${solverType} ${order} ${prediction}`);
            }
          }
        }
      }
    });

    it('setTimesteps(num_train_timesteps) gives one timestep per step', () => {
      const s = new DPMSolverMultistepScheduler(TEST_CONFIG);
      s.setTimesteps(1000);
      assert.strictEqual(s.timesteps.length, 1000);
    });
  });

  describe('Stable Diffusion v1.5 schedules', () => {
    it('"dpmpp-2m", 20 steps: integer linspace timesteps (n + 1 points, last dropped)', () => {
      const s = new DPMSolverMultistepScheduler(SD15_CONFIG);
      s.setTimesteps(20);
      assert.deepStrictEqual(s.timesteps, [999, 949, 899, 849, 799, 749, 699, 649, 599, 549, 500, 450, 400, 350, 300,
        250, 200, 150, 100, 50]);
      assert.deepStrictEqual(s.sigmas, f32List([14.614645, 10.904239, 8.302805, 6.442957, 5.087765, 4.081731, 3.3210843,
        2.73547, 2.2764637, 1.9102515, 1.6182796, 1.3716686, 1.1643916, 0.98710895, 0.8327532, 0.69579947, 0.57166636,
        0.4560753, 0.34393182, 0.22558255, 0]));
      assert.strictEqual(s.initNoiseSigma, 1);
    });

    it('"dpmpp-2m", 25 steps', () => {
      const s = new DPMSolverMultistepScheduler(SD15_CONFIG);
      s.setTimesteps(25);
      assert.deepStrictEqual(s.timesteps, [999, 959, 919, 879, 839, 799, 759, 719, 679, 639, 599, 559, 519, 480, 440,
        400, 360, 320, 280, 240, 200, 160, 120, 80, 40]);
      assert.strictEqual(s.sigmas[24], Math.fround(0.1990589));
    });

    it('"dpmpp-2m-karras", 20 steps: rounded timesteps of the Karras sigmas', () => {
      const s = new DPMSolverMultistepScheduler({ ...SD15_CONFIG, use_karras_sigmas: true });
      s.setTimesteps(20);
      assert.deepStrictEqual(s.timesteps, [999, 962, 921, 876, 827, 772, 710, 640, 561, 474, 380, 285, 197, 123, 69, 35,
        15, 6, 2, 0]);
      assert.deepStrictEqual(s.sigmas, f32List([14.614645, 11.725371, 9.340211, 7.383626, 5.7894206, 4.4998436,
        3.464755, 2.6408474, 1.9909215, 1.4832165, 1.0907905, 0.79094946, 0.56472445, 0.39639223, 0.27303976, 0.1841693,
        0.121342435, 0.07786081, 0.04848191, 0.029167533, 0]));
    });

    it('"dpmpp-2m-karras", 25 steps', () => {
      const s = new DPMSolverMultistepScheduler({ ...SD15_CONFIG, use_karras_sigmas: true });
      s.setTimesteps(25);
      assert.deepStrictEqual(s.timesteps, [999, 970, 938, 905, 868, 829, 786, 739, 687, 630, 568, 500, 427, 352, 278,
        207, 146, 96, 59, 34, 18, 9, 4, 1, 0]);
      assert.strictEqual(s.sigmas[11], Math.fround(1.6182762));
      assert.strictEqual(s.sigmas[24], Math.fround(0.029167533));
    });

    it('"leading" and "trailing" spacings', () => {
      const leading = new DPMSolverMultistepScheduler({ ...SD15_CONFIG, timestep_spacing: 'leading' });
      leading.setTimesteps(20);
      assert.deepStrictEqual(leading.timesteps.slice(0, 3), [941, 894, 847]);
      assert.strictEqual(leading.timesteps[19], 48);
      const trailing = new DPMSolverMultistepScheduler({ ...SD15_CONFIG, timestep_spacing: 'trailing' });
      trailing.setTimesteps(20);
      assert.deepStrictEqual(trailing.timesteps.slice(-3), [149, 99, 49]);
      assert.strictEqual(trailing.sigmas[10], Math.fround(1.612887));
    });

    it('scaleModelInput is the identity', () => {
      const s = new DPMSolverMultistepScheduler(SD15_CONFIG);
      s.setTimesteps(20);
      const x = dummySampleDeter();
      assert.strictEqual(s.scaleModelInput(x, s.timesteps[0]), x);
    });

    it('the last step (final sigma 0) is first order and lands on the predicted x0', () => {
      const s = new DPMSolverMultistepScheduler({ ...SD15_CONFIG, use_karras_sigmas: true });
      s.setTimesteps(20);
      let x: Float32Array = dummySampleDeter();
      let last = s.step(dummyModel(x, s.timesteps[0]), s.timesteps[0], x);
      for (const t of s.timesteps.slice(1)) {
        x = last.prevSample;
        last = s.step(dummyModel(x, t), t, x);
      }
      const pred = last.predOriginalSample as Float32Array;
      for (let k = 0; k < DUMMY_SIZE; k++) assert.ok(Math.abs(last.prevSample[k] - pred[k]) <= 1e-6 * Math.abs(pred[k]) + 1e-7);
    });
  });

  describe('noise stream of the SDE variants', () => {
    it('sde-dpmsolver++ draws randn(modelOutput.length) on every step', () => {
      const s = new DPMSolverMultistepScheduler({ ...SD15_CONFIG, algorithm_type: 'sde-dpmsolver++' });
      s.setTimesteps(5);
      const g = new TorchGenerator(9);
      let x: Float32Array = dummySampleDeter();
      for (const t of s.timesteps) x = s.step(dummyModel(x, t), t, x, g).prevSample;
      const reference = new TorchGenerator(9);
      for (let i = 0; i < 5; i++) reference.randn(DUMMY_SIZE);
      assert.deepStrictEqual(g.randn(4), reference.randn(4));
      assert.throws(() => {
        s.setTimesteps(5);
        s.step(x, s.timesteps[0], x);
      }, /generator/);
    });

    it('the ODE variant never draws', () => {
      const g = new TorchGenerator(9);
      const s = new DPMSolverMultistepScheduler(SD15_CONFIG);
      s.setTimesteps(5);
      let x: Float32Array = dummySampleDeter();
      for (const t of s.timesteps) x = s.step(dummyModel(x, t), t, x, g).prevSample;
      assert.deepStrictEqual(g.randn(4), new TorchGenerator(9).randn(4));
    });
  });

  describe('bad config values', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ algorithm_type: 'unipc' }, /"algorithm_type".*"dpmsolver", "dpmsolver\+\+", "sde-dpmsolver", "sde-dpmsolver\+\+"/],
      [{ solver_type: 'rk4' }, /"solver_type".*"midpoint", "heun"/],
      [{ solver_order: 4 }, /"solver_order" must be 1, 2 or 3/],
      [{ algorithm_type: 'dpmsolver' }, /"final_sigmas_type" = "zero" is not supported with algorithm_type "dpmsolver"/],
      [{ final_sigmas_type: 'last' }, /"final_sigmas_type".*"zero", "sigma_min"/],
      [{ thresholding: true }, /"thresholding".*not supported/],
      [{ variance_type: 'learned_range' }, /"variance_type".*not supported/],
      [{ use_flow_sigmas: true }, /"use_flow_sigmas".*not supported/],
      [{ lower_order_final: 'no' }, /"lower_order_final".*true or false/],
    ];
    for (const [extra, pattern] of cases) {
      it(`${JSON.stringify(extra)} -> Error naming the key and the valid values`, () => {
        assert.throws(() => new DPMSolverMultistepScheduler({ ...SD15_CONFIG, ...extra }), (e: Error) => {
          assert.match(e.message, /DPMSolverMultistepScheduler/);
          assert.match(e.message, pattern);
          return true;
        });
      });
    }

    it('maps diffusers\' sibling names ("deis", "bh2") as diffusers does', () => {
      const s = new DPMSolverMultistepScheduler({ ...SD15_CONFIG, algorithm_type: 'deis', solver_type: 'bh2' });
      assert.strictEqual(s.algorithmType, 'dpmsolver++');
      assert.strictEqual(s.solverType, 'midpoint');
    });
  });
});
