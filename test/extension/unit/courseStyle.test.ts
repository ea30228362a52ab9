import * as assert from 'assert';
import { applyCourseStyle, parseCourseStyle } from '../../../src/extension/course/courseStyle';

describe('extension/course/courseStyle', () => {
  it('reads a course style', () => {
    const { style, problems } = parseCourseStyle('{ "style": "flat textbook illustration", "negative": "photo, text", "size": "768x512", "seedBase": 1000, "fast": true }');
    assert.deepStrictEqual(problems, []);
    assert.deepStrictEqual(style, { style: 'flat textbook illustration', negative: 'photo, text', width: 768, height: 512, seedBase: 1000, fast: true });
    assert.deepStrictEqual(parseCourseStyle('{}'), { style: { style: undefined, negative: undefined }, problems: [] });
  });

  it('says what is wrong, key by key, and how to write it', () => {
    assert.match(parseCourseStyle('{ "style": ').problems[0], /^It is not valid JSON/);
    assert.match(parseCourseStyle('["flat"]').problems[0], /must be one JSON object, like \{ "style"/);
    const { problems } = parseCourseStyle('{ "colour": "red", "style": 3, "size": "700x512", "seedBase": -1, "fast": "yes" }');
    assert.deepStrictEqual(problems, [
      'Unknown key "colour": use style, negative, size, seedBase, fast.',
      '"style" must be text in quotes.',
      '"size": each side must be a multiple of 8 (try 704).',
      `"seedBase" must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}.`,
      '"fast" must be true or false (no quotes).',
    ]);
    assert.deepStrictEqual(parseCourseStyle('{ "size": 512 }').problems, ['"size" must be width x height in quotes, like "768x512".']);
    assert.match(parseCourseStyle(JSON.stringify({ style: 'x'.repeat(501) })).problems[0], /^"style" is longer than 500 characters/);
  });

  it('adds the style words; the stub\'s own options win over the course defaults', () => {
    const style = { style: 'flat textbook illustration', negative: 'photo', width: 768, height: 512, seedBase: 1000, fast: true };
    assert.deepStrictEqual(applyCourseStyle({ prompt: 'a plant cell' }, style, 3), {
      prompt: 'a plant cell',
      style: 'flat textbook illustration',
      negativePrompt: 'photo',
      width: 768,
      height: 512,
      seed: 1003,
      fast: true,
    });
    const own = applyCourseStyle({ prompt: 'a heart, flat textbook illustration', negativePrompt: 'blur', width: 512, height: 512, seed: 42, fast: false }, style, 0);
    assert.deepStrictEqual(own, { prompt: 'a heart, flat textbook illustration', style: undefined, negativePrompt: 'blur', width: 512, height: 512, seed: 42, fast: false });
    assert.deepStrictEqual(applyCourseStyle({ prompt: 'a lung' }, {}, 0), { prompt: 'a lung', style: undefined, negativePrompt: undefined, seed: undefined, fast: undefined });
  });
});
