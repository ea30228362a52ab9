import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ClipTokenizer } from '../../../src/engine/tokenizer/clipTokenizer';
import { buildPromptChunks } from '../../../src/engine/prompt/promptChunks';

const FIXTURE = path.join(__dirname, '..', '..', 'fixtures', 'clip-tokenizer');
const BOS = 49406;
const EOS = 49407;

const words = (word: string, n: number) => Array.from({ length: n }, () => word).join(' ');

describe('buildPromptChunks (A1111 75-token windows)', () => {
  let tok: ClipTokenizer;
  let cat: number;
  let dog: number;
  let comma: number;
  before(async () => {
    tok = await ClipTokenizer.fromFolder(FIXTURE);
    cat = tok.tokenId('cat</w>') as number;
    dog = tok.tokenId('dog</w>') as number;
    comma = tok.tokenId(',</w>') as number;
  });

  it('gives exactly the diffusers ids for a short plain prompt, with weights 1', () => {
    const text = 'a photo of an astronaut riding a horse on mars';
    for (const weighting of [true, false]) {
      const { chunks, tokenCount } = buildPromptChunks(tok, text, { weighting });
      assert.strictEqual(chunks.length, 1);
      assert.deepStrictEqual(chunks[0].ids, tok.pipelineIds(text));
      assert.deepStrictEqual(chunks[0].weights, new Array(77).fill(1));
      assert.strictEqual(tokenCount, 10);
    }
  });

  it('turns an empty prompt into one window: bos, eos, padding', () => {
    const { chunks, tokenCount } = buildPromptChunks(tok, '', { weighting: true });
    assert.strictEqual(chunks.length, 1);
    assert.deepStrictEqual(chunks[0].ids, [BOS, ...new Array(76).fill(EOS)]);
    assert.strictEqual(tokenCount, 0);
  });

  it('puts emphasis weights on the tokens and 1.0 on bos/eos/padding', () => {
    const { chunks } = buildPromptChunks(tok, 'a (red:1.5) [cat]', { weighting: true });
    const { ids, weights } = chunks[0];
    assert.deepStrictEqual(ids.slice(0, 5), [BOS, tok.tokenId('a</w>'), tok.tokenId('red</w>'), cat, EOS]);
    assert.deepStrictEqual(weights.slice(0, 5), [1, 1, 1.5, 1 / 1.1, 1]);
    assert.ok(weights.slice(5).every((w) => w === 1));
  });

  it('reads brackets literally when weighting is off', () => {
    const { chunks } = buildPromptChunks(tok, '(red:1.5)', { weighting: false });
    assert.deepStrictEqual(chunks[0].ids, tok.pipelineIds('(red:1.5)'));
    assert.ok(chunks[0].weights.every((w) => w === 1));
  });

  it('fills one window with exactly 75 tokens and opens a second at 76', () => {
    const full = buildPromptChunks(tok, words('cat', 75), { weighting: true });
    assert.strictEqual(full.chunks.length, 1);
    assert.deepStrictEqual(full.chunks[0].ids, [BOS, ...new Array(75).fill(cat), EOS]);
    assert.deepStrictEqual(full.chunks[0].ids, tok.pipelineIds(words('cat', 75)));

    const over = buildPromptChunks(tok, words('cat', 76), { weighting: true });
    assert.strictEqual(over.chunks.length, 2);
    assert.strictEqual(over.tokenCount, 76);
    assert.deepStrictEqual(over.chunks[1].ids.slice(0, 3), [BOS, cat, EOS]);
    assert.ok(over.chunks.every((c) => c.ids.length === 77 && c.weights.length === 77));
  });

  it('splits long prompts into windows even with weighting off (nothing is cut)', () => {
    const { chunks, tokenCount } = buildPromptChunks(tok, words('cat', 200), { weighting: false });
    assert.strictEqual(chunks.length, 3);
    assert.strictEqual(tokenCount, 200);
    const body = chunks.flatMap((c) => c.ids.slice(1).filter((id) => id === cat));
    assert.strictEqual(body.length, 200);
  });

  it('moves the words after a comma within the last 20 tokens to the next window', () => {
    // 70 cats, a comma at token 71, then 10 dogs: the window would end after 4 dogs.
    const { chunks, tokenCount } = buildPromptChunks(tok, `${words('cat', 70)}, ${words('dog', 10)}`, { weighting: true });
    assert.strictEqual(chunks.length, 2);
    assert.deepStrictEqual(chunks[0].ids, [BOS, ...new Array(70).fill(cat), comma, EOS, EOS, EOS, EOS, EOS]);
    assert.deepStrictEqual(chunks[1].ids.slice(0, 12), [BOS, ...new Array(10).fill(dog), EOS]);
    assert.strictEqual(tokenCount, 81);
  });

  it('does not backtrack to a comma more than 20 tokens back', () => {
    const { chunks } = buildPromptChunks(tok, `${words('cat', 50)}, ${words('dog', 40)}`, { weighting: true });
    assert.strictEqual(chunks.length, 2);
    assert.deepStrictEqual(chunks[0].ids.slice(50, 77), [cat, comma, ...new Array(24).fill(dog), EOS]);
    assert.deepStrictEqual(chunks[1].ids.slice(0, 18), [BOS, ...new Array(16).fill(dog), EOS]);
  });

  it('starts a new window at BREAK (weighting on) and reads it as a word otherwise', () => {
    const on = buildPromptChunks(tok, 'a cat BREAK a dog', { weighting: true });
    assert.strictEqual(on.chunks.length, 2);
    assert.deepStrictEqual(on.chunks[0].ids.slice(0, 4), [BOS, tok.tokenId('a</w>'), cat, EOS]);
    assert.deepStrictEqual(on.chunks[1].ids.slice(0, 4), [BOS, tok.tokenId('a</w>'), dog, EOS]);
    assert.strictEqual(on.tokenCount, 4);

    const off = buildPromptChunks(tok, 'a cat BREAK a dog', { weighting: false });
    assert.strictEqual(off.chunks.length, 1);
    assert.ok(off.chunks[0].ids.includes(tok.tokenId('break</w>') as number));
  });

  it('keeps A1111 edge cases of BREAK: leading gives an empty window, trailing adds none', () => {
    assert.strictEqual(buildPromptChunks(tok, 'BREAK cat', { weighting: true }).chunks.length, 2);
    assert.deepStrictEqual(buildPromptChunks(tok, 'BREAK cat', { weighting: true }).chunks[0].ids, [BOS, ...new Array(76).fill(EOS)]);
    assert.strictEqual(buildPromptChunks(tok, 'cat BREAK', { weighting: true }).chunks.length, 1);
  });

  it('pads with the pad id after eos when pad differs from eos (SD 2 layout, as diffusers)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chunks-sd2-'));
    try {
      for (const f of ['vocab.json', 'merges.txt']) fs.copyFileSync(path.join(FIXTURE, f), path.join(dir, f));
      fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ pad_token: '!' }));
      const sd2 = await ClipTokenizer.fromFolder(dir);
      const { chunks } = buildPromptChunks(sd2, 'a cat', { weighting: true });
      assert.deepStrictEqual(chunks[0].ids, sd2.pipelineIds('a cat'));
      assert.deepStrictEqual(chunks[0].ids.slice(0, 5), [BOS, sd2.tokenId('a</w>'), cat, EOS, 0]);
      assert.ok(chunks[0].ids.slice(4).every((id) => id === 0));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
