// Scheduler names shared by the engine, the extension and the webviews.
// Canonical names are ours; A1111 / ComfyUI / diffusers names are accepted as aliases.

export const SCHEDULER_NAMES = [
  'pndm',
  'ddim',
  'euler',
  'euler-a',
  'lms',
  'dpmpp-2m',
  'dpmpp-2m-karras',
  'lcm',
] as const;

export type SchedulerName = (typeof SCHEDULER_NAMES)[number];

/** What A1111 writes as `Sampler:` and `Schedule type:` in its infotext. */
export const A1111_SAMPLER: Record<SchedulerName, { sampler: string; schedule?: string }> = {
  pndm: { sampler: 'PLMS' },
  ddim: { sampler: 'DDIM' },
  euler: { sampler: 'Euler' },
  'euler-a': { sampler: 'Euler a' },
  lms: { sampler: 'LMS' },
  'dpmpp-2m': { sampler: 'DPM++ 2M' },
  'dpmpp-2m-karras': { sampler: 'DPM++ 2M', schedule: 'Karras' },
  lcm: { sampler: 'LCM' },
};

const ALIASES: Record<string, SchedulerName> = {
  plms: 'pndm',
  pndmscheduler: 'pndm',
  ddimscheduler: 'ddim',
  eulerdiscretescheduler: 'euler',
  'euler a': 'euler-a',
  euler_a: 'euler-a',
  euler_ancestral: 'euler-a',
  eulerancestral: 'euler-a',
  eulerancestraldiscretescheduler: 'euler-a',
  lmsdiscretescheduler: 'lms',
  'dpm++ 2m': 'dpmpp-2m',
  dpmpp_2m: 'dpmpp-2m',
  dpmsolvermultistepscheduler: 'dpmpp-2m',
  'dpm++ 2m karras': 'dpmpp-2m-karras',
  dpmpp_2m_karras: 'dpmpp-2m-karras',
  lcmscheduler: 'lcm',
};

/** Resolves a user-typed scheduler name (ours, A1111's, ComfyUI's or a diffusers class name). */
export function resolveSchedulerName(input: string): SchedulerName | undefined {
  const key = input.trim().toLowerCase().replace(/\s+/g, ' ');
  if ((SCHEDULER_NAMES as readonly string[]).includes(key)) return key as SchedulerName;
  return alias(key) ?? alias(key.replace(/ /g, ''));
}

/** An alias's scheduler; never one of Object's own keys ("constructor"). */
function alias(key: string): SchedulerName | undefined {
  return Object.hasOwn(ALIASES, key) ? ALIASES[key] : undefined;
}

export function unknownSchedulerMessage(input: string): string {
  return `Unknown scheduler "${input}". Valid schedulers: ${SCHEDULER_NAMES.join(', ')} ` +
    `(A1111 names such as "Euler a", "DPM++ 2M Karras", "PLMS" are accepted too).`;
}

/**
 * The scheduler the model ships with, from its scheduler_config.json: the `_class_name`, and for
 * DPMSolverMultistepScheduler `use_karras_sigmas` (true: DPM++ 2M Karras). PNDM, the Stable
 * Diffusion v1.5 default, when the class is missing or is not one of ours. Every job without a
 * scheduler of its own runs this one.
 */
export function defaultSchedulerName(config: { _class_name?: unknown; use_karras_sigmas?: unknown }): SchedulerName {
  const name = typeof config._class_name === 'string' ? alias(config._class_name.toLowerCase()) : undefined;
  if (name === 'dpmpp-2m' && config.use_karras_sigmas === true) return 'dpmpp-2m-karras';
  return name ?? 'pndm';
}
