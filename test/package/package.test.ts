// `npm run package -- --target ...` builds VSIXs for other platforms from this machine: each one
// is opened and every native file must be its target's (by folder, file format and CPU). Builds
// linux-x64, win32-x64 and darwin-arm64 (ELF, PE and Mach-O: about a minute on 2 cores with npm's
// cache warm); PACKAGE_TEST_TARGETS=all builds every target onnxruntime-node ships (five, about
// 2 minutes), or a comma-separated list. Needs the npm registry (or npm's cache), as `npm ci` does.

import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PackageResult, buildableTargets, packageTargets } from '../../scripts/package';
import { checkVsix } from '../../scripts/packaging/checkVsix';
import { Target, nativeHeader, targetInfo } from '../../scripts/packaging/targets';
import { ZipFile } from '../../scripts/packaging/zip';

const MB = 1e6;

describe('packaging: a VSIX for each platform from one machine', function () {
  this.timeout(15 * 60_000);
  let out: string;
  let result: PackageResult;
  let targets: Target[];

  before(async function () {
    out = await fs.mkdtemp(path.join(os.tmpdir(), 'ci-vsix-'));
    const wanted = process.env.PACKAGE_TEST_TARGETS;
    targets = wanted === 'all' ? (await buildableTargets()).ok : wanted ? wanted.split(',').map((t) => targetInfo(t.trim()).target) : ['linux-x64', 'win32-x64', 'darwin-arm64'];
    const lines: string[] = [];
    result = await packageTargets({ targets, outDir: out, log: (l) => lines.push(l) });
    for (const p of result.packaged) console.log(`      ${p.target}: ${(p.bytes / MB).toFixed(1)} MB (${(p.unpackedBytes / MB).toFixed(0)} MB unpacked), ${p.entries} entries, ${p.seconds.toFixed(0)} s`);
    console.log(`      ${targets.length} targets in ${result.seconds.toFixed(0)} s`);
  });
  after(async () => {
    await fs.rm(out, { recursive: true, force: true });
  });

  it('writes one VSIX per target, each passing its own check', async () => {
    assert.deepEqual(result.packaged.map((p) => p.target), targets);
    for (const p of result.packaged) {
      const again = await checkVsix(p.file, targetInfo(p.target));
      assert.deepEqual(again.problems, [], p.target);
      assert.equal(path.basename(p.file), `course-illustrator-${p.target}-0.1.0.vsix`);
    }
  });

  it('ships only the target\'s native files: onnxruntime and sharp, in its format and for its CPU', () => {
    for (const p of result.packaged) {
      const t = targetInfo(p.target);
      const names = p.natives.map((n) => n.name);
      assert.ok(names.includes(`extension/node_modules/onnxruntime-node/bin/napi-v6/${t.os}/${t.cpu}/onnxruntime_binding.node`), `${p.target}: ${names.join(', ')}`);
      assert.ok(names.some((n) => n.startsWith(`extension/node_modules/@img/sharp-${t.os}-${t.cpu}/`) && n.endsWith('.node')), `${p.target}: no sharp addon`);
      for (const n of p.natives) {
        assert.equal(n.format, t.format, n.name);
        assert.deepEqual(n.cpus, [t.cpu], n.name);
        assert.ok(!/\/(win32|darwin|linux)\/(x64|arm64)\//.test(n.name) || n.name.includes(`/${t.os}/${t.cpu}/`), n.name);
      }
      // Sizes: the bundles and one platform's runtime; all platforms' onnxruntime would be ~300 MB.
      assert.ok(p.bytes > 10 * MB && p.bytes < 60 * MB, `${p.target}: ${(p.bytes / MB).toFixed(1)} MB`);
      if (t.os === 'darwin') assert.ok(!names.some((n) => /libonnxruntime\.\d+\.\d+\.\d+\.dylib$/.test(n)), 'the duplicate versioned dylib shipped');
    }
  });

  it('holds the extension\'s entry, the engine and webview bundles, the icon and the manifest\'s target', async () => {
    for (const p of result.packaged) {
      const zip = new ZipFile(await fs.readFile(p.file));
      for (const f of ['extension/dist/extension.js', 'extension/dist/engine.js', 'extension/dist/webview/panel.js', 'extension/dist/webview/gallery.js', 'extension/media/icon.png', 'extension/package.json',
        // The Chinese interface: the contributions' and the messages' translations.
        'extension/package.nls.json', 'extension/package.nls.zh-cn.json', 'extension/l10n/bundle.l10n.json', 'extension/l10n/bundle.l10n.zh-cn.json']) {
        assert.ok(zip.find(f), `${p.target}: ${f} missing`);
      }
      const pkg = JSON.parse(zip.read(zip.find('extension/package.json') ?? zip.entries[0]).toString('utf8')) as { icon: string; categories: string[] };
      assert.equal(pkg.icon, 'media/icon.png');
      assert.ok(pkg.categories.includes('Education'));
      const icon = zip.read(zip.find('extension/media/icon.png') ?? zip.entries[0]);
      assert.equal(icon.readUInt32BE(16), 128); // PNG IHDR width
      assert.equal(icon.readUInt32BE(20), 128);
      assert.ok(!zip.entries.some((e) => /^extension\/(src|test)\//.test(e.name) || e.name.endsWith('.map')), `${p.target}: sources shipped`);
      // The details page VS Code shows is the teachers' one, without the developers' part.
      const readme = zip.read(zip.find('extension/readme.md') ?? zip.entries[0]).toString('utf8');
      assert.match(readme, /Pictures for your lessons, made on your own computer/, `${p.target}: the details page is not media/details.md`);
      assert.doesNotMatch(readme, /npm (test|ci|run)/, `${p.target}: developer commands on the details page`);
    }
  });

  it('the checker refuses another platform\'s VSIX', async function () {
    const win = result.packaged.find((p) => p.target.startsWith('win32'));
    if (!win) return this.skip();
    const r = await checkVsix(win.file, targetInfo('linux-x64'));
    assert.ok(r.problems.some((x) => /onnxruntime\.dll: a pe binary, linux-x64 needs elf/.test(x)), r.problems.join('\n'));
    assert.ok(r.problems.some((x) => /outside linux-x64's folders/.test(x)));
    assert.ok(r.problems.some((x) => /TargetPlatform="linux-x64"/.test(x)));
  });

  it('this machine\'s VSIX runs: its sharp and onnxruntime load from the unpacked extension', async function () {
    const host = result.packaged.find((p) => p.target === `${process.platform}-${process.arch}`);
    if (!host) return this.skip();
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ci-vsix-unpacked-'));
    try {
      const zip = new ZipFile(await fs.readFile(host.file));
      for (const e of zip.entries) {
        if (e.name.endsWith('/')) continue;
        const to = path.join(dir, ...e.name.split('/'));
        await fs.mkdir(path.dirname(to), { recursive: true });
        await fs.writeFile(to, zip.read(e));
      }
      const ext = path.join(dir, 'extension');
      const probe =
        `const sharp = require(${JSON.stringify(path.join(ext, 'node_modules', 'sharp'))});` +
        `const ort = require(${JSON.stringify(path.join(ext, 'node_modules', 'onnxruntime-node'))});` +
        `sharp({ create: { width: 2, height: 2, channels: 3, background: '#fff' } }).png().toBuffer()` +
        `.then((b) => console.log(JSON.stringify({ png: b.length, backends: ort.listSupportedBackends().map((x) => x.name) })));`;
      const got = JSON.parse(execFileSync(process.execPath, ['-e', probe], { encoding: 'utf8' })) as { png: number; backends: string[] };
      assert.ok(got.png > 0);
      assert.ok(got.backends.includes('cpu'), got.backends.join(','));
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('packaging: native headers', () => {
  it('reads the format and CPU of PE, Mach-O and ELF headers', () => {
    const pe = Buffer.alloc(128);
    pe.write('MZ', 0, 'latin1');
    pe.writeUInt32LE(64, 0x3c);
    pe.writeUInt32LE(0x00004550, 64);
    pe.writeUInt16LE(0xaa64, 68);
    assert.deepEqual(nativeHeader(pe), { format: 'pe', cpus: ['arm64'] });
    pe.writeUInt16LE(0x8664, 68);
    assert.deepEqual(nativeHeader(pe), { format: 'pe', cpus: ['x64'] });
    const macho = Buffer.alloc(32);
    macho.writeUInt32LE(0xfeedfacf, 0);
    macho.writeInt32LE(0x0100000c, 4);
    assert.deepEqual(nativeHeader(macho), { format: 'macho', cpus: ['arm64'] });
    const elf = Buffer.alloc(64);
    elf.writeUInt32BE(0x7f454c46, 0);
    elf[4] = 2;
    elf[5] = 1;
    elf.writeUInt16LE(62, 18);
    assert.deepEqual(nativeHeader(elf), { format: 'elf', cpus: ['x64'] });
    assert.equal(nativeHeader(Buffer.from('{"not": "native"}')), undefined);
  });
});
