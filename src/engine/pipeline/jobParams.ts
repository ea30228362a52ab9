// Turns a GenerateParams request into a complete, checked job description.
// Every check names the argument and the fix; nothing is loaded or written here.

import * as fs from 'fs';
import * as path from 'path';
import { GenerateParams } from '../../core/protocol';
import { SchedulerName, resolveSchedulerName, unknownSchedulerMessage, schedulerFromClassName } from '../../core/schedulerNames';
import { badInput } from '../errors';
import { randomSeed } from '../rng/torchGenerator';

export interface ModelDefaults {
  /** unet sample_size * vae factor. */
  size: number;
  vaeScaleFactor: number;
  schedulerClassName?: string;
}

export interface JobSpec {
  prompt: string;
  negativePrompt: string;
  seeds: number[];
  steps: number;
  guidance: number;
  width: number;
  height: number;
  scheduler: SchedulerName;
  promptWeighting: boolean;
  outFile?: string;
  outDir?: string;
  overwrite: boolean;
  previewEvery: number;
  saveLatents?: string;
  domain: NonNullable<GenerateParams['domain']>;
  extraParameters: Record<string, string>;
}

export const DEFAULT_STEPS = 20;
export const DEFAULT_GUIDANCE = 7.5;
const MAX_SIDE = 4096;

export function resolveJob(p: GenerateParams, model: ModelDefaults): JobSpec {
  const steps = p.steps ?? DEFAULT_STEPS;
  if (!Number.isInteger(steps) || steps < 1) {
    throw badInput(`--steps must be a whole number of at least 1, got ${p.steps}.`);
  }
  if (steps > 1000) throw badInput(`--steps ${steps} is more than the 1000 training timesteps; use 1000 or fewer.`);
  const guidance = p.guidance ?? DEFAULT_GUIDANCE;
  if (!Number.isFinite(guidance) || guidance < 0) {
    throw badInput(`--guidance must be 0 or more (7.5 is usual; 1 or less turns classifier-free guidance off), got ${p.guidance}.`);
  }
  const multiple = lcm(8, model.vaeScaleFactor);
  const width = p.width ?? model.size;
  const height = p.height ?? model.size;
  for (const [name, v] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(v) || v < multiple || v > MAX_SIDE || v % multiple !== 0) {
      const down = Math.max(multiple, Math.floor(v / multiple) * multiple);
      throw badInput(`--${name} ${v} can't be used: it must be a multiple of ${multiple} pixels between ${multiple} and ${MAX_SIDE} ` +
        `(this model's VAE works in blocks of ${model.vaeScaleFactor}); try ${down}.`);
    }
  }
  let scheduler: SchedulerName | undefined;
  if (p.scheduler !== undefined && p.scheduler !== '' && p.scheduler !== 'default') {
    scheduler = resolveSchedulerName(p.scheduler);
    if (!scheduler) throw badInput(unknownSchedulerMessage(p.scheduler));
  } else {
    scheduler = schedulerFromClassName(model.schedulerClassName) ?? 'pndm';
  }
  const batch = p.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1 || batch > 64) throw badInput(`--batch must be from 1 to 64, got ${p.batch}.`);
  const base = p.seed ?? randomSeed();
  if (!Number.isInteger(base) || base < 0 || base + batch - 1 > Number.MAX_SAFE_INTEGER) {
    throw badInput(`--seed must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER - batch + 1}, got ${p.seed}.`);
  }
  if (p.outFile && batch > 1) {
    throw badInput(`--out names one file but --batch is ${batch}; use --out-dir DIR for several images.`);
  }
  if (p.outFile && !p.outFile.toLowerCase().endsWith('.png')) {
    throw badInput(`--out ${p.outFile}: the output file must end in .png.`);
  }
  if (p.saveLatents && !p.saveLatents.toLowerCase().endsWith('.npy')) {
    throw badInput(`--save-latents ${p.saveLatents}: the latents file must end in .npy.`);
  }
  return {
    prompt: p.prompt,
    negativePrompt: p.negativePrompt ?? '',
    seeds: Array.from({ length: batch }, (_, i) => base + i),
    steps,
    guidance,
    width,
    height,
    scheduler,
    promptWeighting: p.promptWeighting ?? true,
    outFile: p.outFile ? path.resolve(p.outFile) : undefined,
    outDir: p.outFile ? undefined : path.resolve(p.outDir ?? '.'),
    overwrite: p.overwrite ?? false,
    previewEvery: p.previewEvery ?? 0,
    saveLatents: p.saveLatents ? path.resolve(p.saveLatents) : undefined,
    domain: p.domain ?? 'general',
    extraParameters: p.extraParameters ?? {},
  };
}

/** Fails before any work when the output can't be written, so a long job never ends in an error. */
export function checkOutputs(job: JobSpec): void {
  const dirs = new Set<string>();
  if (job.outFile) {
    if (!job.overwrite && fs.existsSync(job.outFile)) {
      throw badInput(`${job.outFile} already exists; pass --overwrite to replace it or choose another --out.`);
    }
    dirs.add(path.dirname(job.outFile));
  }
  if (job.outDir) dirs.add(job.outDir);
  if (job.saveLatents) dirs.add(path.dirname(job.saveLatents));
  for (const dir of dirs) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(dir);
    } catch {
      throw badInput(`The output folder ${dir} does not exist; create it or choose another one.`);
    }
    if (!stat.isDirectory()) throw badInput(`${dir} is not a folder; choose an output folder.`);
    // A real probe file: access(W_OK) says yes to root even on read-only mounts.
    const probe = path.join(dir, `.course-illustrator-probe-${process.pid}-${Date.now()}`);
    try {
      fs.closeSync(fs.openSync(probe, 'wx'));
      fs.unlinkSync(probe);
    } catch {
      throw badInput(`The output folder ${dir} is not writable; choose another one or fix its permissions.`);
    }
  }
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function lcm(a: number, b: number): number {
  return (a / gcd(a, b)) * b;
}
