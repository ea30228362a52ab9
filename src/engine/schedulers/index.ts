// Scheduler factory: our scheduler names -> diffusers classes, each built from the model's
// scheduler_config.json the way `XScheduler.from_config(config)` does (missing keys take the
// class's own defaults, keys meant for other classes are ignored).

import {
  SCHEDULER_NAMES,
  schedulerFromClassName,
  type SchedulerName,
} from '../../core/schedulerNames';
import { DDIMScheduler } from './ddim';
import { DPMSolverMultistepScheduler } from './dpmSolverMultistep';
import { EulerDiscreteScheduler } from './euler';
import { EulerAncestralDiscreteScheduler } from './eulerAncestral';
import { LCMScheduler } from './lcm';
import { LMSDiscreteScheduler } from './lms';
import { PNDMScheduler } from './pndm';
import type { Scheduler, SchedulerConfig } from './scheduler';

export type { Scheduler, SchedulerConfig, SchedulerStepOutput } from './scheduler';

export function createScheduler(name: SchedulerName, config: SchedulerConfig): Scheduler {
  switch (name) {
    case 'pndm':
      return new PNDMScheduler(config);
    case 'ddim':
      return new DDIMScheduler(config);
    case 'lcm':
      return new LCMScheduler(config);
    case 'euler':
      return new EulerDiscreteScheduler(config);
    case 'euler-a':
      return new EulerAncestralDiscreteScheduler(config);
    case 'lms':
      return new LMSDiscreteScheduler(config);
    case 'dpmpp-2m':
      return new DPMSolverMultistepScheduler({ ...config, use_karras_sigmas: false });
    case 'dpmpp-2m-karras':
      return new DPMSolverMultistepScheduler({ ...config, use_karras_sigmas: true });
    default: {
      // Reached only from untyped callers (JSON, user settings).
      const unknown: never = name;
      throw new Error(`createScheduler: unknown scheduler "${String(unknown)}". Valid schedulers: ${SCHEDULER_NAMES.join(', ')}.`);
    }
  }
}

/**
 * The scheduler the model ships with (scheduler_config.json's `_class_name`); PNDM, the
 * Stable Diffusion v1.5 default, when the class is missing or is not one of ours.
 */
export function defaultSchedulerName(config: SchedulerConfig): SchedulerName {
  const className = typeof config._class_name === 'string' ? config._class_name : undefined;
  const name = schedulerFromClassName(className);
  if (name === 'dpmpp-2m' && config.use_karras_sigmas === true) return 'dpmpp-2m-karras';
  return name ?? 'pndm';
}
