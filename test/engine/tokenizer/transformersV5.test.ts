import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { ClipTokenizer } from '../../../src/engine/tokenizer/clipTokenizer';

// Ids produced by the real transformers 5 CLIPTokenizer (Rust `tokenizers` backend) on the SD v1.5
// tokenizer folder: input_ids as diffusers asks for them (padding "max_length" 77, truncation) and
// ids without truncation or padding.
const FIXTURE = path.join(__dirname, '..', '..', 'fixtures', 'clip-tokenizer');
interface GoldenCase {
  prompt: string;
  input_ids: number[];
  ids: number[];
}
const golden: { transformers: string; cases: GoldenCase[] } = JSON.parse(
  fs.readFileSync(path.join(__dirname, 'transformersV5.golden.json'), 'utf8'),
);

/** Prompts where the v4 slow tokenizer gives other ids (CJK, control/format characters, final sigma). */
const V4_DIFFERS = new Set([
  'emoji 🧠🫀🦴 test 👩\u200d⚕️',
  '日本語のテキスト 中文 한국어',
  'mixed日本abc中文def',
  'zero\u200bwidth joiner\u200d test',
  'control\u0001chars\u0007here',
  'straße ΣΊΣΥΦΟΣ',
  '🏳️\u200d🌈 flag',
  'Σ final sigma ΣΑΣ ΟΔΟΣ',
  'a\u00adb soft hyphen',
  '\ufeffbom start',
  '\u0000nul',
  '日本',
  '中文字符',
  '\u200b',
]);

describe(`ClipTokenizer matches transformers ${golden.transformers} (${golden.cases.length} prompts)`, () => {
  let v5: ClipTokenizer;
  let v4: ClipTokenizer;
  before(async () => {
    v5 = await ClipTokenizer.fromFolder(FIXTURE);
    v4 = await ClipTokenizer.fromFolder(FIXTURE, { flavour: 'transformers-v4-slow' });
  });

  it('has all 85 golden cases', () => {
    assert.strictEqual(golden.cases.length, 85);
    for (const p of V4_DIFFERS) assert.ok(golden.cases.some((c) => c.prompt === p), `test bug: ${JSON.stringify(p)} is not a golden prompt`);
  });

  for (const c of golden.cases) {
    it(`${JSON.stringify(c.prompt).slice(0, 70)}`, () => {
      assert.deepStrictEqual(v5.pipelineIds(c.prompt), c.input_ids, 'input_ids (77, truncated, padded)');
      assert.deepStrictEqual([v5.bosId, ...v5.encode(c.prompt), v5.eosId], c.ids, 'ids (untruncated)');
    });
  }

  it('the v4-slow flavour agrees on every other prompt and differs on exactly the known ones', () => {
    for (const c of golden.cases) {
      const same = JSON.stringify([v4.bosId, ...v4.encode(c.prompt), v4.eosId]) === JSON.stringify(c.ids);
      assert.strictEqual(same, !V4_DIFFERS.has(c.prompt), JSON.stringify(c.prompt));
    }
  });
});
