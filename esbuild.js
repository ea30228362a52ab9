// One script, several bundles: the extension host, the engine (child process + CLI),
// and the webviews. Native modules stay external and ship in node_modules.
const esbuild = require('esbuild');
const fs = require('fs');
const path = require('path');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
// --package: after the build, a VSIX for this machine's platform (see packageVsix below).
const packaging = process.argv.includes('--package');

const common = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
};

const builds = [
  {
    ...common,
    entryPoints: ['src/extension/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
  },
  {
    ...common,
    entryPoints: ['src/engine/main.ts'],
    outfile: 'dist/engine.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['onnxruntime-node', 'sharp'],
    banner: { js: '#!/usr/bin/env node' },
  },
  ...['panel', 'gallery']
    .filter((name) => fs.existsSync(path.join('webview', name, 'main.ts')))
    .map((name) => ({
      ...common,
      entryPoints: [`webview/${name}/main.ts`],
      outfile: `dist/webview/${name}.js`,
      platform: 'browser',
      format: 'iife',
      target: 'es2022',
    })),
].filter((b) => b.entryPoints.every((e) => fs.existsSync(e)));

async function main() {
  if (watch) {
    for (const b of builds) (await esbuild.context(b)).watch();
    return;
  }
  const results = await Promise.all(builds.map((b) => esbuild.build({ ...b, write: false })));
  // Temporary file then rename: a running engine or test never loads a half-written bundle.
  for (const file of results.flatMap((r) => r.outputFiles)) {
    fs.mkdirSync(path.dirname(file.path), { recursive: true });
    const tmp = `${file.path}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, file.contents, { mode: file.path.endsWith(path.join('dist', 'engine.js')) ? 0o755 : 0o644 });
    fs.renameSync(tmp, file.path);
  }
}

/**
 * A platform-specific VSIX (vsce --target): sharp installs its native binaries for this platform
 * only, so a VSIX runs where it was packaged; onnxruntime-node's binaries for the other platforms
 * (about 250 MB) are left out. Build on each platform for its VSIX.
 */
function packageVsix() {
  const { execFileSync } = require('child_process');
  const target = `${process.platform}-${process.arch}`;
  const ortBin = 'node_modules/onnxruntime-node/bin';
  const others = [];
  for (const napi of fs.existsSync(ortBin) ? fs.readdirSync(ortBin) : []) {
    for (const os of fs.readdirSync(path.join(ortBin, napi))) {
      for (const arch of fs.readdirSync(path.join(ortBin, napi, os))) {
        if (os !== process.platform || arch !== process.arch) others.push(`${ortBin}/${napi}/${os}/${arch}/**`);
      }
    }
  }
  const ignoreFile = path.join('.cache', `vscodeignore-${target}`);
  fs.mkdirSync('.cache', { recursive: true });
  fs.writeFileSync(ignoreFile, `${fs.readFileSync('.vscodeignore', 'utf8')}\n# other platforms (esbuild.js --package)\n${others.join('\n')}\n`);
  const version = JSON.parse(fs.readFileSync('package.json', 'utf8')).version;
  const out = `course-illustrator-${target}-${version}.vsix`;
  const vsce = path.join('node_modules', '.bin', process.platform === 'win32' ? 'vsce.cmd' : 'vsce');
  execFileSync(vsce, ['package', '--target', target, '--ignoreFile', ignoreFile, '--out', out,
    '--baseContentUrl', 'https://example.invalid/course-illustrator', '--baseImagesUrl', 'https://example.invalid/course-illustrator'], { stdio: 'inherit' });
  console.log(`${out}: ${(fs.statSync(out).size / 1e6).toFixed(1)} MB, for ${target}`);
}

main().then(() => packaging && packageVsix()).catch((err) => {
  console.error(err);
  process.exit(1);
});
