import assert from 'node:assert/strict';
import * as path from 'node:path';
import { altFromPrompt, markdownImage, relativeLink } from '../../../src/extension/panel/markdownLink';

describe('panel markdown links', () => {
  it('links relative to the document with forward slashes and escaped spaces', () => {
    assert.equal(markdownImage('/ws/course/intro.md', '/ws/course/images/intro/a heart.png', 'a heart'),
      '![a heart](images/intro/a%20heart.png)');
    assert.equal(markdownImage('/ws/course/sub/x.md', '/ws/course/images/y(1).png', 'y'), '![y](../images/y(1).png)');
  });

  it('uses / even for Windows paths', () => {
    assert.equal(relativeLink('C:\\ws\\course', 'C:\\ws\\course\\images\\a.png', path.win32), 'images/a.png');
  });

  it('makes plain alt text from a weighted prompt', () => {
    assert.equal(altFromPrompt('a (red:1.3) heart, [blurry], \\(diagram\\)'), 'a red heart, blurry, diagram');
    const long = altFromPrompt('word '.repeat(60));
    assert.ok(long.length <= 100 && !long.endsWith(' '));
  });
});
