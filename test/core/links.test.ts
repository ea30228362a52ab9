import * as assert from 'assert';
import { imageMarkdown, relativeImageLink, toPosixPath } from '../../src/core/links';

describe('core/links', () => {
  it('makes relative links with / separators and encoded spaces and parentheses', () => {
    assert.strictEqual(relativeImageLink('/ws/course/intro.md', '/ws/course/images/intro/a b (1).png'), 'images/intro/a%20b%20%281%29.png');
    assert.strictEqual(relativeImageLink('/ws/course/intro.md', '/ws/media/x.png'), '../media/x.png');
    assert.strictEqual(relativeImageLink('/ws/intro.md', '/ws/café.png'), 'café.png');
  });
  it('escapes alt text onto one line', () => {
    assert.strictEqual(imageMarkdown('a [b]\n c', 'x.png'), '![a \\[b\\] c](x.png)');
  });
  it('turns Windows paths into POSIX form', () => {
    assert.strictEqual(toPosixPath('C:\\ws\\a.md'), '/C:/ws/a.md');
    assert.strictEqual(toPosixPath('/ws/a.md'), '/ws/a.md');
  });
});
