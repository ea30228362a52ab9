import assert from 'node:assert/strict';
import { foreignScript, promptLanguageProblem } from '../../src/core/promptLanguage';

describe('core/promptLanguage', () => {
  it('finds prompts the model will not understand, by the script most of their words are in', () => {
    assert.equal(foreignScript('标注清晰的植物细胞结构图'), 'Chinese');
    assert.equal(foreignScript('植物细胞结构图 cell'), 'Chinese', 'a Chinese character carries about a word');
    assert.equal(foreignScript('植物细胞 labelled plant cell diagram, flat'), undefined, 'an English prompt with a Chinese note');
    assert.equal(foreignScript('клетка растения'), 'Cyrillic');
    assert.equal(foreignScript('心臓の断面図'), 'Chinese');
    assert.equal(foreignScript('labelled diagram of a plant cell (细胞)'), undefined);
    assert.equal(foreignScript('a café in Zürich <lora:细胞:0.8>'), undefined, 'LoRA tags are not words the model reads');
  });

  it('says what to do: an English prompt beside the text as alt text', () => {
    assert.match(promptLanguageProblem('植物细胞结构图') ?? '', /understands English prompts; this one is in Chinese.*prompt: labelled diagram of a plant cell/);
    assert.equal(promptLanguageProblem('a plant cell'), undefined);
  });
});
