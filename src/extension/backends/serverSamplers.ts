// Our scheduler names as each server calls them. A1111 (1.9 and later) splits a sampler from its
// schedule type; ComfyUI's KSampler (and SwarmUI, which runs ComfyUI) has sampler_name and
// scheduler. A job without a scheduler gets DPM++ 2M Karras, the default of current A1111, sent
// explicitly so the infotext says what was used.

import { EngineError } from '../engine/engineError';
import { type SchedulerName, resolveSchedulerName, unknownSchedulerMessage } from '../../core/schedulerNames';

export const SERVER_DEFAULT_SCHEDULER: SchedulerName = 'dpmpp-2m-karras';

/** Our scheduler for a job's `scheduler` (ours, A1111's or ComfyUI's name), or a badInput error. */
export function jobScheduler(name: string | undefined): SchedulerName {
  if (name === undefined || name === '' || name === 'default') return SERVER_DEFAULT_SCHEDULER;
  const s = resolveSchedulerName(name);
  if (!s) throw new EngineError('badInput', unknownSchedulerMessage(name));
  return s;
}

/** A1111's sampler_name and scheduler (the schedule type's label). */
export const A1111_NAMES: Record<SchedulerName, { sampler_name: string; scheduler: string }> = {
  pndm: { sampler_name: 'PLMS', scheduler: 'Automatic' },
  ddim: { sampler_name: 'DDIM', scheduler: 'Automatic' },
  euler: { sampler_name: 'Euler', scheduler: 'Automatic' },
  'euler-a': { sampler_name: 'Euler a', scheduler: 'Automatic' },
  lms: { sampler_name: 'LMS', scheduler: 'Automatic' },
  // "Automatic" would give Karras for DPM++ 2M: the plain one is "Uniform".
  'dpmpp-2m': { sampler_name: 'DPM++ 2M', scheduler: 'Uniform' },
  'dpmpp-2m-karras': { sampler_name: 'DPM++ 2M', scheduler: 'Karras' },
  lcm: { sampler_name: 'LCM', scheduler: 'Automatic' },
};

export interface ComfyNames {
  sampler_name: string;
  scheduler: string;
  /** The scheduler actually used, when the server has no exact match. */
  used: SchedulerName;
  warning?: string;
}

/** ComfyUI's KSampler names (SwarmUI's `sampler` and `scheduler` parameters take the same). */
export function comfyNames(s: SchedulerName): ComfyNames {
  switch (s) {
    case 'pndm':
      return { sampler_name: 'euler', scheduler: 'normal', used: 'euler', warning: 'ComfyUI has no PNDM (PLMS) sampler; Euler was used.' };
    case 'ddim':
      return { sampler_name: 'ddim', scheduler: 'ddim_uniform', used: s };
    case 'euler':
      return { sampler_name: 'euler', scheduler: 'normal', used: s };
    case 'euler-a':
      return { sampler_name: 'euler_ancestral', scheduler: 'normal', used: s };
    case 'lms':
      return { sampler_name: 'lms', scheduler: 'normal', used: s };
    case 'dpmpp-2m':
      return { sampler_name: 'dpmpp_2m', scheduler: 'normal', used: s };
    case 'dpmpp-2m-karras':
      return { sampler_name: 'dpmpp_2m', scheduler: 'karras', used: s };
    case 'lcm':
      return { sampler_name: 'lcm', scheduler: 'sgm_uniform', used: s };
  }
}
