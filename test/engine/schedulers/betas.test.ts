import * as assert from 'assert';
import {
  alphaTables,
  alphaTablesFromConfig,
  roundHalfEven,
  spacedTimesteps,
  type TimestepSpacing,
} from '../../../src/engine/schedulers/betas';

// Expected values were printed by PyTorch 1.13 / numpy on x86-64 (torch.linspace float32, **2,
// torch.cumprod, np.linspace(...).round(), np.arange(...)); the tests need no Python.

const SD15 = { beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', num_train_timesteps: 1000 };

function pick(values: Float64Array, indices: number[]): number[] {
  return indices.map((i) => values[i]);
}

describe('scheduler betas and alphas (torch float32)', () => {
  it('builds SD v1.5 scaled_linear betas and alphas_cumprod exactly as torch', () => {
    const t = alphaTablesFromConfig(SD15, 'Test');
    assert.strictEqual(t.betas.length, 1000);
    assert.deepStrictEqual(pick(t.betas, [0, 1, 20, 500, 999]), [
      0.0008499999530613422, 0.0008546985918655992, 0.000946433690842241, 0.004814954474568367, 0.011999999172985554,
    ]);
    assert.deepStrictEqual(pick(t.alphasCumprod, [0, 1, 20, 500, 999]), [
      0.9991499781608582, 0.9982960224151611, 0.9813143014907837, 0.2763324975967407, 0.0046600960195064545,
    ]);
  });

  it('builds linear betas with torch.linspace rounding (entries where the naive formula is one ulp off)', () => {
    const t = alphaTablesFromConfig({}, 'Test');
    assert.deepStrictEqual(pick(t.betas, [0, 20, 28, 31, 999]), [
      9.999999747378752e-5, 0.0004983984399586916, 0.0006577577441930771, 0.000717517570592463, 0.019999999552965164,
    ]);
    assert.deepStrictEqual(pick(t.alphasCumprod, [0, 500, 999]), [0.9998999834060669, 0.07779666036367416, 4.0358307160204276e-5]);
  });

  it('builds the squaredcos_cap_v2 (GLIDE cosine) betas, capped at 0.999', () => {
    const t = alphaTablesFromConfig({ beta_schedule: 'squaredcos_cap_v2' }, 'Test');
    assert.deepStrictEqual(pick(t.betas, [0, 500, 999]), [4.128422369831242e-5, 0.003155691549181938, 0.9990000128746033]);
  });

  it('uses trained_betas over the schedule, and its length as num_train_timesteps', () => {
    const t = alphaTablesFromConfig({ trained_betas: [0.1, 0.2, 0.5], beta_schedule: 'linear' }, 'Test');
    assert.strictEqual(t.numTrainTimesteps, 3);
    assert.deepStrictEqual(Array.from(t.betas), [0.1, 0.2, 0.5].map(Math.fround));
    assert.deepStrictEqual(Array.from(t.alphas), [0.1, 0.2, 0.5].map((b) => Math.fround(1 - Math.fround(b))));
    assert.strictEqual(t.alphasCumprod[2], Math.fround(Math.fround(1 - Math.fround(0.1)) * Math.fround(1 - Math.fround(0.2)) * 0.5));
  });

  it('rescales to zero terminal SNR and keeps the last alpha_cumprod at 2^-24', () => {
    const t = alphaTables({ numTrainTimesteps: 1000, betaStart: 0.00085, betaEnd: 0.012, betaSchedule: 'scaled_linear', rescaleBetasZeroSnr: true });
    assert.strictEqual(t.betas[999], 1);
    assert.strictEqual(t.alphasCumprod[999], 2 ** -24);
    assert.strictEqual(t.alphasCumprod[0], 0.9991499781608582);
  });

  it('takes class defaults for missing or null keys', () => {
    const a = alphaTablesFromConfig({ beta_start: null, trained_betas: null }, 'Test');
    const b = alphaTablesFromConfig({}, 'Test');
    assert.deepStrictEqual(a.betas, b.betas);
    const lcmDefaults = alphaTablesFromConfig({}, 'Test', { numTrainTimesteps: 1000, betaStart: 0.00085, betaEnd: 0.012, betaSchedule: 'scaled_linear' });
    assert.deepStrictEqual(lcmDefaults.alphasCumprod, alphaTablesFromConfig(SD15, 'Test').alphasCumprod);
  });

  it('rejects bad values with the key and the valid values in the message', () => {
    assert.throws(() => alphaTablesFromConfig({ beta_schedule: 'cosine' }, 'DDIMScheduler'), (e: Error) => {
      return /DDIMScheduler/.test(e.message) && /beta_schedule/.test(e.message) &&
        /"linear", "scaled_linear", "squaredcos_cap_v2"/.test(e.message) && /"cosine"/.test(e.message);
    });
    assert.throws(() => alphaTablesFromConfig({ num_train_timesteps: '1000' }, 'X'), /num_train_timesteps.*integer/);
    assert.throws(() => alphaTablesFromConfig({ beta_start: 'small' }, 'X'), /beta_start.*number/);
    assert.throws(() => alphaTablesFromConfig({ trained_betas: [0.1, 'x'] }, 'X'), /trained_betas/);
  });
});

describe('timestep spacing (numpy as diffusers uses it)', () => {
  const spaced = (spacing: TimestepSpacing, n: number, stepsOffset = 0, roundLinspace = true): number[] =>
    spacedTimesteps({ spacing, numTrainTimesteps: 1000, numInferenceSteps: n, stepsOffset, roundLinspace });

  it('"leading" adds steps_offset (SD v1.5: 20 steps from 951 to 1)', () => {
    const t = spaced('leading', 20, 1);
    assert.strictEqual(t.length, 20);
    assert.deepStrictEqual(t.slice(0, 3), [951, 901, 851]);
    assert.strictEqual(t[19], 1);
    assert.deepStrictEqual(spaced('leading', 3), [666, 333, 0]);
  });

  it('"trailing" ends at num_train_timesteps - 1 and ignores steps_offset', () => {
    assert.deepStrictEqual(spaced('trailing', 10, 1), [999, 899, 799, 699, 599, 499, 399, 299, 199, 99]);
    assert.deepStrictEqual(spaced('trailing', 7), [999, 856, 713, 570, 428, 285, 142]);
    assert.deepStrictEqual(spaced('trailing', 3), [999, 666, 332]);
  });

  it('"linspace" rounds halves to even like numpy (832.5 -> 832, 499.5 -> 500)', () => {
    assert.deepStrictEqual(spaced('linspace', 7), [999, 832, 666, 500, 333, 166, 0]);
    assert.deepStrictEqual(spaced('linspace', 10), [999, 888, 777, 666, 555, 444, 333, 222, 111, 0]);
    assert.deepStrictEqual(spaced('linspace', 7, 0, false), [999, 832.5, 666, 499.5, 333, 166.5, 0]);
    assert.deepStrictEqual(spaced('linspace', 20).slice(-4), [158, 105, 53, 0]);
  });

  it('roundHalfEven matches np.round', () => {
    assert.deepStrictEqual([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6].map(roundHalfEven), [0, 2, 2, -0, -2, 2, 3]);
  });
});
