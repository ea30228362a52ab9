import * as assert from 'assert';
import { compileGlob, globMatches, GlobError, MAX_GLOB_LENGTH } from '../../src/core/glob';

describe('core/glob', () => {
  it('matches like VS Code / picomatch with { dot: true }', () => {
    const yes: [string, string][] = [
      ['**/*.md', '/ws/a/b.md'],
      ['**/*.md', '/ws/.hidden/b.md'],
      ['**/*.md', 'b.md'],
      ['/ws/docs/**', '/ws/docs/x/y.md'],
      ['/ws/docs/**', '/ws/docs'],
      ['**/{a,b}/*.md', '/ws/b/c.md'],
      ['**/{a,{b,c}x}/*.md', '/ws/cx/c.md'],
      ['**/ch?/*.md', '/ws/ch1/a.md'],
      ['**/[abc]*.md', '/ws/b1.md'],
      ['**/[a-c]*.md', '/ws/b1.md'],
      ['**/[!a]*.md', '/ws/b1.md'],
      ['**/[^a]*.md', '/ws/b1.md'],
      ['**/notes (draft).md', '/ws/notes (draft).md'],
      ['**/a\\*b.md', '/ws/a*b.md'],
      ['**/a**b.md', '/ws/axxb.md'],
      ['**/**/**/x.md', '/ws/x.md'],
      ['**/{a,b', '/ws/{a,b'],
      ['**/[ab', '/ws/[ab'],
    ];
    for (const [g, p] of yes) assert.ok(globMatches(g, p), `${g} should match ${p}`);
    const no: [string, string][] = [
      ['**/*.md', '/ws/a/b.mdx'],
      ['/ws/*.md', '/ws/sub/c.md'],
      ['**/ch?/*.md', '/ws/ch12/a.md'],
      ['**/[!a]*.md', '/ws/a1.md'],
      ['**/a\\*b.md', '/ws/axb.md'],
      ['**/a**b.md', '/ws/a/b.md'],
      ['/ws/*/x.md', '/ws/x.md'],
      ['**/*.MD', '/ws/a.md'],
    ];
    for (const [g, p] of no) assert.ok(!globMatches(g, p), `${g} should not match ${p}`);
  });

  it('says what is wrong with an invalid glob', () => {
    assert.throws(() => compileGlob('[z-a]'), (e: unknown) => e instanceof GlobError && /out of order/.test((e as Error).message));
    assert.throws(() => compileGlob('{a,b}'.repeat(7)), /more than 64 alternatives/);
    assert.throws(() => compileGlob('{'.repeat(9) + 'a,b' + '}'.repeat(9)), /nests/);
    assert.throws(() => compileGlob('a'.repeat(MAX_GLOB_LENGTH + 1)), /at most 1024/);
  });

  it('takes time linear in the path for patterns that make regex matchers backtrack', () => {
    // picomatch 4.0.7 and minimatch 10.2.6 take seconds on "*a*a*a*a*a*a*b" against 80 "a"s.
    const paths = [`/ws/${'a/'.repeat(1000)}${'a'.repeat(250)}.mdx`, 'a'.repeat(8000), `/${'a'.repeat(255)}`];
    const globs = ['(a*)*b', '**/**/**/**/**/**/**/**/*.md', '*a*a*a*a*a*a*b', `**/${'*a'.repeat(400)}*b`, `${'**/'.repeat(300)}*b`, '**/(a+)+b', '{a,b}*{a,b}*{a,b}*{a,b}*{a,b}*{a,b}*b'];
    for (const g of globs) {
      const m = compileGlob(g);
      const t = performance.now();
      for (const p of paths) assert.strictEqual(m(p), false);
      console.log(`      ${g.slice(0, 40)}: ${(performance.now() - t).toFixed(1)} ms for ${paths.length} long paths`);
    }
  });
});
