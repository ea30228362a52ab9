// The platforms a VSIX is built for: vsce's target names, npm's --os/--cpu for the staging
// install, and how a native binary for that platform starts (its file format and CPU).

export const TARGETS = ['win32-x64', 'win32-arm64', 'darwin-x64', 'darwin-arm64', 'linux-x64', 'linux-arm64'] as const;
export type Target = (typeof TARGETS)[number];

export type BinaryFormat = 'pe' | 'macho' | 'elf';

export interface TargetInfo {
  target: Target;
  /** process.platform / npm --os */
  os: 'win32' | 'darwin' | 'linux';
  /** process.arch / npm --cpu */
  cpu: 'x64' | 'arm64';
  format: BinaryFormat;
}

export function targetInfo(target: string): TargetInfo {
  if (!(TARGETS as readonly string[]).includes(target)) {
    throw new Error(`Unknown target "${target}": use one of ${TARGETS.join(', ')}, or --all.`);
  }
  const [os, cpu] = target.split('-') as [TargetInfo['os'], TargetInfo['cpu']];
  return { target: target as Target, os, cpu, format: os === 'win32' ? 'pe' : os === 'darwin' ? 'macho' : 'elf' };
}

/** This machine's target, or undefined where no VSIX target fits (linux-ia32...). */
export function hostTarget(): Target | undefined {
  const t = `${process.platform}-${process.arch}`;
  return (TARGETS as readonly string[]).includes(t) ? (t as Target) : undefined;
}

export interface NativeHeader {
  format: BinaryFormat;
  /** The CPUs the binary holds code for (a macOS universal binary can hold several). */
  cpus: string[];
}

// CPU codes of each format's header: PE's Machine, Mach-O's cputype, ELF's e_machine.
const PE_MACHINE: Record<number, string> = { 0x8664: 'x64', 0xaa64: 'arm64', 0xa641: 'arm64ec', 0x14c: 'ia32', 0x1c4: 'arm' };
const MACHO_CPU: Record<number, string> = { 0x01000007: 'x64', 0x0100000c: 'arm64', 7: 'ia32', 12: 'arm' };
const ELF_MACHINE: Record<number, string> = { 62: 'x64', 183: 'arm64', 3: 'ia32', 40: 'arm' };

/** The format and CPU of a native binary from its first bytes; undefined when it is not one. */
export function nativeHeader(b: Buffer): NativeHeader | undefined {
  if (b.length >= 64 && b[0] === 0x4d && b[1] === 0x5a) {
    const pe = b.readUInt32LE(0x3c);
    if (pe + 6 <= b.length && b.readUInt32LE(pe) === 0x00004550) {
      const m = b.readUInt16LE(pe + 4);
      return { format: 'pe', cpus: [PE_MACHINE[m] ?? `0x${m.toString(16)}`] };
    }
  }
  if (b.length >= 8 && b.readUInt32LE(0) === 0xfeedfacf) {
    const c = b.readInt32LE(4);
    return { format: 'macho', cpus: [MACHO_CPU[c] ?? `0x${c.toString(16)}`] };
  }
  if (b.length >= 8 && b.readUInt32LE(0) === 0xfeedface) return { format: 'macho', cpus: ['32-bit'] };
  // Universal (fat) binary: big-endian header, then one record per architecture. Java class
  // files share the magic but have a large "count"; real fat binaries list a handful.
  if (b.length >= 8 && b.readUInt32BE(0) === 0xcafebabe && b.readUInt32BE(4) > 0 && b.readUInt32BE(4) < 16) {
    const n = b.readUInt32BE(4);
    const cpus: string[] = [];
    for (let i = 0; i < n && 8 + 20 * i + 4 <= b.length; i++) {
      const c = b.readInt32BE(8 + 20 * i);
      cpus.push(MACHO_CPU[c] ?? `0x${c.toString(16)}`);
    }
    return { format: 'macho', cpus };
  }
  if (b.length >= 20 && b.readUInt32BE(0) === 0x7f454c46) {
    const le = b[5] === 1;
    const m = le ? b.readUInt16LE(18) : b.readUInt16BE(18);
    return { format: 'elf', cpus: [b[4] === 2 ? (ELF_MACHINE[m] ?? `0x${m.toString(16)}`) : `32-bit ${ELF_MACHINE[m] ?? m}`] };
  }
  return undefined;
}

/** Names that say "native library or addon": *.node, *.dll, *.dylib, *.so and *.so.1.2.3. */
export function looksNative(name: string): boolean {
  return /\.(node|dll|dylib|exe)$/i.test(name) || /\.so(\.\d+)*$/.test(name);
}

/**
 * Whether a native file's path is inside one of the target's own folders: onnxruntime-node's
 * bin/napi-vN/<os>/<arch>/ or sharp's @img/sharp-<os>-<cpu>/ and @img/sharp-libvips-<os>-<cpu>/.
 */
export function inTargetFolder(path: string, t: TargetInfo): boolean {
  return (
    new RegExp(`/onnxruntime-node/bin/napi-v\\d+/${t.os}/${t.cpu}/`).test(path) ||
    path.includes(`/@img/sharp-${t.os}-${t.cpu}/`) ||
    path.includes(`/@img/sharp-libvips-${t.os}-${t.cpu}/`)
  );
}
