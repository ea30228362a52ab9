// The one place that decides how onnxruntime runs: which execution provider (falling back to the
// CPU, with a reason, when the requested one cannot work here), how many threads, which session
// options. Everything else creates sessions through ModelSession.

import { execFileSync } from 'child_process';
import { existsSync, readdirSync, readFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import type { ProviderName } from '../../core/protocol';

export interface SupportedBackend {
  name: string;
  /** False: onnxruntime-node knows the provider but its library is installed separately. */
  bundled: boolean;
}

export interface ResolvedProvider {
  provider: ProviderName;
  /** What InferenceSession.create takes. */
  executionProviders: string[];
  /** Set when the requested provider could not be used: why, and what would make it work. */
  warning?: string;
}

export const PROVIDER_LABEL: Record<ProviderName, string> = {
  cpu: 'CPU',
  webgpu: 'WebGPU',
  cuda: 'CUDA',
  dml: 'DirectML',
  coreml: 'CoreML',
};

/** What to install or use for each provider. */
export const PROVIDER_HINT: Record<ProviderName, string> = {
  cpu: '',
  webgpu: 'WebGPU needs a GPU and its drivers: Vulkan on Linux, Direct3D 12 on Windows, Metal on macOS.',
  cuda:
    'CUDA needs Linux x64 or Windows x64, an NVIDIA GPU with CUDA 12 and cuDNN 9, and onnxruntime-node\'s CUDA files, ' +
    'which are not bundled: reinstall it with `npm install onnxruntime-node --onnxruntime-node-install=cuda12`.',
  dml: 'DirectML works on Windows 10/11 with a DirectX 12 GPU; on other systems choose "cpu" or "webgpu".',
  coreml: 'CoreML works on macOS only; on other systems choose "cpu" or "webgpu".',
};

export function listBackends(): SupportedBackend[] {
  try {
    return ort.listSupportedBackends();
  } catch {
    return [{ name: 'cpu', bundled: true }];
  }
}

/**
 * The provider to use for `requested`. A provider onnxruntime-node does not have on this system,
 * or whose separately installed library is missing, becomes 'cpu' with a warning. A provider that
 * is present may still fail when a session starts (no GPU adapter, driver too old); ModelSession
 * falls back to the CPU then, with a warning too.
 */
export function resolveProvider(
  requested: ProviderName,
  backends: SupportedBackend[] = listBackends(),
  libraryPresent: (provider: ProviderName) => boolean | undefined = providerLibraryPresent,
): ResolvedProvider {
  if (requested === 'cpu') return cpu();
  const label = PROVIDER_LABEL[requested];
  if (!label) return cpu(`Unknown execution provider "${String(requested)}"; using the CPU. Choose cpu, webgpu, cuda, dml or coreml.`);
  const found = backends.find((b) => b.name === requested);
  if (!found) {
    const here = backends.map((b) => b.name).join(', ');
    return cpu(`${label} is not available in onnxruntime-node on ${process.platform}-${process.arch} (it has: ${here}); using the CPU. ${PROVIDER_HINT[requested]}`);
  }
  if (!found.bundled && libraryPresent(requested) === false) {
    return cpu(`${label} is not installed: onnxruntime-node's ${label} provider library is missing; using the CPU. ${PROVIDER_HINT[requested]}`);
  }
  return { provider: requested, executionProviders: [requested, 'cpu'] };
}

function cpu(warning?: string): ResolvedProvider {
  return warning ? { provider: 'cpu', executionProviders: ['cpu'], warning } : { provider: 'cpu', executionProviders: ['cpu'] };
}

/**
 * Whether onnxruntime-node's separately installed provider library (e.g.
 * libonnxruntime_providers_cuda.so) is next to its binding; undefined when that folder cannot be
 * found (a bundled build), in which case session creation decides.
 */
export function providerLibraryPresent(provider: ProviderName): boolean | undefined {
  let binDir: string;
  try {
    binDir = path.join(path.dirname(require.resolve('onnxruntime-node/package.json')), 'bin');
  } catch {
    return undefined;
  }
  if (!existsSync(binDir)) return undefined;
  const lib =
    process.platform === 'win32' ? `onnxruntime_providers_${provider}.dll` : `libonnxruntime_providers_${provider}.so`;
  try {
    for (const napi of readdirSync(binDir)) {
      if (existsSync(path.join(binDir, napi, process.platform, process.arch, lib))) return true;
    }
  } catch {
    return undefined;
  }
  return false;
}

let coreCount: number | undefined;

/**
 * Physical cores: ORT's matrix kernels gain nothing from hyper-threads and lose to the
 * contention, so this is the default thread count. Also bounded by the CPUs this process may use
 * (affinity, cgroup quota), so a container with 2 CPUs gets 2 threads, not 64.
 */
export function physicalCoreCount(): number {
  coreCount ??= countCores();
  return coreCount;
}

function countCores(): number {
  const usable = Math.max(1, os.availableParallelism());
  let cores: number | undefined;
  if (process.platform === 'linux') cores = linuxPhysicalCores();
  else if (process.platform === 'darwin') cores = darwinPhysicalCores();
  return threadsFor({ usable, cores, arm: process.arch === 'arm64', quota: cgroupCpuQuota() });
}

/**
 * The default thread count from what the machine says: `usable` CPUs (affinity), `cores` physical
 * cores if known, the cgroup `quota` if any.
 */
export function threadsFor(m: { usable: number; cores?: number; arm: boolean; quota?: number }): number {
  // ARM cores (Apple silicon, Snapdragon) have no SMT; x86 usually runs two threads per core.
  let cores = m.cores ?? (m.arm ? m.usable : Math.max(1, Math.floor(m.usable / 2)));
  // A VM with 2 to 4 vCPUs often shows them as hyper-threads of one or two cores, yet they are
  // scheduled as separate CPUs: there every usable CPU gets a thread.
  if (m.usable <= 4) cores = m.usable;
  return Math.max(1, Math.min(cores, m.usable, m.quota ?? Infinity));
}

/** Distinct (physical id, core id) pairs in /proc/cpuinfo; undefined when it does not list them. */
export function linuxPhysicalCores(cpuinfo?: string): number | undefined {
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return undefined;
    }
  }
  const pairs = new Set<string>();
  for (const block of text.split(/\n\s*\n/)) {
    const phys = /^physical id\s*:\s*(\d+)/m.exec(block);
    const core = /^core id\s*:\s*(\d+)/m.exec(block);
    if (phys && core) pairs.add(`${phys[1]}:${core[1]}`);
  }
  return pairs.size > 0 ? pairs.size : undefined;
}

function darwinPhysicalCores(): number | undefined {
  try {
    const n = Number(execFileSync('sysctl', ['-n', 'hw.physicalcpu'], { encoding: 'utf8', timeout: 2000 }).trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** cgroup v2 cpu.max as a CPU count (rounded up), or undefined when unlimited or unknown. */
function cgroupCpuQuota(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const [quota, period] = readFileSync('/sys/fs/cgroup/cpu.max', 'utf8').trim().split(/\s+/);
    if (quota === 'max') return undefined;
    const n = Math.ceil(Number(quota) / Number(period));
    return Number.isFinite(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

export interface SessionTuning {
  /** False only for reading metadata (`info`): no graph optimisation at all. */
  optimize?: boolean;
  /**
   * The graph's weights are small (the VAE's 0.2 GB): on the CPU it is optimised at 'all' too,
   * whose convolution layouts made the VAE decode 12.7-13.0 s instead of 14.5-16.1 s at
   * 'extended' (raw onnxruntime: 15.7-16.6 s), for a pre-packed copy of 0.2 GB and 0.3 s more
   * to create the session.
   */
  smallWeights?: boolean;
}

/**
 * Session options for every model session.
 *
 * On the CPU the graph is optimised at 'extended', not 'all': measured on the full-size SD v1.5
 * UNet (2 cores), 'all' takes 7-9 s to create a session instead of 1.5-2 s, and its pre-packing
 * copies the 3.4 GB of weights into anonymous memory (the mapped file is then read only once),
 * for a step time within the noise of 'extended'. At 'extended' the weights stay mapped from the
 * model's files, shared with the page cache, and a released session comes back in about 2 s.
 * The memory-pattern planner is off: it reserved another 3 GB for a UNet step and buys nothing
 * for graphs whose shapes change with every image size. The arena stays on: without it the VAE
 * decode took 40 % longer (every 128 MB activation freshly mapped and zeroed) and the UNet's
 * peak was higher, not lower; what the arena holds goes when the session is released.
 */
export function sessionOptions(
  resolved: Pick<ResolvedProvider, 'executionProviders'>,
  threads: number,
  label: string,
  tuning: SessionTuning = {},
): ort.InferenceSession.SessionOptions {
  const n = threads > 0 ? Math.floor(threads) : physicalCoreCount();
  const cpuOnly = resolved.executionProviders.every((p) => p === 'cpu');
  const level = tuning.optimize === false ? 'disabled' : cpuOnly && !tuning.smallWeights ? 'extended' : 'all';
  return {
    executionProviders: resolved.executionProviders,
    intraOpNumThreads: n,
    // The graphs are one long chain of heavy ops; parallel branches would only fight for cores.
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: level,
    enableCpuMemArena: true,
    enableMemPattern: false,
    logId: label,
    // Fatal only: every error ORT raises reaches us as an exception that ModelSession rewords
    // (naming the file and the fix), and its warnings ("some nodes were not assigned to the
    // preferred provider") are not actionable; printing both would double every error in the log.
    logSeverityLevel: 4,
    extra: {
      // Idle worker threads spin-wait by default; between UNet steps (scheduler, previews) and
      // on machines shared with an editor that burns cores for nothing.
      'session.intra_op.allow_spinning': '0',
      'session.inter_op.allow_spinning': '0',
    },
  };
}
