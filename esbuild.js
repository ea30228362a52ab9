// One script, several bundles: the extension host, the engine (child process + CLI),
// and the webviews. Native modules stay external and ship in node_modules.
const esbuild = require('esbuild');
const fs = require('fs');
const path = require('path');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
// --out-root DIR: write dist/ under DIR instead of here (scripts/package.ts builds into its
// staging folder, so packaging never replaces the bundles a running test or engine uses).
const outRootAt = process.argv.indexOf('--out-root');
const outRoot = outRootAt > 0 ? process.argv[outRootAt + 1] : '.';
if (!outRoot) throw new Error('--out-root needs a folder');

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
    outfile: path.join(outRoot, 'dist/extension.js'),
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
  },
  {
    ...common,
    entryPoints: ['src/engine/main.ts'],
    outfile: path.join(outRoot, 'dist/engine.js'),
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // @huggingface/transformers runs from its own Node build, which finds onnxruntime-node and
    // sharp beside it in node_modules (one copy of each); only the translation model loads it.
    external: ['onnxruntime-node', 'sharp', '@huggingface/transformers'],
    banner: { js: '#!/usr/bin/env node' },
  },
  ...['panel', 'gallery']
    .filter((name) => fs.existsSync(path.join('webview', name, 'main.ts')))
    .map((name) => ({
      ...common,
      entryPoints: [`webview/${name}/main.ts`],
      outfile: path.join(outRoot, `dist/webview/${name}.js`),
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

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
