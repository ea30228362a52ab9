import assert from 'node:assert/strict';
import { cleanRequestText, requestTextProblem } from '../../../src/extension/generation/requestText';

describe('generation request text (every command and CodeLens)', () => {
  it('cleans the prompt, negative prompt and alt text, and keeps the rest', () => {
    const target = { tracked: true };
    const req = cleanRequestText({ settings: { prompt: 'a\u0000b\nc', negativePrompt: 'n\u0085m', modelPrompt: 'e\u202en', steps: 3 }, alt: 'alt\u202e\r\n', target });
    assert.deepEqual(req, { settings: { prompt: 'ab c', negativePrompt: 'n m', modelPrompt: 'en', steps: 3 }, alt: 'alt ', target });
    assert.equal(req.target, target, 'the tracked target is the same object');
    assert.equal('negativePrompt' in cleanRequestText({ settings: { prompt: 'p' }, alt: 'a' }).settings, false);
  });

  it('refuses a typed prompt over the limit, naming it', () => {
    assert.equal(requestTextProblem({ settings: { prompt: 'p' }, alt: 'a' }), undefined);
    assert.equal(requestTextProblem({ settings: { prompt: 'p'.repeat(20001) }, alt: 'a' }), 'The prompt is longer than 20000 characters (20001); shorten it.');
    assert.equal(requestTextProblem({ settings: { prompt: 'p'.repeat(20001) }, alt: 'a', fromImage: true }), undefined, "an image's prompt may have a template's words");
    assert.equal(requestTextProblem({ settings: { prompt: 'p', negativePrompt: 'n'.repeat(20001) }, alt: 'a' }), 'The negative prompt is longer than 20000 characters (20001); shorten it.');
  });
});
