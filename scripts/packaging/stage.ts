// One target's staging folder: the extension's own files, the bundles, and a node_modules that
// `npm ci --os --cpu` fills with that platform's packages from the lockfile (sharp's @img/*
// binaries come from the npm registry; onnxruntime-node's tarball carries every platform, and all
// folders but the target's are removed). The repository's own node_modules is never touched.

import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { TargetInfo } from './targets';

const run = promisify(execFile);

/** onnxruntime-node's binary folders for one platform: bin/napi-vN/<os>/<arch>/. */
export async function ortFolders(nodeModules: string): Promise<{ os: string; cpu: string; dir: string }[]> {
  const bin = path.join(nodeModules, 'onnxruntime-node', 'bin');
  const out: { os: string; cpu: string; dir: string }[] = [];
  for (const napi of await fs.readdir(bin).catch(() => [] as string[])) {
    for (const os of await fs.readdir(path.join(bin, napi)).catch(() => [] as string[])) {
      for (const cpu of await fs.readdir(path.join(bin, napi, os)).catch(() => [] as string[])) {
        out.push({ os, cpu, dir: path.join(bin, napi, os, cpu) });
      }
    }
  }
  return out;
}

/** Copies `files` (relative paths) from `from` into `to`. */
export async function copyFiles(from: string, to: string, files: string[]): Promise<void> {
  for (const f of files) {
    await fs.mkdir(path.dirname(path.join(to, f)), { recursive: true });
    await fs.copyFile(path.join(from, f), path.join(to, f));
  }
}

/**
 * Installs the production dependencies of the lockfile for `t` into `dir` (which holds
 * package.json, package-lock.json and .npmrc). Install scripts stay off: onnxruntime-node's
 * would fetch CUDA files from NuGet (.npmrc skips it too), and sharp needs none for its prebuilt
 * @img packages.
 */
export async function installFor(dir: string, t: TargetInfo): Promise<void> {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const args = ['ci', '--omit=dev', `--os=${t.os}`, `--cpu=${t.cpu}`, '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];
  // glibc: the @img/sharp-linuxmusl-* packages are for Alpine, which has its own vsce targets.
  if (t.os === 'linux') args.push('--libc=glibc');
  try {
    await run(npm, args, { cwd: dir, env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' }, maxBuffer: 16 << 20, shell: process.platform === 'win32' });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`npm ci for ${t.target} failed (the npm registry must be reachable, or its packages in npm's cache):\n${e.stderr || e.message}`, { cause: err });
  }
}

/**
 * Leaves only the target's native files: other platforms' onnxruntime-node folders go, and on
 * macOS the versioned copy of libonnxruntime (the binding loads libonnxruntime.1.dylib; npm
 * unpacks the tarball's symlink as a second 45 MB file).
 */
export async function pruneNatives(nodeModules: string, t: TargetInfo): Promise<void> {
  const folders = await ortFolders(nodeModules);
  if (!folders.some((f) => f.os === t.os && f.cpu === t.cpu)) {
    const have = folders.map((f) => `${f.os}-${f.cpu}`).join(', ');
    throw new Error(
      `onnxruntime-node has no binaries for ${t.target} (its package ships ${have}). ` +
        `Build the other targets, or pin an onnxruntime-node version that ships ${t.os}/${t.cpu} in package.json.`,
    );
  }
  for (const f of folders) if (f.os !== t.os || f.cpu !== t.cpu) await fs.rm(f.dir, { recursive: true, force: true });
  if (t.os === 'darwin') {
    const dir = folders.find((f) => f.os === t.os && f.cpu === t.cpu)?.dir ?? '';
    const loaded = path.join(dir, 'libonnxruntime.1.dylib');
    const loadedBytes = await fs.readFile(loaded).catch(() => undefined);
    for (const name of await fs.readdir(dir)) {
      if (!/^libonnxruntime\.\d+\.\d+\.\d+\.dylib$/.test(name) || !loadedBytes) continue;
      const copy = await fs.readFile(path.join(dir, name));
      if (copy.equals(loadedBytes)) await fs.rm(path.join(dir, name));
    }
  }
}

/** Runs vsce (the repository's) in `dir`: a VSIX for `t` at `out`. */
export async function vscePackage(repo: string, dir: string, t: TargetInfo, out: string): Promise<void> {
  const vsce = path.join(repo, 'node_modules', '@vscode', 'vsce', 'vsce');
  try {
    await run(
      process.execPath,
      [vsce, 'package', '--target', t.target, '--out', out, '--no-yarn',
        // The extension's page in VS Code is for teachers (media/details.md); the repository's
        // README has the developers' part too.
        '--readme-path', 'media/details.md',
        // README links are relative; vsce wants a base for them. Not a real address: the VSIX is
        // installed from a file, and the README shows in VS Code from inside it.
        '--baseContentUrl', 'https://example.invalid/course-illustrator', '--baseImagesUrl', 'https://example.invalid/course-illustrator'],
      { cwd: dir, maxBuffer: 16 << 20 },
    );
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`vsce package for ${t.target} failed:\n${e.stderr || e.stdout || e.message}`, { cause: err });
  }
}

/** The extension's own files as vsce would pack them from the repository (no node_modules, no dist). */
export async function appFiles(repo: string): Promise<string[]> {
  const vsce = path.join(repo, 'node_modules', '@vscode', 'vsce', 'vsce');
  const { stdout } = await run(process.execPath, [vsce, 'ls', '--no-dependencies'], { cwd: repo, maxBuffer: 16 << 20 });
  return stdout
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('node_modules/') && !l.startsWith('dist/'));
}
