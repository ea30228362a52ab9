// Scheduler factory: our scheduler names -> diffusers classes, each built from the model's
// scheduler_config.json the way `XScheduler.from_config(config)` does (missing keys take the
// class's own defaults, keys meant for other classes are ignored).

import { SCHEDULER_NAMES, type SchedulerName } from '../../core/schedulerNames';
import { DDIMScheduler } from './ddim';
import { DPMSolverMultistepScheduler } from './dpmSolverMultistep';
import { EulerDiscreteScheduler } from './euler';
import { EulerAncestralDiscreteScheduler } from './eulerAncestral';
import { LCMScheduler } from './lcm';
import { LMSDiscreteScheduler } from './lms';
import { PNDMScheduler } from './pndm';
import type { Scheduler, SchedulerConfig } from './scheduler';

export type { Scheduler, SchedulerConfig, SchedulerStepOutput } from './scheduler';

/** Each scheduler name's class; DPM++ 2M and its Karras variant differ only in the sigma schedule. */
const FACTORIES: Record<SchedulerName, (config: SchedulerConfig) => Scheduler> = {
  pndm: (config) => new PNDMScheduler(config),
  ddim: (config) => new DDIMScheduler(config),
  lcm: (config) => new LCMScheduler(config),
  euler: (config) => new EulerDiscreteScheduler(config),
  'euler-a': (config) => new EulerAncestralDiscreteScheduler(config),
  lms: (config) => new LMSDiscreteScheduler(config),
  'dpmpp-2m': (config) => new DPMSolverMultistepScheduler({ ...config, use_karras_sigmas: false }),
  'dpmpp-2m-karras': (config) => new DPMSolverMultistepScheduler({ ...config, use_karras_sigmas: true }),
};

export function createScheduler(name: SchedulerName, config: SchedulerConfig): Scheduler {
  // Untyped callers (JSON, user settings) may pass any string, "toString" included.
  if (!Object.hasOwn(FACTORIES, name)) {
    throw new Error(`createScheduler: unknown scheduler "${String(name)}". Valid schedulers: ${SCHEDULER_NAMES.join(', ')}.`);
  }
  return FACTORIES[name](config);
}
