// `npm run package [-- --target <target> | --all] [--out DIR] [--keep-staging]`
//
// Platform-specific VSIXs, all of them from this one machine: the bundles are built once, then for
// each target a staging folder gets the extension's files and `npm ci --os --cpu` of the
// lockfile's production dependencies (that platform's sharp binaries from the npm registry, and
// onnxruntime-node cut down to that platform's folder), and vsce packs it with --target. Each
// VSIX is opened and checked (scripts/packaging/checkVsix.ts) before it counts. Without
// arguments: this machine's platform, as before. Nothing is fetched from outside the npm registry.

import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { VsixReport, checkVsix } from './packaging/checkVsix';
import { writeIcon } from './packaging/icon';
import { appFiles, copyFiles, installFor, ortFolders, pruneNatives, vscePackage } from './packaging/stage';
import { TARGETS, Target, TargetInfo, hostTarget, targetInfo } from './packaging/targets';

const run = promisify(execFile);
const REPO = path.resolve(__dirname, '..');

export interface PackageOptions {
  targets: Target[];
  /** Where the VSIXs go (default: the repository root). */
  outDir?: string;
  keepStaging?: boolean;
  log?: (line: string) => void;
}

export interface Packaged extends VsixReport {
  seconds: number;
}

export interface PackageResult {
  packaged: Packaged[];
  /** Targets --all left out, with why. */
  skipped: { target: Target; reason: string }[];
  seconds: number;
}

/** Targets whose onnxruntime-node binaries the installed package ships (the lockfile's version). */
export async function buildableTargets(): Promise<{ ok: Target[]; skipped: { target: Target; reason: string }[] }> {
  const folders = await ortFolders(path.join(REPO, 'node_modules'));
  const ok: Target[] = [];
  const skipped: { target: Target; reason: string }[] = [];
  for (const t of TARGETS) {
    const i = targetInfo(t);
    if (folders.some((f) => f.os === i.os && f.cpu === i.cpu)) ok.push(t);
    else skipped.push({ target: t, reason: `onnxruntime-node ships no ${i.os}/${i.cpu} binaries (it has ${folders.map((f) => `${f.os}-${f.cpu}`).join(', ')})` });
  }
  return { ok, skipped };
}

export async function packageTargets(o: PackageOptions): Promise<PackageResult> {
  const t0 = Date.now();
  const log = o.log ?? ((l: string) => console.log(l));
  const outDir = path.resolve(o.outDir ?? REPO);
  const version = (JSON.parse(await fs.readFile(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
  // A target onnxruntime-node has no binaries for fails now, not after a build and an install.
  const { skipped } = await buildableTargets();
  for (const s of skipped) if (o.targets.includes(s.target)) throw new Error(`Cannot package ${s.target}: ${s.reason}. Build the other targets, or pin an onnxruntime-node version that has them.`);
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'course-illustrator-package-'));
  try {
    // The bundles are the same for every platform: built once, into the staging area (the
    // repository's dist/ stays as it is, with its source maps).
    log('Building the bundles (production)...');
    const build = path.join(tmp, 'build');
    await run(process.execPath, [path.join(REPO, 'esbuild.js'), '--production', '--out-root', build], { cwd: REPO });
    const distFiles = (await fs.readdir(path.join(build, 'dist'), { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => path.relative(build, path.join(e.parentPath, e.name)));
    // The repository's README is the developers' front door; the VSIX's page is media/details.md
    // (stage.ts vscePackage), and a VSIX may not hold README.md beside readme.md.
    const files = (await appFiles(REPO)).filter((f) => f !== 'README.md');
    await fs.mkdir(outDir, { recursive: true });
    const packaged: Packaged[] = [];
    for (const target of o.targets) {
      const t1 = Date.now();
      const info: TargetInfo = targetInfo(target);
      const dir = path.join(tmp, target);
      log(`${target}: staging`);
      await copyFiles(REPO, dir, [...files, 'package-lock.json', '.npmrc', '.vscodeignore']);
      await copyFiles(build, dir, distFiles);
      await writeIcon(path.join(REPO, 'media', 'icon.svg'), path.join(dir, 'media', 'icon.png'));
      log(`${target}: npm ci --os=${info.os} --cpu=${info.cpu}`);
      await installFor(dir, info);
      await pruneNatives(path.join(dir, 'node_modules'), info);
      const out = path.join(outDir, `course-illustrator-${target}-${version}.vsix`);
      log(`${target}: vsce package --target ${target}`);
      await vscePackage(REPO, dir, info, out);
      const report = await checkVsix(out, info);
      if (report.problems.length) {
        await fs.rm(out, { force: true });
        throw new Error(`${path.basename(out)} failed its check, so it was deleted:\n  ${report.problems.join('\n  ')}`);
      }
      const seconds = (Date.now() - t1) / 1000;
      packaged.push({ ...report, seconds });
      log(`${target}: ${path.relative(process.cwd(), out) || out}, ${(report.bytes / 1e6).toFixed(1)} MB, ${report.natives.length} native files, all ${info.format} ${info.cpu} (${seconds.toFixed(0)} s)`);
      if (!o.keepStaging) await fs.rm(dir, { recursive: true, force: true });
    }
    return { packaged, skipped: [], seconds: (Date.now() - t0) / 1000 };
  } finally {
    if (!o.keepStaging) await fs.rm(tmp, { recursive: true, force: true });
    else log(`Staging kept in ${tmp}`);
  }
}

const USAGE = `usage: npm run package [-- --target <target> | --all] [--out DIR] [--keep-staging]
  targets: ${TARGETS.join(', ')} (default: this machine's)`;

async function main(argv: string[]): Promise<void> {
  let targets: Target[] | undefined;
  let all = false;
  let outDir: string | undefined;
  let keepStaging = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--all') all = true;
    else if (a === '--target' || a === '--out') {
      const v = argv[++i];
      if (!v) throw new Error(`${a} needs a value.\n${USAGE}`);
      if (a === '--out') outDir = v;
      else targets = [...(targets ?? []), ...v.split(',').map((s) => targetInfo(s.trim()).target)];
    } else if (a === '--keep-staging') keepStaging = true;
    else if (a === '--help' || a === '-h') return void console.log(USAGE);
    else throw new Error(`Unknown argument "${a}".\n${USAGE}`);
  }
  let skipped: PackageResult['skipped'] = [];
  if (all) {
    const b = await buildableTargets();
    targets = b.ok;
    skipped = b.skipped;
  }
  if (!targets) {
    const host = hostTarget();
    if (!host) throw new Error(`This machine (${process.platform}-${process.arch}) is no VSIX target; name one with --target.\n${USAGE}`);
    targets = [host];
  }
  const r = await packageTargets({ targets, outDir, keepStaging });
  for (const s of skipped) console.log(`${s.target}: skipped: ${s.reason}`);
  console.log(`${r.packaged.length} VSIX${r.packaged.length === 1 ? '' : 's'} in ${r.seconds.toFixed(0)} s`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
