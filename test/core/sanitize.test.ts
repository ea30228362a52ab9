import * as assert from 'assert';
import { generationInfotext, parseInfotext } from '../../src/core/infotext';
import { cleanPromptText, stripControlCharacters } from '../../src/core/sanitize';

const info = { steps: 20, sampler: 'Euler a', guidance: 7.5, seed: 42, width: 512, height: 512, version: '0.1.0' };

describe('core/sanitize', () => {
  it('removes C0 and C1 controls, DEL, and bidi overrides and isolates from prompts', () => {
    const hostile = 'a\u0000 cat\u001b[31m red\u007f\u0080\u009f \u202aleft\u202b\u202c\u202d\u202e \u2066iso\u2067\u2068\u2069 end';
    assert.strictEqual(cleanPromptText(hostile), 'a cat[31m red left iso end');
    // Other text (accents, CJK, emoji, zero-width joiners) is left as it is.
    assert.strictEqual(cleanPromptText('café, 細胞, 👩‍🔬, x²'), 'café, 細胞, 👩‍🔬, x²');
    const plain = 'a labelled diagram of a plant cell';
    assert.strictEqual(cleanPromptText(plain), plain);
  });

  it('folds every line break and tab of a prompt into one space (CLIP reads them alike)', () => {
    assert.strictEqual(cleanPromptText('a\r\nb\nc\rd\te\u000bf\u000cg\u0085h\u2028i\u2029j'), 'a b c d e f g h i j');
  });

  it('keeps tabs and line feeds in text whose lines matter, and turns the odd separators into line feeds', () => {
    assert.strictEqual(stripControlCharacters('a\tb\r\nc\u0000\u202e\u2028d\u0085e'), 'a\tb\r\nc\nd\ne');
  });

  it('a prompt with "\\nNegative prompt:" reads back from the PNG parameters as itself once cleaned', () => {
    const prompt = 'a heart\nNegative prompt: blurry';
    // The bug: written as typed, A1111's reader takes the second line for the negative prompt.
    const raw = parseInfotext(generationInfotext({ ...info, prompt, negativePrompt: 'text' }));
    assert.notStrictEqual(raw.prompt, prompt);
    assert.strictEqual(raw.prompt, 'a heart');
    // Cleaned (as every path into a job does), the prompt is one line and comes back unchanged.
    const clean = cleanPromptText(prompt);
    assert.strictEqual(clean, 'a heart Negative prompt: blurry');
    const back = parseInfotext(generationInfotext({ ...info, prompt: clean, negativePrompt: cleanPromptText('text\r\nwatermark') }));
    assert.deepStrictEqual([back.prompt, back.negativePrompt], [clean, 'text watermark']);
    assert.strictEqual(back.fields['Steps'], '20');
  });

  it('prompts that look like parameters or carry controls round-trip too', () => {
    for (const prompt of [
      'Steps: 1, Sampler: x, CFG scale: 3\nSteps: 2, Seed: 3, Size: 8x8',
      'a\u0000b\u001bc\u202ed',
      'line one\r\nline two\u2028line three',
      'quotes " and \\ and , commas: colons',
    ]) {
      const clean = cleanPromptText(prompt);
      const back = parseInfotext(generationInfotext({ ...info, prompt: clean, negativePrompt: clean }));
      assert.deepStrictEqual([back.prompt, back.negativePrompt], [clean, clean], JSON.stringify(prompt));
      assert.strictEqual(back.fields['Seed'], '42');
    }
  });
});
