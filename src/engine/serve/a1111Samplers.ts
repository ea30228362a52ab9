// Samplers and schedule types as A1111 (1.9 and later) names them, mapped onto the engine's
// schedulers. A1111 splits "DPM++ 2M Karras" into the sampler "DPM++ 2M" and the schedule type
// "Karras", and its "Automatic" schedule picks Karras for DPM++ 2M; the old joined names and the
// k_* aliases are still accepted, as A1111 accepts them.

import { SchedulerName, resolveSchedulerName } from '../../core/schedulerNames';

export interface SamplerItem {
  name: string;
  aliases: string[];
  options: Record<string, unknown>;
}

/** What GET /sdapi/v1/samplers lists: only the samplers this engine runs. */
export const SAMPLERS: (SamplerItem & { scheduler: SchedulerName })[] = [
  { name: 'DPM++ 2M', aliases: ['k_dpmpp_2m'], options: { scheduler: 'karras' }, scheduler: 'dpmpp-2m' },
  { name: 'Euler a', aliases: ['k_euler_a', 'k_euler_ancestral'], options: { uses_ensd: true }, scheduler: 'euler-a' },
  { name: 'Euler', aliases: ['k_euler'], options: {}, scheduler: 'euler' },
  { name: 'LMS', aliases: ['k_lms'], options: {}, scheduler: 'lms' },
  { name: 'DDIM', aliases: ['ddim'], options: {}, scheduler: 'ddim' },
  { name: 'PLMS', aliases: ['plms'], options: {}, scheduler: 'pndm' },
  { name: 'LCM', aliases: ['k_lcm'], options: {}, scheduler: 'lcm' },
];

export interface SchedulerItem {
  name: string;
  label: string;
  aliases: string[] | null;
  default_rho: number;
  need_inner_model: boolean;
}

/** What GET /sdapi/v1/schedulers lists. "Uniform" is the sampler's own schedule without Karras sigmas. */
export const SCHEDULE_TYPES: SchedulerItem[] = [
  { name: 'automatic', label: 'Automatic', aliases: null, default_rho: -1, need_inner_model: false },
  { name: 'uniform', label: 'Uniform', aliases: null, default_rho: -1, need_inner_model: true },
  { name: 'karras', label: 'Karras', aliases: null, default_rho: 7, need_inner_model: false },
];

export interface ResolvedSampler {
  /** The engine's scheduler. */
  scheduler: SchedulerName;
  /** A1111's sampler name, as its info JSON says it. */
  samplerName: string;
  /** A1111's schedule label for the info JSON ("Automatic", "Karras"...). */
  scheduleLabel: string;
}

export type SamplerProblem = { field: 'sampler_name' | 'scheduler'; notFound: boolean; message: string };

/** The engine's scheduler for an A1111 sampler and schedule type, or why there is none. */
export function resolveSampler(samplerIn: string, scheduleIn: string | undefined): ResolvedSampler | SamplerProblem {
  const key = samplerIn.trim().toLowerCase();
  const listed = SAMPLERS.find((s) => s.name.toLowerCase() === key || s.aliases.includes(key));
  // Our names, diffusers class names, and A1111's joined "DPM++ 2M Karras" (before 1.9).
  const joined = listed ? undefined : resolveSchedulerName(samplerIn);
  if (!listed && !joined) {
    return { field: 'sampler_name', notFound: true, message: `Sampler not found: "${samplerIn}". This server runs ${SAMPLERS.map((s) => s.name).join(', ')}.` };
  }
  const base: SchedulerName = listed ? listed.scheduler : joined === 'dpmpp-2m-karras' ? 'dpmpp-2m' : joined!;
  const samplerName = SAMPLERS.find((s) => s.scheduler === base)!.name;
  const schedule = (scheduleIn ?? '').trim().toLowerCase();
  const type = schedule === '' ? SCHEDULE_TYPES[0] : SCHEDULE_TYPES.find((t) => t.name === schedule || t.label.toLowerCase() === schedule);
  if (!type) {
    return {
      field: 'scheduler', notFound: false,
      message: `Schedule type "${scheduleIn}" is not supported here; use ${SCHEDULE_TYPES.map((t) => t.label).join(', ')} (Karras with DPM++ 2M only).`,
    };
  }
  const karras = type.name === 'karras' || (type.name === 'automatic' && (joined === 'dpmpp-2m-karras' || base === 'dpmpp-2m') && !(joined === 'dpmpp-2m'));
  if (karras && base !== 'dpmpp-2m') {
    return { field: 'scheduler', notFound: false, message: `Schedule type Karras works with DPM++ 2M only here; use Automatic with ${samplerName}.` };
  }
  return {
    scheduler: karras ? 'dpmpp-2m-karras' : base,
    samplerName,
    scheduleLabel: karras ? 'Karras' : type.label,
  };
}
