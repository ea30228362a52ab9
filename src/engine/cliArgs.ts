// The argument parser of every CLI command (generate, tokenize, info, models, bench):
// `--name value`, `--name=value`, boolean flags, positionals, `--` before positionals that start
// with a dash. Unknown options, `-x` included, are errors that list the known ones, so typos
// never pass silently.

import type { UnetWeights } from '../core/protocol';
import { badInput } from './errors';

export interface ArgSpec {
  values: string[];
  flags: string[];
}

export interface ParsedArgs {
  /** Each value option's last value (a later option wins). */
  values: Map<string, string>;
  /** Every value given, in order, for options that may repeat (`--include a --include b`). */
  lists: Map<string, string[]>;
  flags: Set<string>;
  positionals: string[];
}

export function parseArgs(argv: string[], spec: ArgSpec, command: string): ParsedArgs {
  const values = new Map<string, string>();
  const lists = new Map<string, string[]>();
  const flags = new Set<string>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = !arg.startsWith('--') ? '' : eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    if (spec.flags.includes(name)) {
      if (eq >= 0) throw badInput(`--${name} is a flag and takes no value.`);
      flags.add(name);
    } else if (spec.values.includes(name)) {
      const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw badInput(`--${name} needs a value.`);
      values.set(name, value);
      lists.set(name, [...(lists.get(name) ?? []), value]);
    } else {
      const known = [...spec.values, ...spec.flags].map((n) => `--${n}`).join(', ');
      throw badInput(`Unknown option ${arg} for "${command}". Known options: ${known}.`);
    }
  }
  return { values, lists, flags, positionals };
}

export function numberArg(args: ParsedArgs, name: string, integer: boolean): number | undefined {
  const raw = args.values.get(name);
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    throw badInput(`--${name} must be ${integer ? 'a whole number' : 'a number'}, got "${raw}".`);
  }
  return v;
}

export function onOffArg(args: ParsedArgs, name: string): boolean | undefined {
  const raw = args.values.get(name);
  if (raw === undefined) return undefined;
  if (raw === 'on') return true;
  if (raw === 'off') return false;
  throw badInput(`--${name} must be "on" or "off", got "${raw}".`);
}

/**
 * `--lora FILE[:MULT]`, repeatable: a multiplier after the last `:` when it is a number (so
 * `C:\\loras\\x.safetensors` keeps its drive letter), else 1.
 */
export function loraArgs(args: ParsedArgs): { path: string; multiplier: number }[] | undefined {
  const list = args.lists.get('lora');
  if (!list) return undefined;
  return list.map((raw) => {
    const m = /^(.+):([-+]?(?:\d+\.?\d*|\.\d+))$/.exec(raw);
    const file = m ? m[1] : raw;
    if (!file.trim()) throw badInput(`--lora ${raw}: give a .safetensors file, optionally with a multiplier (--lora style.safetensors:0.8).`);
    return { path: file, multiplier: m ? Number(m[2]) : 1 };
  });
}

/** --int8 (which includes the compact MatMul weights) or --compact; undefined: the full weights. */
export function unetWeightsFromFlags(flags: ReadonlySet<string>): UnetWeights | undefined {
  return flags.has('int8') ? 'int8' : flags.has('compact') ? 'compact' : undefined;
}
