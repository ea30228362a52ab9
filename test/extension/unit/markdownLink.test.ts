import assert from 'node:assert/strict';
import { altFromPrompt, markdownImage } from '../../../src/extension/panel/markdownLink';

describe('panel markdown links', () => {
  it('links relative to the document with forward slashes and escaped spaces', () => {
    assert.equal(markdownImage('/ws/course/intro.md', '/ws/course/images/intro/a heart.png', 'a heart'),
      '![a heart](images/intro/a%20heart.png)');
    assert.equal(markdownImage('/ws/course/sub/x.md', '/ws/course/images/y.png', 'y'), '![y](../images/y.png)');
  });

  it('uses / for Windows paths and links from the workspace root without a document', () => {
    assert.equal(markdownImage('C:\\ws\\course\\a.md', 'C:\\ws\\course\\images\\a.png', 'a'), '![a](images/a.png)');
    assert.equal(markdownImage(undefined, '/ws/images/a.png', 'a', '/ws'), '![a](images/a.png)');
  });

  it('makes plain alt text from a weighted prompt', () => {
    assert.equal(altFromPrompt('a (red:1.3) heart, [blurry], \\(diagram\\) BREAK blue'), 'a red heart, blurry, diagram blue');
    const long = altFromPrompt('word '.repeat(60));
    assert.ok(long.length <= 100 && !long.endsWith(' '));
  });

  it('leaves control characters and bidi overrides out of the alt text (the prompt may come from any PNG)', () => {
    assert.equal(altFromPrompt('a\u0000 heart\u001b\u0085\u202eleft\u2066 \u2028cell\u007f'), 'a heart left cell');
  });
});
