import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ClipTokenizer, type ClipTokenizerOptions } from '../../../src/engine/tokenizer/clipTokenizer';

// The real SD v1.5 tokenizer files (byte-identical to the hub's tokenizer/ folder).
const FIXTURE = path.join(__dirname, '..', '..', 'fixtures', 'clip-tokenizer');
const vocab: Record<string, number> = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'vocab.json'), 'utf8'));

/**
 * Expected tokens are written as vocabulary entries: GPT-2 byte symbols, "</w>" marking a word's end
 * (e.g. "é" is the two UTF-8 bytes C3 A9, written "Ã©"). The second column was worked out for the
 * 'transformers-v4-slow' flavour from the slow tokenizer's algorithm (BasicTokenizer clean-up, CLIP
 * regex, BPE on merges.txt) and cross-checked against a line-by-line Python transcription of
 * transformers 4's CLIPTokenizer. A third column, where present, is what the default
 * 'transformers-v5' flavour gives instead (the Rust pipeline of transformers 5; the ids of real
 * transformers 5.17.0 are checked in transformersV5.test.ts); without one both flavours agree.
 */
function ids(tokens: string[]): number[] {
  return tokens.map((t) => {
    const id = vocab[t];
    assert.ok(id !== undefined, `test bug: ${JSON.stringify(t)} is not in vocab.json`);
    return id;
  });
}

/** [text, tokens for v4 slow, tokens for v5 where they differ]. */
type Row = [string, string[]] | [string, string[], string[]];

const cases: Record<string, Row[]> = {
  'punctuation and case': [
    ['Hello, World!', ['hello</w>', ',</w>', 'world</w>', '!</w>']],
    ['UPPER lower MiXeD', ['upper</w>', 'lower</w>', 'mixed</w>']],
    // Runs of punctuation stay together: "),", "],", "...", "?!".
    ['(masterpiece:1.2), [blurry], {best quality}', ['(</w>', 'masterpiece</w>', ':</w>', '1</w>', '.</w>', '2</w>', '),</w>', '[</w>', 'blurry</w>', '],</w>', '{</w>', 'best</w>', 'quality</w>', '}</w>']],
    ['well... ok?! #1 @user $5 100%', ['well</w>', '...</w>', 'ok</w>', '?!</w>', '#</w>', '1</w>', '@</w>', 'user</w>', '$</w>', '5</w>', '1</w>', '0</w>', '0</w>', '%</w>']],
    ['snake_case and kebab-case', ['snake</w>', '_</w>', 'case</w>', 'and</w>', 'kebab</w>', '-</w>', 'case</w>']],
    ['"double quotes"', ['"</w>', 'double</w>', 'quotes</w>', '"</w>']],
  ],
  'apostrophes': [
    ["it's they're we've I'm you'll he'd don't", ['it</w>', "'s</w>", 'they</w>', "'re</w>", 'we</w>', "'ve</w>", 'i</w>', "'m</w>", 'you</w>', "'ll</w>", 'he</w>', "'d</w>", 'don</w>', "'t</w>"]],
    ["IT'S", ['it</w>', "'s</w>"]],
    ["'S 'T 'RE", ["'s</w>", "'t</w>", "'re</w>"]],
    // A quote not followed by a contraction is punctuation; "'''" is "'" + "''".
    ["'''quoted'''", ["'", "''</w>", 'quoted</w>', "'", "''</w>"]],
  ],
  'numbers (one digit per token)': [
    ['1234 3.14 2024-01-01', ['1</w>', '2</w>', '3</w>', '4</w>', '3</w>', '.</w>', '1</w>', '4</w>', '2</w>', '0</w>', '2</w>', '4</w>', '-</w>', '0</w>', '1</w>', '-</w>', '0</w>', '1</w>']],
    // Superscripts and fractions are \p{N} too.
    ['e=mc\u00b2', ['e</w>', '=</w>', 'mc</w>', 'Â²</w>']],
    ['x\u00bd \u2154', ['x</w>', 'Â½</w>', 'â', 'ħ', 'Ķ</w>']],
  ],
  'accents (kept, NFC-normalised)': [
    ['caf\u00e9 na\u00efve r\u00e9sum\u00e9', ['cafÃ©</w>', 'na', 'Ã¯', 've</w>', 'rÃ©', 'sum', 'Ã©</w>']],
    // "e" + combining acute becomes "é" before BPE, so it matches the precomposed spelling.
    ['cafe\u0301', ['cafÃ©</w>']],
    ['Cr\u00e8me Br\u00fbl\u00e9e', ['cr', 'Ã¨', 'me</w>', 'br', 'Ã', '»', 'l', 'Ã©e</w>']],
    ['\u00dcn\u00efc\u00f6d\u00e9 \u0391\u03a3', ['Ã¼', 'n', 'Ã¯', 'c', 'Ã¶', 'd', 'Ã©</w>', 'Î', '±', 'Ï', 'Ĥ</w>'], ['Ã¼', 'n', 'Ã¯', 'c', 'Ã¶', 'd', 'Ã©</w>', 'Î', '±', 'Ï', 'ĥ</w>']],
    // Lower-casing (Python's and Rust's alike) turns "İ" into "i" + U+0307; the combining dot is punctuation to the regex.
    ['\u0130stanbul', ['i</w>', 'Ìĩ</w>', 'stanbul</w>']],
    ['\ufb01ne ligature', ['ï', '¬', 'ģ', 'ne</w>', 'lig', 'ature</w>']],
  ],
  'emoji': [
    ['\u{1f600} \u{1f3a8}\u{1f44d}\u{1f3fd}', ['ðŁĺĢ</w>', 'ðŁİ¨', 'ðŁĳįðŁı½</w>']],
    // The zero-width joiners are format characters (Cf): the slow tokenizer deletes them; v5 keeps them.
    ['\u{1f468}\u200d\u{1f469}\u200d\u{1f467}', ['ðŁĳ¨', 'ðŁĳ©', 'ðŁĳ', '§</w>'], ['ðŁĳ¨âĢį', 'ðŁĳ©âĢį', 'ðŁĳ', '§</w>']],
  ],
  // v4 isolates CJK ideographs; v5 keeps each run of letters (ideographs, kana, latin) as one word.
  'CJK (ideographs isolated, kana and hangul not)': [
    ['\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8', ['æĹ¥</w>', 'æľ', '¬</w>', 'èª', 'ŀ</w>', 'ãģ®', 'ãĥ', 'Ĩ', 'ãĤŃ', 'ãĤ¹ãĥ', 'Ī</w>'], ['æĹ¥', 'æľ¬', 'èª', 'ŀ', 'ãģ®', 'ãĥ', 'Ĩ', 'ãĤŃ', 'ãĤ¹ãĥ', 'Ī</w>']],
    ['\u6771\u4eac\u30bf\u30ef\u30fc', ['æĿ', '±</w>', 'äº', '¬</w>', 'ãĤ¿', 'ãĥ', '¯', 'ãĥ¼</w>'], ['æĿ±', 'äº', '¬', 'ãĤ¿', 'ãĥ', '¯', 'ãĥ¼</w>']],
    ['\u6c49\u5b57abc\u5b57', ['æ', '±', 'ī</w>', 'åŃ', 'Ĺ</w>', 'abc</w>', 'åŃ', 'Ĺ</w>'], ['æ', '±', 'ī', 'åŃ', 'Ĺ', 'abc', 'åŃ', 'Ĺ</w>']],
    ['\ud55c\uad6d\uc5b4', ['íķ', 'ľ', 'êµ', 'Ń', 'ìĸ', '´</w>']],
    ['\u1100', ['á', 'Ħ', 'Ģ</w>']],
  ],
  'whitespace and control characters': [
    ['line one\nline two\ttab\r\nend', ['line</w>', 'one</w>', 'line</w>', 'two</w>', 'tab</w>', 'end</w>']],
    ['many     spaces   here', ['many</w>', 'spaces</w>', 'here</w>']],
    ['\u00a0non\u00a0breaking\u3000space', ['non</w>', 'breaking</w>', 'space</w>']],
    // NUL, zero-width space and BOM are deleted by v4, joining the letters around them; v5 keeps
    // each as a punctuation token.
    ['a\u0000b\u200bc\ufeffd', ['ab', 'cd</w>'], ['a</w>', 'Ā</w>', 'b</w>', 'âĢĭ</w>', 'c</w>', 'ï', '»', '¿</w>', 'd</w>']],
    // \v and \f: control characters to v4 (deleted), White_Space to v5.
    ['tab\u000bvertical\u000cform', ['tab', 'ver', 'tical', 'form</w>'], ['tab</w>', 'vertical</w>', 'form</w>']],
    ['\u2028sep', ['sep</w>']],
    // NEL (U+0085): a control character to v4, White_Space to v5.
    ['a\u0085b', ['ab</w>'], ['a</w>', 'b</w>']],
  ],
  'special tokens typed in the text': [
    ['<|endoftext|>', ['<|endoftext|>']],
    ['a<|endoftext|>b', ['a</w>', '<|endoftext|>', 'b</w>']],
    ['hello <|startoftext|> world', ['hello</w>', '<|startoftext|>', 'world</w>']],
    // v4: lower-cased, then the BPE cache; v5: bos is a normalised added token. Same id either way.
    ['<|StartOfText|>x', ['<|startoftext|>', 'x</w>']],
    // v4: lower-cased first, then the CLIP regex and BPE cache map it to the special id. v5 matches
    // eos only in the raw text, so this stays text, cut by ByteLevel's GPT-2 regex into "<|", "endoftext", "|>".
    ['<|ENDOFTEXT|>', ['<|endoftext|>'], ['<', '|</w>', 'endof', 'text</w>', '|', '></w>']],
  ],
  'Greek sigma (v4: Python lower() with final sigma; v5: per-character, always σ)': [
    ['\u039f\u0394\u039f\u03a3', ['Î', '¿', 'Î', '´', 'Î', '¿', 'Ï', 'Ĥ</w>'], ['Î', '¿', 'Î', '´', 'Î', '¿', 'Ï', 'ĥ</w>']],
    ['\u03a3\u0391\u03a3', ['Ï', 'ĥ', 'Î', '±', 'Ï', 'Ĥ</w>'], ['Ï', 'ĥ', 'Î', '±', 'Ï', 'ĥ</w>']],
  ],
  'empty input': [
    ['', []],
    ['   ', []],
  ],
};

describe('ClipTokenizer (transformers v4 slow CLIPTokenizer, no ftfy)', () => {
  let tok: ClipTokenizer;
  before(async () => {
    tok = await ClipTokenizer.fromFolder(FIXTURE, { flavour: 'transformers-v4-slow' });
  });

  it('reads the special tokens and length of SD v1.5', () => {
    assert.strictEqual(tok.bosId, 49406);
    assert.strictEqual(tok.eosId, 49407);
    assert.strictEqual(tok.padId, 49407);
    assert.strictEqual(tok.maxLength, 77);
  });

  it('gives the published ids for the diffusers example prompt', () => {
    const expected = [49406, 320, 1125, 539, 550, 18376, 6765, 320, 4558, 525, 7496, 49407];
    const got = tok.pipelineIds('a photo of an astronaut riding a horse on mars');
    assert.strictEqual(got.length, 77);
    assert.deepStrictEqual(got.slice(0, 12), expected);
    assert.deepStrictEqual(got.slice(12), new Array(65).fill(49407));
    assert.deepStrictEqual(tok.encode('a photo of an astronaut riding a horse on mars'), expected.slice(1, -1));
  });

  for (const [group, rows] of Object.entries(cases)) {
    describe(group, () => {
      for (const [text, v4Tokens] of rows) {
        it(`encodes ${JSON.stringify(text)}`, () => {
          assert.deepStrictEqual(tok.encode(text), ids(v4Tokens));
        });
      }
    });
  }

  it('pads an empty prompt to bos, eos, pad... like diffusers', () => {
    const got = tok.pipelineIds('');
    assert.deepStrictEqual(got.slice(0, 2), [49406, 49407]);
    assert.strictEqual(got.length, 77);
    assert.ok(got.slice(2).every((id) => id === 49407));
  });

  it('keeps every token in encode() but truncates to 75 in pipelineIds()', () => {
    const words = Array.from({ length: 100 }, (_, i) => (i % 2 ? 'red' : 'cat')).join(' ');
    const all = tok.encode(words);
    assert.strictEqual(all.length, 100);
    const pipe = tok.pipelineIds(words);
    assert.strictEqual(pipe.length, 77);
    assert.deepStrictEqual(pipe.slice(1, 76), all.slice(0, 75));
    assert.strictEqual(pipe[0], 49406);
    assert.strictEqual(pipe[76], 49407);
  });

  it('handles a very long input consistently (BPE cache)', () => {
    const text = 'a majestic lighthouse on a rocky coast, dramatic sky, oil painting, '.repeat(400);
    const first = tok.encode(text);
    const second = tok.encode(text);
    assert.deepStrictEqual(first, second);
    assert.strictEqual(first.length, 400 * tok.encode('a majestic lighthouse on a rocky coast, dramatic sky, oil painting,').length);
  });
});

describe('ClipTokenizer (default flavour: transformers v5)', () => {
  let tok: ClipTokenizer;
  before(async () => {
    tok = await ClipTokenizer.fromFolder(FIXTURE);
  });

  it('is the transformers-v5 flavour unless told otherwise', () => {
    assert.strictEqual(tok.flavour, 'transformers-v5');
    const files = { vocab, merges: fs.readFileSync(path.join(FIXTURE, 'merges.txt'), 'utf8').trim().split('\n').slice(1) };
    assert.strictEqual(new ClipTokenizer(files).flavour, 'transformers-v5');
    const slow = new ClipTokenizer(files, { flavour: 'transformers-v4-slow' });
    assert.strictEqual(slow.flavour, 'transformers-v4-slow');
    assert.deepStrictEqual(slow.encode('\u6771\u4eac'), ids(['æĿ', '±</w>', 'äº', '¬</w>']));
    assert.deepStrictEqual(new ClipTokenizer(files).encode('\u6771\u4eac'), ids(['æĿ±', 'äº', '¬</w>']));
  });

  for (const [group, rows] of Object.entries(cases)) {
    describe(group, () => {
      for (const [text, v4Tokens, v5Tokens] of rows) {
        it(`encodes ${JSON.stringify(text)}${v5Tokens ? ' (differs from v4)' : ''}`, () => {
          assert.deepStrictEqual(tok.encode(text), ids(v5Tokens ?? v4Tokens));
        });
      }
    });
  }

  it('handles a very long input (BPE cache)', () => {
    const line = 'a majestic lighthouse on a rocky coast, dramatic sky, oil painting, ';
    const all = tok.encode(line.repeat(400));
    assert.strictEqual(all.length, 400 * tok.encode(line).length);
  });
});

describe('ClipTokenizer.fromFolder', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clip-tok-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const copy = (name: string) => fs.copyFileSync(path.join(FIXTURE, name), path.join(dir, name));

  it('uses the pad token from the config (SD 2 pads with "!" = 0), and that token is not split by BPE', async () => {
    copy('vocab.json');
    copy('merges.txt');
    fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ pad_token: '!', model_max_length: 77 }));
    const t = await ClipTokenizer.fromFolder(dir);
    assert.strictEqual(t.padId, 0);
    assert.strictEqual(t.eosId, 49407);
    const ids = t.pipelineIds('hi');
    assert.deepStrictEqual(ids.slice(0, 4), [49406, vocab['hi</w>'], 49407, 0]);
    assert.ok(ids.slice(3).every((id) => id === 0));
    // Like every special token, "!" is matched before BPE: "wow!" is "wow</w>" + "!" (0), not "!</w>".
    assert.deepStrictEqual(t.encode('wow!'), [vocab['wow</w>'], 0]);
  });

  it('lets special_tokens_map.json win over tokenizer_config.json', async () => {
    copy('vocab.json');
    copy('merges.txt');
    fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ pad_token: '<|endoftext|>' }));
    fs.writeFileSync(path.join(dir, 'special_tokens_map.json'), JSON.stringify({ pad_token: { content: '!' } }));
    assert.strictEqual((await ClipTokenizer.fromFolder(dir)).padId, 0);
  });

  it('falls back to tokenizer.json when vocab.json is missing', async () => {
    const merges = fs.readFileSync(path.join(FIXTURE, 'merges.txt'), 'utf8').trim().split('\n').slice(1);
    // Newer tokenizer.json files store merges as pairs; older ones as "a b" strings. Use both.
    const mixed = merges.map((m, i) => (i % 2 ? m.split(' ') : m));
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'BPE', vocab, merges: mixed } }));
    const t = await ClipTokenizer.fromFolder(dir);
    assert.deepStrictEqual(t.encode('a photo of an astronaut riding a horse on mars'), [320, 1125, 539, 550, 18376, 6765, 320, 4558, 525, 7496]);
  });

  it('names the missing file', async () => {
    await assert.rejects(ClipTokenizer.fromFolder(dir), (e: Error) => e.message.includes(path.join(dir, 'vocab.json')));
    copy('vocab.json');
    await assert.rejects(ClipTokenizer.fromFolder(dir), (e: Error) => e.message.includes(path.join(dir, 'merges.txt')) && /missing/.test(e.message));
  });

  it('names the corrupt file', async () => {
    fs.writeFileSync(path.join(dir, 'vocab.json'), '{"a": 1,');
    copy('merges.txt');
    await assert.rejects(ClipTokenizer.fromFolder(dir), (e: Error) => e.message.includes(path.join(dir, 'vocab.json')) && /not valid JSON/.test(e.message));
    copy('vocab.json');
    fs.writeFileSync(path.join(dir, 'merges.txt'), '#version: 0.2\ni n\nbroken\n');
    await assert.rejects(ClipTokenizer.fromFolder(dir), (e: Error) => e.message.includes('merges.txt') && /line 3/.test(e.message));
  });

  it('rejects an unknown flavour, naming the valid ones', async () => {
    copy('vocab.json');
    copy('merges.txt');
    const bad = { flavour: 'transformers-v4-fast' } as unknown as ClipTokenizerOptions;
    await assert.rejects(ClipTokenizer.fromFolder(dir, bad), /unknown flavour "transformers-v4-fast".*'transformers-v5', 'transformers-v4-slow'/);
  });

  it('gives the same pad handling in both flavours', async () => {
    copy('vocab.json');
    copy('merges.txt');
    fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ pad_token: '!' }));
    for (const flavour of ['transformers-v5', 'transformers-v4-slow'] as const) {
      const t = await ClipTokenizer.fromFolder(dir, { flavour });
      assert.strictEqual(t.flavour, flavour);
      assert.deepStrictEqual(t.pipelineIds('wow!').slice(0, 5), [49406, vocab['wow</w>'], 0, 49407, 0]);
    }
  });

  it('says which special token is missing from the vocabulary', async () => {
    fs.writeFileSync(path.join(dir, 'vocab.json'), JSON.stringify({ a: 0 }));
    fs.writeFileSync(path.join(dir, 'merges.txt'), '#version: 0.2\na b\n');
    await assert.rejects(ClipTokenizer.fromFolder(dir), /bos token "<\|startoftext\|>" is not in the vocabulary/);
  });
});
