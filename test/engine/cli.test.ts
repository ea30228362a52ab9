// The `course-illustrator` CLI end to end: real child process, real onnxruntime-node, the
// project's tiny ONNX pipelines. Assertions are on what a user sees: files, pixels, metadata,
// exit codes and messages.

import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { ensureFixture } from '../fixtures/tinyPipeline';
import { runCli } from '../support/engineProcess';
import { readPngInfo } from '../../src/engine/image/readImageInfo';

async function pixels(file: string): Promise<Buffer> {
  return sharp(file).removeAlpha().raw().toBuffer();
}

describe('CLI generate (tiny pipelines, real onnxruntime)', function () {
  this.timeout(120000);
  let modelA: string;
  let modelB: string;
  let dir: string;

  before(async () => {
    modelA = await ensureFixture('tiny-a');
    modelB = await ensureFixture('tiny-b');
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-cli-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes exactly --out FILE.png with A1111 parameters and the AI label, and prints a JSON summary', async () => {
    const out = path.join(dir, 'cell.png');
    const r = await runCli(['generate', '--model', modelA, '--prompt', 'labelled diagram of a plant cell',
      '--negative-prompt', 'blurry', '--seed', '42', '--steps', '4', '--width', '64', '--height', '48', '--out', out]);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.deepStrictEqual(fs.readdirSync(dir), ['cell.png']);
    const summary = JSON.parse(r.stdout);
    assert.deepStrictEqual(summary.paths, [out]);
    assert.deepStrictEqual(summary.seeds, [42]);
    for (const k of ['textEncoder', 'unet', 'vaeDecode', 'total']) assert.strictEqual(typeof summary.seconds[k], 'number', k);
    assert.ok(!('vaeEncode' in summary.seconds), 'text to image runs no encoder');
    // PNDM runs steps + 1 UNet calls (its PLMS warm-up); progress counts the 4 steps asked for.
    assert.match(r.stderr, /step 4\/4/);
    assert.doesNotMatch(r.stderr, /\/5\b/);
    const meta = await sharp(out).metadata();
    assert.strictEqual(meta.width, 64);
    assert.strictEqual(meta.height, 48);
    const info = await readPngInfo(out);
    assert.strictEqual(info.prompt, 'labelled diagram of a plant cell');
    assert.strictEqual(info.negativePrompt, 'blurry');
    assert.strictEqual(info.fields?.Seed, '42');
    assert.strictEqual(info.fields?.Steps, '4');
    assert.strictEqual(info.fields?.Sampler, 'PLMS');
    assert.strictEqual(info.fields?.Size, '64x48');
    assert.strictEqual(info.fields?.['CFG scale'], '7.5');
    assert.ok(info.aiGenerated, 'XMP digital source type');
    assert.ok(info.madeByCourseIllustrator);
  });

  it('is reproducible: same seed same pixels, another seed other pixels', async () => {
    const gen = async (seed: number, name: string) => {
      const out = path.join(dir, name);
      const r = await runCli(['generate', '--model', modelA, '--prompt', 'a heart', '--seed', String(seed), '--steps', '3',
        '--scheduler', 'euler-a', '--out', out]);
      assert.strictEqual(r.code, 0, r.stderr);
      return pixels(out);
    };
    const a = await gen(7, 'a.png');
    const b = await gen(7, 'b.png');
    const c = await gen(8, 'c.png');
    assert.ok(a.equals(b));
    assert.ok(!a.equals(c));
  });

  it('--batch N uses seed + i, and each image can be regenerated alone', async () => {
    const r = await runCli(['generate', '--model', modelA, '--prompt', 'mitochondria', '--seed', '100', '--batch', '2',
      '--steps', '3', '--scheduler', 'Euler a', '--out-dir', dir]);
    assert.strictEqual(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.deepStrictEqual(summary.seeds, [100, 101]);
    const alone = path.join(dir, 'alone.png');
    const r2 = await runCli(['generate', '--model', modelA, '--prompt', 'mitochondria', '--seed', '101',
      '--steps', '3', '--scheduler', 'euler-a', '--out', alone]);
    assert.strictEqual(r2.code, 0, r2.stderr);
    assert.ok((await pixels(summary.paths[1])).equals(await pixels(alone)));
    assert.ok(!(await pixels(summary.paths[0])).equals(await pixels(alone)));
  });

  it('picks and reports a random seed when none is given', async () => {
    const r = await runCli(['generate', '--model', modelA, '--prompt', 'a lung', '--steps', '2', '--out-dir', dir]);
    assert.strictEqual(r.code, 0, r.stderr);
    const { seeds, paths } = JSON.parse(r.stdout);
    assert.strictEqual(typeof seeds[0], 'number');
    assert.strictEqual((await readPngInfo(paths[0])).fields?.Seed, String(seeds[0]));
  });

  for (const scheduler of ['pndm', 'ddim', 'euler', 'euler-a', 'lms', 'dpmpp-2m', 'dpmpp-2m-karras', 'lcm']) {
    it(`runs scheduler ${scheduler} on both fixture kinds (int32/float timestep, int64/int64, VAE x4 and x8)`, async () => {
      for (const [model, factor] of [[modelA, 4], [modelB, 8]] as const) {
        const out = path.join(dir, `${scheduler}-${factor}.png`);
        const r = await runCli(['generate', '--model', model, '--prompt', 'a neuron', '--seed', '1', '--steps', '3',
          '--scheduler', scheduler, '--width', String(8 * factor), '--height', String(8 * factor), '--out', out]);
        assert.strictEqual(r.code, 0, r.stderr);
        const px = await pixels(out);
        assert.strictEqual(px.length, 8 * factor * 8 * factor * 3);
        const distinct = new Set(px).size;
        assert.ok(distinct > 8, `image of ${scheduler} is nearly flat (${distinct} levels)`);
      }
    });
  }

  it('never overwrites an existing file unless --overwrite', async () => {
    const out = path.join(dir, 'keep.png');
    fs.writeFileSync(out, 'user data');
    const r = await runCli(['generate', '--model', modelA, '--prompt', 'x', '--steps', '1', '--out', out]);
    assert.notStrictEqual(r.code, 0);
    assert.match(r.stderr, /already exists.*--overwrite/);
    assert.strictEqual(fs.readFileSync(out, 'utf8'), 'user data');
    const r2 = await runCli(['generate', '--model', modelA, '--prompt', 'x', '--steps', '1', '--out', out, '--overwrite']);
    assert.strictEqual(r2.code, 0, r2.stderr);
    assert.notStrictEqual(fs.readFileSync(out, 'utf8'), 'user data');
  });

  it('--out-dir never overwrites: names increment', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await runCli(['generate', '--model', modelA, '--prompt', 'plant cell', '--seed', '5', '--steps', '1', '--out-dir', dir]);
      assert.strictEqual(r.code, 0, r.stderr);
    }
    assert.deepStrictEqual(fs.readdirSync(dir).sort(), ['plant-cell-5-2.png', 'plant-cell-5.png']);
  });

  it('emphasis changes the image; --prompt-weighting off takes brackets literally', async () => {
    const run = async (prompt: string, extra: string[], name: string) => {
      const out = path.join(dir, name);
      const r = await runCli(['generate', '--model', modelA, '--prompt', prompt, '--seed', '3', '--steps', '2', '--out', out, ...extra]);
      assert.strictEqual(r.code, 0, r.stderr);
      return pixels(out);
    };
    const plain = await run('a red cell', [], 'plain.png');
    const weighted = await run('a (red:1.5) cell', [], 'weighted.png');
    const literal = await run('a red cell', ['--prompt-weighting', 'off'], 'literal.png');
    assert.ok(!plain.equals(weighted));
    assert.ok(plain.equals(literal), 'no emphasis syntax: weighting on and off agree');
  });

  it('long prompts are encoded in 75-token windows, not cut', async () => {
    const long = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
    const r = await runCli(['tokenize', '--model', modelA, long]);
    assert.strictEqual(r.code, 0, r.stderr);
    const t = JSON.parse(r.stdout);
    assert.ok(t.count > 75, `count ${t.count}`);
    assert.ok(t.windows >= 2);
    const out = path.join(dir, 'long.png');
    const g = await runCli(['generate', '--model', modelA, '--prompt', long, '--steps', '1', '--out', out]);
    assert.strictEqual(g.code, 0, g.stderr);
    assert.ok(JSON.parse(g.stdout).tokenCount > 75);
  });

  it('tokenize prints the 77 ids diffusers feeds', async () => {
    const r = await runCli(['tokenize', '--model', modelA, 'a photo of an astronaut riding a horse on mars']);
    assert.strictEqual(r.code, 0, r.stderr);
    const t = JSON.parse(r.stdout);
    assert.deepStrictEqual(t.input_ids.slice(0, 12), [49406, 320, 1125, 539, 550, 18376, 6765, 320, 4558, 525, 7496, 49407]);
    assert.strictEqual(t.input_ids.length, 77);
    assert.ok(t.input_ids.slice(12).every((id: number) => id === 49407));
    assert.strictEqual(t.count, 10);
    // A LoRA tag is not text the encoder reads: the count is the same with one.
    const tagged = await runCli(['tokenize', '--model', modelA, 'a photo of an astronaut <lora:space-style:0.8> riding a horse on mars']);
    assert.strictEqual(JSON.parse(tagged.stdout).count, 10);
  });

  it('--low-memory gives the same image', async () => {
    const a = path.join(dir, 'a.png');
    const b = path.join(dir, 'b.png');
    for (const [out, extra] of [[a, []], [b, ['--low-memory']]] as const) {
      const r = await runCli(['generate', '--model', modelA, '--prompt', 'bone', '--seed', '9', '--steps', '2', '--out', out, ...extra]);
      assert.strictEqual(r.code, 0, r.stderr);
    }
    assert.ok((await pixels(a)).equals(await pixels(b)));
  });

  it('--save-latents writes the final latents as .npy float32', async () => {
    const npy = path.join(dir, 'lat.npy');
    const r = await runCli(['generate', '--model', modelA, '--prompt', 'x', '--seed', '2', '--steps', '2', '--width', '32', '--height', '32',
      '--out-dir', dir, '--save-latents', npy]);
    assert.strictEqual(r.code, 0, r.stderr);
    const buf = fs.readFileSync(npy);
    assert.strictEqual(buf.subarray(1, 6).toString(), 'NUMPY');
    assert.match(buf.toString('latin1', 10, 128), /'descr': '<f4'.*'shape': \(1, 4, 8, 8\)/);
  });

  it('medical images carry a visible label strip', async () => {
    const a = path.join(dir, 'plain.png');
    const b = path.join(dir, 'med.png');
    for (const [out, extra] of [[a, []], [b, ['--domain', 'medical']]] as const) {
      const r = await runCli(['generate', '--model', modelB, '--prompt', 'anatomy of the knee', '--seed', '4', '--steps', '2',
        '--width', '256', '--height', '256', '--out', out, ...extra]);
      assert.strictEqual(r.code, 0, r.stderr);
    }
    const pa = await pixels(a);
    const pb = await pixels(b);
    const row = 256 * 3;
    assert.ok(pa.subarray(0, row * 128).equals(pb.subarray(0, row * 128)), 'top half unchanged');
    assert.ok(!pa.subarray(row * 240).equals(pb.subarray(row * 240)), 'bottom strip differs');
  });

  it('info describes a model folder and a PNG', async () => {
    const r = await runCli(['info', modelA]);
    assert.strictEqual(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout);
    assert.strictEqual(info.kind, 'model');
    assert.strictEqual(info.vaeScaleFactor, 4);
    const unet = info.components.find((c: { name: string }) => /unet/.test(c.name));
    assert.ok(unet.inputs.some((i: { name: string; type: string }) => i.name === 'timestep' && i.type === 'float32'));
    const out = path.join(dir, 'p.png');
    assert.strictEqual((await runCli(['generate', '--model', modelA, '--prompt', 'p', '--seed', '1', '--steps', '1', '--out', out])).code, 0);
    const p = JSON.parse((await runCli(['info', out])).stdout);
    assert.strictEqual(p.kind, 'png');
    assert.match(p.parameters, /Seed: 1,/);
  });
});

describe('CLI bad input: clear message, non-zero exit, nothing written', function () {
  this.timeout(60000);
  let model: string;
  let dir: string;
  before(async () => {
    model = await ensureFixture('tiny-a');
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-bad-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const cases: [string, (m: string, d: string) => string[], RegExp][] = [
    ['missing model folder', (_m, d) => ['--model', path.join(d, 'nope')], /nope/],
    ['width not a multiple of 8', () => ['--width', '100'], /--width 100.*multiple of 8/],
    ['steps < 1', () => ['--steps', '0'], /--steps.*at least 1/],
    ['unknown scheduler', () => ['--scheduler', 'warp-drive'], /Unknown scheduler "warp-drive".*pndm, ddim, euler, euler-a, lms, dpmpp-2m, dpmpp-2m-karras, lcm/],
    ['negative guidance', () => ['--guidance', '-2'], /--guidance must be 0 or more/],
    ['unwritable output folder', () => ['--out-dir', '/proc/course-illustrator'], /\/proc\/course-illustrator/],
    ['output folder is a file', (_m, d) => ['--out', path.join(d, 'file.txt', 'x.png')], /file\.txt/],
    ['unknown option', () => ['--stepz', '3'], /Unknown option --stepz/],
  ];
  for (const [name, args, message] of cases) {
    it(name, async () => {
      fs.writeFileSync(path.join(dir, 'file.txt'), 'x');
      const argv = ['generate', '--model', model, '--prompt', 'p', '--steps', '1', '--out-dir', dir, ...args(model, dir)];
      // Later options win, so the case's own --out/--out-dir replaces the default.
      const r = await runCli(dedupe(argv));
      assert.notStrictEqual(r.code, 0);
      assert.match(r.stderr, message);
      assert.deepStrictEqual(fs.readdirSync(dir), ['file.txt']);
    });
  }

  it('a corrupt model file is named in the error', async () => {
    const broken = path.join(dir, 'model');
    fs.cpSync(model, broken, { recursive: true });
    fs.writeFileSync(path.join(broken, 'unet', 'model.onnx'), 'not an onnx file');
    const r = await runCli(['generate', '--model', broken, '--prompt', 'p', '--steps', '1', '--out-dir', dir]);
    assert.notStrictEqual(r.code, 0);
    assert.match(r.stderr, /unet[\\/]model\.onnx/);
    assert.ok(!fs.readdirSync(dir).some((f) => f.endsWith('.png')));
  });

  it('a folder in the wrong layout says what is missing', async () => {
    fs.mkdirSync(path.join(dir, 'empty'));
    const r = await runCli(['generate', '--model', path.join(dir, 'empty'), '--prompt', 'p', '--out-dir', dir]);
    assert.notStrictEqual(r.code, 0);
    assert.match(r.stderr, /empty/);
  });

  it('an unavailable provider falls back to the CPU with a warning', async () => {
    const out = path.join(dir, 'x.png');
    const r = await runCli(['generate', '--model', model, '--prompt', 'p', '--steps', '1', '--provider', 'cuda', '--out', out]);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: .*cuda.*CPU/i);
    assert.ok(fs.existsSync(out));
  });
});

describe('CLI img2img and inpainting (--init-image, --strength, --mask)', function () {
  this.timeout(120000);
  let modelA: string;
  let inpaintModel: string;
  let dir: string;
  let init: string;
  let mask: string;
  before(async () => {
    [modelA, inpaintModel] = await Promise.all([ensureFixture('tiny-a'), ensureFixture('tiny-inpaint')]);
  });
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-cli-i2i-'));
    const w = 72;
    const h = 52;
    const px = Buffer.alloc(w * h * 3);
    for (let i = 0; i < w * h; i++) px.set([(i * 3) % 256, (i * 7) % 256, 90], i * 3);
    init = path.join(dir, 'photo.png');
    await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toFile(init);
    mask = path.join(dir, 'mask.png');
    await sharp({ create: { width: w, height: h, channels: 3, background: '#000' } })
      .composite([{ input: { create: { width: 30, height: h, channels: 3, background: '#fff' } }, left: 40, top: 0 }])
      .png().toFile(mask);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('img2img writes a PNG the init image\'s size (rounded down to 8) with "Denoising strength" in its parameters', async () => {
    const out = path.join(dir, 'i2i.png');
    const r = await runCli(['generate', '--model', modelA, '--prompt', 'a leaf cell', '--seed', '5', '--steps', '10', '--scheduler', 'Euler a',
      '--init-image', init, '--strength', '0.6', '--out', out]);
    assert.strictEqual(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.deepStrictEqual(summary.paths, [out]);
    // The encoder's time is reported as its own, not inside the decode's.
    assert.ok(summary.seconds.vaeEncode > 0 && summary.seconds.vaeDecode > 0, JSON.stringify(summary.seconds));
    // int(10 * 0.6) = 6 steps.
    assert.match(r.stderr, /step 6\/6/);
    assert.doesNotMatch(r.stderr, /step 7/);
    const meta = await sharp(out).metadata();
    assert.deepStrictEqual([meta.width, meta.height], [72, 48]);
    const info = await readPngInfo(out);
    assert.match(info.parameters ?? '', /, Model: [^,]+, Denoising strength: 0\.6, RNG: CPU,/);
    assert.strictEqual(info.fields?.Steps, '10');
    assert.strictEqual(info.fields?.Size, '72x48');
    assert.strictEqual(info.fields?.Sampler, 'Euler a');
    assert.ok(!('Mask blur' in (info.fields ?? {})));
  });

  it('inpainting with a 9-channel model and with an ordinary one writes PNGs; the default strength is 1.0', async () => {
    for (const [model, name] of [[inpaintModel, 'nine.png'], [modelA, 'four.png']] as const) {
      const out = path.join(dir, name);
      const r = await runCli(['generate', '--model', model, '--prompt', 'a nucleus', '--seed', '8', '--steps', '4', '--width', '64', '--height', '48',
        '--init-image', init, '--mask', mask, '--out', out]);
      assert.strictEqual(r.code, 0, r.stderr);
      const info = await readPngInfo(out);
      assert.strictEqual(info.fields?.['Denoising strength'], '1.0');
      assert.strictEqual(info.fields?.Size, '64x48');
    }
  });

  it('errors: no vae_encoder, a mask of another size, strength out of range, a mask without an init image', async () => {
    const noEncoder = path.join(dir, 'no-encoder');
    fs.cpSync(modelA, noEncoder, { recursive: true });
    fs.rmSync(path.join(noEncoder, 'vae_encoder'), { recursive: true });
    const small = path.join(dir, 'small.png');
    await sharp({ create: { width: 16, height: 16, channels: 3, background: '#fff' } }).greyscale().png().toFile(small);
    const cases: [string[], number, RegExp][] = [
      [['--model', noEncoder, '--init-image', init], 3, /--init-image needs the model's VAE encoder .*vae_encoder[\\/]model\.onnx is missing.*models pull sd15-onnx/],
      [['--model', modelA, '--init-image', init, '--mask', small], 2, /--mask .*small\.png is 16x16 but --init-image .*photo\.png is 72x52: the mask must be the same size as the image/],
      [['--model', modelA, '--init-image', init, '--strength', '1.2'], 2, /--strength must be a number from 0 to 1/],
      [['--model', modelA, '--init-image', init, '--strength', 'lots'], 2, /--strength must be a number, got "lots"/],
      [['--model', modelA, '--mask', mask], 2, /--mask needs --init-image/],
      [['--model', modelA, '--init-image', path.join(dir, 'missing.png')], 2, /--init-image .*missing\.png does not exist/],
    ];
    for (const [args, code, message] of cases) {
      const r = await runCli(['generate', '--prompt', 'p', '--steps', '2', '--out-dir', dir, ...args]);
      assert.strictEqual(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.ok(!fs.readdirSync(dir).some((f) => f.startsWith('p-')), 'nothing written');
    }
  });
});

/** Keeps the last of repeated --name value pairs. */
function dedupe(argv: string[]): string[] {
  const [cmd, ...rest] = argv;
  const map = new Map<string, string>();
  for (let i = 0; i < rest.length; i += 2) {
    const key = rest[i] === '--out' ? '--out-dir' : rest[i];
    if (rest[i] === '--out' || rest[i] === '--out-dir') map.delete('--out-dir');
    map.set(key, `${rest[i]}\u0000${rest[i + 1]}`);
  }
  return [cmd, ...[...map.values()].flatMap((v) => v.split('\u0000'))];
}
