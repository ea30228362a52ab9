import * as assert from 'assert';
import { SCHEDULER_NAMES, defaultSchedulerName, type SchedulerName } from '../../../src/core/schedulerNames';
import { TorchGenerator } from '../../../src/engine/rng/torchGenerator';
import { DDIMScheduler } from '../../../src/engine/schedulers/ddim';
import { DPMSolverMultistepScheduler } from '../../../src/engine/schedulers/dpmSolverMultistep';
import { EulerDiscreteScheduler } from '../../../src/engine/schedulers/euler';
import { EulerAncestralDiscreteScheduler } from '../../../src/engine/schedulers/eulerAncestral';
import { createScheduler } from '../../../src/engine/schedulers/index';
import { LCMScheduler } from '../../../src/engine/schedulers/lcm';
import { LMSDiscreteScheduler } from '../../../src/engine/schedulers/lms';
import { PNDMScheduler } from '../../../src/engine/schedulers/pndm';
import type { SchedulerConfig } from '../../../src/engine/schedulers/scheduler';
import { dummyModel, dummySampleDeter } from './dummy';
import { SD15_CONFIG } from './helpers';

const SD15: SchedulerConfig = { ...SD15_CONFIG, _diffusers_version: '0.6.0' };

const CLASSES: Record<SchedulerName, new (config: SchedulerConfig) => object> = {
  pndm: PNDMScheduler,
  ddim: DDIMScheduler,
  euler: EulerDiscreteScheduler,
  'euler-a': EulerAncestralDiscreteScheduler,
  lms: LMSDiscreteScheduler,
  'dpmpp-2m': DPMSolverMultistepScheduler,
  'dpmpp-2m-karras': DPMSolverMultistepScheduler,
  lcm: LCMScheduler,
};

describe('createScheduler', () => {
  for (const name of SCHEDULER_NAMES) {
    it(`"${name}" builds ${CLASSES[name].name} from the SD v1.5 config and runs a 20-step loop`, () => {
      const scheduler = createScheduler(name, SD15);
      assert.ok(scheduler instanceof CLASSES[name]);
      scheduler.setTimesteps(20);
      // PLMS repeats its second timestep.
      assert.strictEqual(scheduler.timesteps.length, name === 'pndm' ? 21 : 20);
      const generator = new TorchGenerator(1);
      let sample: Float32Array = Float32Array.from(dummySampleDeter(), (v) => v * scheduler.initNoiseSigma);
      for (const t of scheduler.timesteps) {
        const input = scheduler.scaleModelInput(sample, t);
        sample = scheduler.step(dummyModel(input, t), t, sample, generator).prevSample;
      }
      assert.strictEqual(sample.length, 768);
      assert.ok(sample.every(Number.isFinite), `${name}: the loop produced a non-finite value`);
    });
  }

  it('"dpmpp-2m-karras" uses Karras sigmas and "dpmpp-2m" does not, whatever the config says', () => {
    const karras = createScheduler('dpmpp-2m-karras', SD15);
    const plain = createScheduler('dpmpp-2m', { ...SD15, use_karras_sigmas: true });
    const reference = new DPMSolverMultistepScheduler(SD15);
    for (const s of [karras, plain, reference]) s.setTimesteps(20);
    assert.deepStrictEqual(plain.timesteps, reference.timesteps);
    assert.notDeepStrictEqual(karras.timesteps, plain.timesteps);
  });

  it('passes bad config values through as errors naming the key', () => {
    assert.throws(() => createScheduler('ddim', { ...SD15, beta_schedule: 'cosine' }), /beta_schedule.*"scaled_linear"/);
    assert.throws(() => createScheduler('pndm', { ...SD15, steps_offset: -1 }), /steps_offset/);
  });

  it('an unknown name from untyped input is an error listing the valid names', () => {
    assert.throws(() => createScheduler('heun' as SchedulerName, SD15), /unknown scheduler "heun".*pndm, ddim/);
  });
});

describe('defaultSchedulerName', () => {
  it('maps the model config _class_name to our name', () => {
    assert.strictEqual(defaultSchedulerName(SD15), 'pndm');
    assert.strictEqual(defaultSchedulerName({ _class_name: 'DDIMScheduler' }), 'ddim');
    assert.strictEqual(defaultSchedulerName({ _class_name: 'EulerAncestralDiscreteScheduler' }), 'euler-a');
    assert.strictEqual(defaultSchedulerName({ _class_name: 'LCMScheduler' }), 'lcm');
    assert.strictEqual(defaultSchedulerName({ _class_name: 'DPMSolverMultistepScheduler' }), 'dpmpp-2m');
    assert.strictEqual(
      defaultSchedulerName({ _class_name: 'DPMSolverMultistepScheduler', use_karras_sigmas: true }),
      'dpmpp-2m-karras',
    );
  });

  it('falls back to PNDM (the SD v1.5 default) for a missing or unknown class', () => {
    assert.strictEqual(defaultSchedulerName({}), 'pndm');
    assert.strictEqual(defaultSchedulerName({ _class_name: 'UniPCMultistepScheduler' }), 'pndm');
    assert.strictEqual(defaultSchedulerName({ _class_name: 42 }), 'pndm');
  });
});
