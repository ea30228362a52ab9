// The prompt splitter: only Chinese runs go to the model; A1111 syntax and English stay as written.

import * as assert from 'node:assert/strict';
import { chineseRuns, cleanEnglish, joinPrompt, splitPrompt } from '../../../src/engine/translate/chineseRuns';

const DICT: Record<string, string> = { 植物细胞: 'plant cell', 心脏: 'heart', 细胞风格: 'cell style', '第 3 层细胞': 'layer 3 cells', 高清: 'HD' };

function translate(prompt: string, dict: Record<string, string | undefined> = DICT): { text: string; runs: string[] } {
  const parts = splitPrompt(prompt);
  return { text: joinPrompt(parts, (r) => dict[r]), runs: chineseRuns(parts) };
}

describe('translate: Chinese runs of a prompt', () => {
  it('translates a prompt that is all Chinese', () => {
    assert.deepEqual(translate('植物细胞'), { text: 'plant cell', runs: ['植物细胞'] });
  });

  it('keeps weights, brackets, LoRA tags (Chinese names included) and English as they are', () => {
    const r = translate('(植物细胞:1.3), <lora:细胞风格:0.8>, [心脏|植物细胞], highly detailed BREAK (masterpiece:1.2)');
    assert.equal(r.text, '(plant cell:1.3), <lora:细胞风格:0.8>, [heart|plant cell], highly detailed BREAK (masterpiece:1.2)');
    assert.deepEqual(r.runs, ['植物细胞', '心脏'], 'each run once, the tag left out');
  });

  it('turns Chinese phrase separators into commas', () => {
    assert.equal(translate('植物细胞，心脏、高清。').text, 'plant cell, heart, HD');
    assert.equal(translate('，植物细胞').text, 'plant cell');
    assert.equal(translate('植物细胞 ，心脏').text, 'plant cell, heart');
  });

  it('puts a space between the English and the words it touches, and leaves ASCII spacing alone', () => {
    assert.equal(translate('a 植物细胞 diagram').text, 'a plant cell diagram');
    assert.equal(translate('a植物细胞diagram').text, 'a plant cell diagram');
    assert.equal(translate('x,y  (z:1.1),植物细胞').text, 'x,y  (z:1.1),plant cell');
  });

  it('translates the words inside full-width brackets and keeps the brackets as written', () => {
    assert.deepEqual(translate('（植物细胞:1.2）《心脏》'), { text: '（plant cell:1.2）《heart》', runs: ['植物细胞', '心脏'] });
  });

  it('keeps spaces and digits between Chinese characters inside one run', () => {
    assert.deepEqual(translate('第 3 层细胞').runs, ['第 3 层细胞']);
  });

  it('has nothing to do for English, or for kana without Han characters', () => {
    for (const p of ['a labelled diagram of a plant cell, (detailed:1.2)', 'ネコ, cat']) {
      assert.deepEqual(translate(p), { text: p, runs: [] });
    }
  });

  it('leaves a run the model gave nothing for in Chinese instead of dropping it', () => {
    assert.equal(translate('植物细胞, 心脏', { 植物细胞: 'plant cell', 心脏: '' }).text, 'plant cell, 心脏');
  });

  it('makes Marian sentences prompt phrases: no full stop, lower case unless an acronym', () => {
    assert.equal(cleanEnglish(' Plant cells. '), 'plant cells');
    assert.equal(cleanEnglish('DNA double helix.'), 'DNA double helix');
    assert.equal(cleanEnglish('A'), 'A');
  });
});
