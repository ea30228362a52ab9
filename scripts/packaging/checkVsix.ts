// Opens a VSIX and checks it is what its target needs: every native binary (by name or by its
// first bytes) sits in the target's own folders and is built for the target's format and CPU,
// the extension's bundles and runtime packages are there, and the manifest names the target.
// scripts/package.ts runs it on each VSIX it writes; test/package/ runs it again.

import { promises as fs } from 'node:fs';
import { TargetInfo, inTargetFolder, looksNative, nativeHeader } from './targets';
import { ZipFile } from './zip';

export interface NativeFile {
  name: string;
  size: number;
  format: string;
  cpus: string[];
}

export interface VsixReport {
  file: string;
  target: string;
  bytes: number;
  entries: number;
  /** Bytes of all entries once unpacked. */
  unpackedBytes: number;
  natives: NativeFile[];
  problems: string[];
}

/** Files the extension cannot start without (paths inside the VSIX). */
export const REQUIRED_FILES = [
  'extension/package.json',
  'extension/dist/extension.js',
  'extension/dist/engine.js',
  'extension/dist/webview/panel.js',
  'extension/dist/webview/gallery.js',
];

/** Packages the engine loads at run time (esbuild leaves them external): each with its "main" file. */
export const RUNTIME_PACKAGES = ['onnxruntime-node', 'onnxruntime-common', 'sharp', 'detect-libc', 'semver', '@huggingface/transformers'];

export async function checkVsix(file: string, t: TargetInfo): Promise<VsixReport> {
  const buf = await fs.readFile(file);
  const zip = new ZipFile(buf);
  const problems: string[] = [];
  const natives: NativeFile[] = [];
  let unpacked = 0;
  for (const e of zip.entries) {
    if (e.name.endsWith('/')) continue;
    unpacked += e.size;
    let data: Buffer;
    try {
      data = zip.read(e);
    } catch (err) {
      problems.push(`${e.name}: ${(err as Error).message}`);
      continue;
    }
    const header = nativeHeader(data);
    if (!header) {
      if (looksNative(e.name)) problems.push(`${e.name}: named like a native binary but is none (no PE, Mach-O or ELF header)`);
      continue;
    }
    natives.push({ name: e.name, size: e.size, format: header.format, cpus: header.cpus });
    if (!inTargetFolder(`/${e.name}`, t)) problems.push(`${e.name}: a native binary outside ${t.target}'s folders`);
    if (header.format !== t.format) problems.push(`${e.name}: a ${header.format} binary, ${t.target} needs ${t.format}`);
    else if (!header.cpus.includes(t.cpu)) problems.push(`${e.name}: built for ${header.cpus.join('+')}, ${t.target} needs ${t.cpu}`);
  }
  for (const name of REQUIRED_FILES) if (!zip.find(name)) problems.push(`${name} is missing`);
  for (const p of RUNTIME_PACKAGES) {
    const entry = zip.find(`extension/node_modules/${p}/package.json`);
    if (!entry) {
      problems.push(`extension/node_modules/${p} is missing`);
      continue;
    }
    const main = ((JSON.parse(zip.read(entry).toString('utf8')) as { main?: string }).main ?? 'index.js').replace(/^\.\//, '');
    const file = `extension/node_modules/${p}/${main}`;
    if (!zip.find(file) && !zip.find(`${file}.js`) && !zip.find(`${file}/index.js`)) problems.push(`${file} (the "main" of ${p}) is missing`);
  }
  const manifest = zip.find('extension.vsixmanifest');
  const manifestText = manifest ? zip.read(manifest).toString('utf8') : '';
  if (!manifestText.includes(`TargetPlatform="${t.target}"`)) problems.push(`extension.vsixmanifest does not name TargetPlatform="${t.target}"`);
  const pkgEntry = zip.find('extension/package.json');
  if (pkgEntry) {
    const pkg = JSON.parse(zip.read(pkgEntry).toString('utf8')) as { main?: string; icon?: string };
    for (const f of [pkg.main, pkg.icon]) {
      if (f && !zip.find(`extension/${f.replace(/^\.\//, '')}`)) problems.push(`extension/${f} (named in package.json) is missing`);
    }
  }
  const ort = natives.filter((n) => n.name.includes('/onnxruntime-node/'));
  const sharpNatives = natives.filter((n) => n.name.includes('/@img/sharp-'));
  if (!ort.some((n) => n.name.endsWith('onnxruntime_binding.node'))) problems.push(`no onnxruntime_binding.node for ${t.target}`);
  if (!sharpNatives.some((n) => n.name.endsWith('.node'))) problems.push(`no sharp addon (@img/sharp-${t.os}-${t.cpu}) for ${t.target}`);
  for (const e of zip.entries) {
    if (/^extension\/(src|test|webview\/.*\.ts$)/.test(e.name) || e.name.endsWith('.map')) problems.push(`${e.name}: a source or test file that should not ship`);
  }
  return { file, target: t.target, bytes: buf.length, entries: zip.entries.length, unpackedBytes: unpacked, natives, problems };
}
