import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { TorchGenerator, randomSeed } from '../../../src/engine/rng/torchGenerator';

interface Draw { n: number; fnv1a: number; sum: number; values?: number[]; head?: number[]; tail?: number[] }
interface GoldenCase { seed: string; draws: Draw[] }

// Made once with PyTorch 1.13 on x86-64 (see "source" inside); the tests never need Python.
const golden: { source: string; cases: GoldenCase[] } = JSON.parse(
  fs.readFileSync(path.join(__dirname, 'torchRandn.golden.json'), 'utf8'),
);

function fnv1a(values: Float32Array): number {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length);
  let h = 0x811c9dc5;
  for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i], 0x01000193) >>> 0;
  return h;
}

function sameFloats(actual: ArrayLike<number>, expected: number[], what: string): void {
  assert.deepStrictEqual(Array.from(actual), expected.map(Math.fround), what);
}

describe('TorchGenerator (torch.randn on the CPU generator)', () => {
  it('reproduces the values PyTorch documents for seed 0', () => {
    const four = new TorchGenerator(0).randn(4);
    assert.deepStrictEqual(Array.from(four, (v) => v.toFixed(4)), ['1.5410', '-0.2934', '-2.1788', '0.5684']);
    const sixteen = new TorchGenerator(0).randn(16);
    assert.deepStrictEqual(Array.from(sixteen.slice(0, 4), (v) => v.toFixed(4)), ['-1.1258', '-1.1524', '-0.2506', '-0.4339']);
  });

  for (const c of golden.cases) {
    const sizes = c.draws.map((d) => d.n).join(', ');
    it(`matches torch bit for bit: seed ${c.seed}, draws of ${sizes}`, () => {
      const seed = BigInt(c.seed);
      const gen = new TorchGenerator(seed <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(seed) : seed);
      c.draws.forEach((d, k) => {
        const out = gen.randn(d.n);
        const what = `seed ${c.seed}, draw #${k} (n=${d.n})`;
        assert.strictEqual(out.length, d.n, what);
        if (d.values) sameFloats(out, d.values, what);
        if (d.head) sameFloats(out.slice(0, d.head.length), d.head, `${what} head`);
        if (d.tail) sameFloats(out.slice(out.length - d.tail.length), d.tail, `${what} tail`);
        assert.strictEqual(fnv1a(out), d.fnv1a, `${what}: some value differs from torch`);
        let sum = 0;
        for (const v of out) sum += v;
        assert.ok(Math.abs(sum - d.sum) < 1e-6 * Math.max(1, d.n), `${what}: sum ${sum} vs ${d.sum}`);
      });
    });
  }

  it('uses only the low 32 bits of the seed, as torch does', () => {
    const a = new TorchGenerator(2 ** 32 + 5).randn(33);
    const b = new TorchGenerator(5n).randn(33);
    assert.deepStrictEqual(a, b);
  });

  it('restarts the stream when re-seeded (and drops the cached normal)', () => {
    const gen = new TorchGenerator(3);
    const first = gen.randn(3); // leaves a cached second Box-Muller value
    gen.seed(3);
    assert.deepStrictEqual(gen.randn(3), first);
  });

  it('rejects seeds and sizes it cannot honour, naming the argument', () => {
    assert.throws(() => new TorchGenerator(1.5), /seed/);
    assert.throws(() => new TorchGenerator(2 ** 60), /seed/);
    assert.throws(() => new TorchGenerator(0).randn(-1), /randn: n/);
    assert.strictEqual(new TorchGenerator(0).randn(0).length, 0);
  });

  it('draws the noise of a 768x768 euler-a step quickly', () => {
    const gen = new TorchGenerator(1);
    const started = Date.now();
    for (let i = 0; i < 10; i++) gen.randn(4 * 96 * 96);
    const perDraw = (Date.now() - started) / 10;
    assert.ok(perDraw < 100, `one 4x96x96 draw took ${perDraw} ms`);
  });
});

describe('randomSeed', () => {
  it('gives integers in [0, 2**32)', () => {
    for (let i = 0; i < 200; i++) {
      const s = randomSeed();
      assert.ok(Number.isInteger(s) && s >= 0 && s < 2 ** 32, String(s));
    }
  });
});
