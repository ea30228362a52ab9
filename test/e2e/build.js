// Bundles the in-host test suite (test/extension/host) for the extension host:
// out/test/host/index.js (the extensionTestsPath) and one bundle per *.test.ts.
// `vscode` comes from the extension host, mocha from node_modules.
const esbuild = require('esbuild');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
const src = path.join(root, 'test', 'extension', 'host');
const out = path.join(root, 'out', 'test', 'host');

async function main() {
  fs.rmSync(out, { recursive: true, force: true });
  const tests = fs.readdirSync(src).filter((f) => f.endsWith('.test.ts'));
  await esbuild.build({
    entryPoints: [path.join(src, 'index.ts'), ...tests.map((t) => path.join(src, t))],
    outdir: out,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'inline',
    external: ['vscode', 'mocha', 'onnxruntime-node', 'sharp'],
    logLevel: 'warning',
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
