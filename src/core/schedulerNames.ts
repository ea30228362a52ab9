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
  return ALIASES[key] ?? ALIASES[key.replace(/ /g, '')];
}

export function unknownSchedulerMessage(input: string): string {
  return `Unknown scheduler "${input}". Valid schedulers: ${SCHEDULER_NAMES.join(', ')} ` +
    `(A1111 names such as "Euler a", "DPM++ 2M Karras", "PLMS" are accepted too).`;
}

/** Maps a diffusers `_class_name` from scheduler_config.json to our name (the model's default). */
export function schedulerFromClassName(className: string | undefined): SchedulerName | undefined {
  return className ? ALIASES[className.toLowerCase()] : undefined;
}
