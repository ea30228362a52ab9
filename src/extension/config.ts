// One read-only snapshot of the courseIllustrator.* settings. Code reads a snapshot instead of
// calling getConfiguration() here and there, so a job sees one consistent set of values.

import * as os from 'os';
import type { NameScript } from '../core/fileNames';
import { DEFAULTS, GUIDANCE, STEPS, sizeProblem } from '../core/limits';
import type { ProviderName, UnetWeights } from '../core/protocol';
import { PROVIDER_NAMES, UNET_WEIGHTS } from '../core/protocol';
import { isOneOf } from '../core/validate';

export interface ConfigSnapshot {
  readonly modelPath: string;
  readonly modelStore: string;
  readonly hubEndpoint: string;
  readonly provider: ProviderName;
  /** 0: the engine picks (physical cores). */
  readonly threads: number;
  readonly steps: number;
  readonly guidance: number;
  /** 'default' or a scheduler name. */
  readonly scheduler: string;
  readonly width: number;
  readonly height: number;
  readonly negativePrompt: string;
  readonly imageFolder: string;
  /** The setting, or when it is unset, whether this computer is small (LOW_MEMORY_BELOW). */
  readonly lowMemory: boolean;
  /** True when lowMemory was decided by this computer's memory, not set. */
  readonly lowMemoryAuto: boolean;
  readonly unetWeights: UnetWeights;
  /** Seconds; 0: never shut the idle engine down. */
  readonly engineIdleTimeout: number;
  readonly previewEvery: number;
  /** 'auto': TAESD previews when a preview decoder is downloaded or set; 'approximate': never. */
  readonly livePreview: 'auto' | 'approximate';
  /** A TAESD folder of the user's own; empty: the downloaded one, if any. */
  readonly previewDecoderPath: string;
  /** Every image in 4 steps (core/fastMode.ts) unless a stub or the panel says otherwise. */
  readonly fastMode: boolean;
  /** Folders where `<lora:NAME>` finds NAME.safetensors, in order. */
  readonly loraFolders: readonly string[];
  /** Chinese in file names: as pinyin (default) or as written. */
  readonly fileNames: NameScript;
  /** VS Code's markdown.copyFiles.destination (glob -> pattern). */
  readonly copyFilesDestination: Readonly<Record<string, string>>;
  /** Where images are made: the local engine, or a server of one of these kinds at backendUrl. */
  readonly backend: BackendKind;
  /** The server's http(s) URL; empty when none is set. */
  readonly backendUrl: string;
  /** The checkpoint to ask the server for; empty: the server's current or first one. */
  readonly backendModel: string;
}

export const BACKEND_KINDS = ['local', 'a1111', 'comfyui', 'swarmui'] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

/** The part of vscode.WorkspaceConfiguration we need, so tests can pass a plain object. */
export interface ConfigSource {
  get<T>(section: string): T | undefined;
  /** The values set in each scope (VS Code's; absent in tests, where get returns only what is set). */
  inspect?<T>(section: string): { globalValue?: T; workspaceValue?: T; workspaceFolderValue?: T } | undefined;
}

/**
 * Below this much memory the engine runs in low-memory mode unless the setting says otherwise:
 * an 8 GB laptop with VS Code and a browser open has no room for the default mode's 4.5 GB peak,
 * and low-memory mode (1.7 GB, the UNet a quarter at a time) makes the same pictures.
 */
export const LOW_MEMORY_BELOW = 10 * 2 ** 30;

/** The machine facts settings depend on (tests pass their own). */
export interface Machine {
  totalMemory: number;
}

/** "768x512" within the size limits (src/core/limits.ts), or undefined. */
export function parseSize(text: string | undefined): { width: number; height: number } | undefined {
  const m = /^\s*(\d{2,4})\s*[x×]\s*(\d{2,4})\s*$/i.exec(text ?? '');
  if (!m) return undefined;
  const width = Number(m[1]);
  const height = Number(m[2]);
  if (sizeProblem(width) || sizeProblem(height)) return undefined;
  return { width, height };
}

function num(v: unknown, fallback: number, min: number, max: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.min(max, Math.max(min, v)) : fallback;
}

function str(v: unknown, fallback: string): string {
  return typeof v === 'string' ? v : fallback;
}

/** A boolean the user set in some scope, or undefined when it is left at its default. */
function explicitBoolean(own: ConfigSource, key: string): boolean | undefined {
  const set = own.inspect?.<unknown>(key);
  const v = set ? (set.workspaceFolderValue ?? set.workspaceValue ?? set.globalValue) : own.get<unknown>(key);
  return typeof v === 'boolean' ? v : undefined;
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x.trim() !== '').map((x) => x.trim()) : [];
}

/** `own` is the courseIllustrator section, `markdown` the markdown section (for copyFiles.destination). */
export function readConfig(own: ConfigSource, markdown?: ConfigSource, machine: Machine = { totalMemory: os.totalmem() }): ConfigSnapshot {
  const providerSetting = str(own.get('provider'), 'cpu');
  const provider = isOneOf(PROVIDER_NAMES, providerSetting) ? providerSetting : 'cpu';
  const lowMemorySet = explicitBoolean(own, 'lowMemory');
  // On a GPU the weights live in its memory: only the CPU needs the computer's.
  const lowMemoryAuto = lowMemorySet === undefined && provider === 'cpu' && machine.totalMemory < LOW_MEMORY_BELOW;
  const backend = str(own.get('backend'), 'local');
  const size = parseSize(str(own.get('size'), DEFAULTS.size)) ?? { width: DEFAULTS.width, height: DEFAULTS.height };
  const dest = markdown?.get<unknown>('copyFiles.destination');
  const copyFilesDestination: Record<string, string> = {};
  if (dest && typeof dest === 'object') {
    for (const [k, v] of Object.entries(dest as Record<string, unknown>)) if (typeof v === 'string') copyFilesDestination[k] = v;
  }
  return Object.freeze({
    modelPath: str(own.get('modelPath'), ''),
    modelStore: str(own.get('modelStore'), ''),
    hubEndpoint: str(own.get('hubEndpoint'), ''),
    provider,
    threads: Math.round(num(own.get('threads'), 0, 0, 256)),
    steps: Math.round(num(own.get('steps'), DEFAULTS.steps, STEPS.min, STEPS.max)),
    guidance: num(own.get('guidance'), DEFAULTS.guidance, GUIDANCE.min, GUIDANCE.max),
    scheduler: str(own.get('scheduler'), 'default'),
    width: size.width,
    height: size.height,
    negativePrompt: str(own.get('negativePrompt'), ''),
    imageFolder: str(own.get('imageFolder'), 'images/${documentBaseName}/') || 'images/${documentBaseName}/',
    lowMemory: lowMemorySet ?? lowMemoryAuto,
    lowMemoryAuto,
    unetWeights: unetWeights(own.get('unetWeights'), own.get('compactWeights')),
    engineIdleTimeout: Math.round(num(own.get('engineIdleTimeout'), 300, 0, 86400)),
    previewEvery: Math.round(num(own.get('previewEvery'), 2, 0, 50)),
    livePreview: own.get('livePreview') === 'approximate' ? 'approximate' : 'auto',
    previewDecoderPath: str(own.get('previewDecoderPath'), ''),
    fastMode: own.get('fastMode') === true,
    fileNames: own.get('fileNames') === 'original' ? 'original' : 'pinyin',
    loraFolders: Object.freeze(stringList(own.get('loraFolders')).slice(0, 16)),
    copyFilesDestination: Object.freeze(copyFilesDestination),
    backend: isOneOf(BACKEND_KINDS, backend) ? backend : 'local',
    backendUrl: str(own.get('backendUrl'), '').trim(),
    backendModel: str(own.get('backendModel'), '').trim(),
  });
}

/** Settings whose change needs a new engine process (they are fixed per process). */
export function engineOptionsChanged(a: ConfigSnapshot, b: ConfigSnapshot): boolean {
  return a.provider !== b.provider || a.threads !== b.threads || a.lowMemory !== b.lowMemory || a.unetWeights !== b.unetWeights;
}

/** The setting, else the deprecated compactWeights: true as 'compact'. */
function unetWeights(value: unknown, compactWeights: unknown): UnetWeights {
  if (typeof value === 'string' && isOneOf(UNET_WEIGHTS, value) && value !== 'full') return value;
  return compactWeights === true ? 'compact' : 'full';
}
