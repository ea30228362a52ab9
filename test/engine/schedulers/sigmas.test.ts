// The shared sigma helpers, checked against numbers numpy/torch give (computed once with the
// dev-only Python oracle; nothing here runs Python).
import * as assert from 'assert';
import { alphaTablesFromConfig } from '../../../src/engine/schedulers/betas';
import {
  exponentialSigmas,
  indexForTimestep,
  initNoiseSigmaFor,
  interpAtTimestep,
  karrasSigmas,
  logF32,
  npLogF32,
  scaleBySigma,
  sigmaToT,
  trainingSigmas,
} from '../../../src/engine/schedulers/sigmas';

const SD15 = { beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', num_train_timesteps: 1000 };
const train = trainingSigmas(alphaTablesFromConfig(SD15, 'test').alphasCumprod);

describe('schedulers/sigmas', () => {
  it('trainingSigmas: sqrt((1 - a) / a) in float32, as torch gives for SD v1.5', () => {
    assert.strictEqual(train.length, 1000);
    assert.strictEqual(train[0], 0.029167532920837402);
    assert.strictEqual(train[500], 1.6182795763015747);
    assert.strictEqual(train[999], 14.614645004272461);
  });

  describe('npLogF32 (numpy float32 log on x86)', () => {
    it('matches numpy where it differs from the correctly rounded log', () => {
      // [x, np.log(np.float32(x))]; the correctly rounded values would be -2.48382830619812 etc.
      const cases: [number, number][] = [
        [0.08342323452234268, -2.483828544616699],
        [0.10719498991966248, -2.2331058979034424],
        [0.1673143208026886, -1.7878811359405518],
        [0.18504539132118225, -1.6871540546417236],
      ];
      for (const [x, expected] of cases) assert.strictEqual(npLogF32(x), expected, `log(${x})`);
    });

    it('matches numpy on simple, boundary and subnormal inputs', () => {
      const cases: [number, number][] = [
        [0.5, -0.6931471824645996],
        [1, 0],
        [2, 0.6931471824645996],
        [3, 1.0986123085021973],
        [10, 2.3025851249694824],
        [9.999999350456404e-39, -87.49823760986328],
        [1.0005271035279194e-42, -96.70804595947266],
        [0.7071067094802856, -0.34657368063926697],
        [0.7071067690849304, -0.3465735912322998],
        [1.4142135381698608, 0.3465735912322998],
      ];
      for (const [x, expected] of cases) assert.strictEqual(npLogF32(x), expected, `log(${x})`);
      assert.strictEqual(npLogF32(0), -Infinity);
      assert.ok(Number.isNaN(npLogF32(-1)));
      assert.strictEqual(npLogF32(Infinity), Infinity);
    });

    it('logF32 maps an array', () => {
      assert.deepStrictEqual(Array.from(logF32([1, 2])), [0, 0.6931471824645996]);
    });
  });

  it('interpAtTimestep: np.interp over whole-number timesteps, clamped at the ends', () => {
    const fp = [1, 3, 7];
    assert.strictEqual(interpAtTimestep(0, fp), 1);
    assert.strictEqual(interpAtTimestep(0.5, fp), 2);
    assert.strictEqual(interpAtTimestep(1.25, fp), 4);
    assert.strictEqual(interpAtTimestep(2, fp), 7);
    assert.strictEqual(interpAtTimestep(5, fp), 7);
    assert.strictEqual(interpAtTimestep(-1, fp), 1);
  });

  it('karrasSigmas: rho = 7 between sigma_max and sigma_min (SD v1.5, 20 steps)', () => {
    const sigmas = karrasSigmas(train[0], train[999], 20);
    assert.strictEqual(sigmas.length, 20);
    assert.strictEqual(Math.fround(sigmas[0]), Math.fround(14.614645));
    assert.strictEqual(Math.fround(sigmas[1]), Math.fround(11.725371));
    assert.strictEqual(Math.fround(sigmas[10]), Math.fround(1.0907905));
    assert.strictEqual(Math.fround(sigmas[19]), Math.fround(0.029167533));
  });

  it('exponentialSigmas: evenly spaced in log sigma', () => {
    const sigmas = exponentialSigmas(0.1, 10, 3);
    assert.ok(Math.abs(sigmas[0] - 10) < 1e-12 && Math.abs(sigmas[1] - 1) < 1e-12 && Math.abs(sigmas[2] - 0.1) < 1e-12);
  });

  describe('sigmaToT', () => {
    const logSigmas = logF32(train);

    it('inverts the training table at whole timesteps', () => {
      for (const t of [0, 1, 250, 500, 998, 999]) assert.ok(Math.abs(sigmaToT(train[t], logSigmas) - t) < 1e-3, `t=${t}`);
    });

    it('interpolates in log sigma between neighbours and clamps outside the table', () => {
      const mid = Math.sqrt(train[400] * train[401]);
      assert.ok(Math.abs(sigmaToT(mid, logSigmas) - 400.5) < 1e-3);
      assert.strictEqual(sigmaToT(1000, logSigmas), 999);
      assert.strictEqual(sigmaToT(1e-6, logSigmas), 0);
    });

    it('gives diffusers\' fractional Karras timesteps for SD v1.5', () => {
      const sigmas = karrasSigmas(train[0], train[999], 20);
      const expected = [999, 961.7328, 921.04205, 876.3137, 826.7906, 771.55194, 709.5297, 639.61475];
      expected.forEach((t, i) => assert.strictEqual(Math.fround(sigmaToT(sigmas[i], logSigmas)), Math.fround(t), `step ${i}`));
    });
  });

  it('indexForTimestep: the first match, the second when the timestep repeats, an Error when absent', () => {
    assert.strictEqual(indexForTimestep([9, 5, 1], 5, 'X'), 1);
    assert.strictEqual(indexForTimestep([9, 9, 1], 9, 'X'), 1);
    assert.throws(() => indexForTimestep([9, 5, 1], 4, 'XScheduler'), /XScheduler: timestep 4 is not in the schedule/);
  });

  it('scaleBySigma and initNoiseSigmaFor use float32 arithmetic like torch', () => {
    const f = Math.fround;
    const sigma = f(14.614645);
    const denom = f(Math.sqrt(f(f(sigma * sigma) + 1)));
    assert.deepStrictEqual(scaleBySigma(new Float32Array([2]), sigma), new Float32Array([2 / denom]));
    const sigmas = new Float32Array([sigma, 1, 0]);
    assert.strictEqual(initNoiseSigmaFor(sigmas, 'linspace'), sigma);
    assert.strictEqual(initNoiseSigmaFor(sigmas, 'leading'), denom);
  });
});
