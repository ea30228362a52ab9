import * as assert from 'assert';
import { parsePromptAttention, validateEmphasis } from '../../src/core/emphasis';

const pairs = (text: string) => parsePromptAttention(text).map((e) => [e.text, e.weight]);

describe('parsePromptAttention (A1111 semantics)', () => {
  describe("A1111's doctest examples", () => {
    it('plain text', () => assert.deepStrictEqual(pairs('normal text'), [['normal text', 1]]));
    it('(x) is x1.1', () => {
      assert.deepStrictEqual(pairs('an (important) word'), [['an ', 1], ['important', 1.1], [' word', 1]]);
    });
    it('an unclosed "(" applies to the end', () => assert.deepStrictEqual(pairs('(unbalanced'), [['unbalanced', 1.1]]));
    it('escaped brackets are literal', () => assert.deepStrictEqual(pairs('\\(literal\\]'), [['(literal]', 1]]));
    it('equal neighbours merge', () => assert.deepStrictEqual(pairs('(unnecessary)(parens)'), [['unnecessaryparens', 1.1]]));
    it('the long mixed example, to the last bit of the float products', () => {
      assert.deepStrictEqual(pairs('a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).'), [
        ['a ', 1],
        ['house', 1.5730000000000004],
        [' ', 1.1],
        ['on', 1],
        [' a ', 1.1],
        ['hill', 0.55],
        [', sun, ', 1.1],
        ['sky', 1.4641000000000006],
        ['.', 1.1],
      ]);
    });
  });

  describe('weights', () => {
    it('((x)) is 1.1 * 1.1', () => assert.deepStrictEqual(pairs('((x))'), [['x', 1.2100000000000002]]));
    it('[x] divides by 1.1, [[x]] twice', () => {
      assert.deepStrictEqual(pairs('[x]'), [['x', 0.9090909090909091]]);
      assert.deepStrictEqual(pairs('[[x]]'), [['x', 0.8264462809917354]]);
    });
    it('(x:w) takes signed and bare-decimal weights', () => {
      assert.deepStrictEqual(pairs('(x:1.3)'), [['x', 1.3]]);
      assert.deepStrictEqual(pairs('(x:-0.5)'), [['x', -0.5]]);
      assert.deepStrictEqual(pairs('(x:+2)'), [['x', 2]]);
      assert.deepStrictEqual(pairs('(a:.5)'), [['a', 0.5]]);
    });
    it('nested explicit weights multiply', () => {
      assert.deepStrictEqual(pairs('((a:1.5) b:0.5)'), [['a', 0.75], [' b', 0.5]]);
    });
    it('(a:1.0) merges with the text after it', () => assert.deepStrictEqual(pairs('(a:1.0) b'), [['a b', 1]]));
    it('a weight inside [] is plain text', () => assert.deepStrictEqual(pairs('[a:1.2]'), [['a:1.2', 0.9090909090909091]]));
    it('((a)) ((b)) keeps the space between at 1.0', () => {
      assert.deepStrictEqual(pairs('((a)) ((b))'), [['a', 1.2100000000000002], [' ', 1], ['b', 1.2100000000000002]]);
    });
    it('square inside round', () => {
      assert.deepStrictEqual(pairs('[a (b) c]'), [['a ', 0.9090909090909091], ['b', 1], [' c', 0.9090909090909091]]);
    });
  });

  describe('literals and unbalanced brackets', () => {
    it('an empty prompt is one empty run', () => assert.deepStrictEqual(pairs(''), [['', 1]]));
    it('colons without a weighted ")" stay text', () => {
      assert.deepStrictEqual(pairs('a:b'), [['a:b', 1]]);
      assert.deepStrictEqual(pairs('x:1.3)'), [['x:1.3)', 1]]);
    });
    it('\\\\ is one backslash, a lone \\ is dropped', () => {
      assert.deepStrictEqual(pairs('a \\\\ b'), [['a \\ b', 1]]);
      assert.deepStrictEqual(pairs('a \\ b'), [['a  b', 1]]);
    });
    it('unmatched closers are text', () => assert.deepStrictEqual(pairs('a ] b )'), [['a ] b )', 1]]));
    it('"(a]" keeps "]" as text and weights to the end', () => assert.deepStrictEqual(pairs('(a] b'), [['a] b', 1.1]]));
    it('crossed brackets close independently', () => {
      assert.deepStrictEqual(pairs('(mixed [nesting) here]'), [['mixed ', 1.1], ['nesting', 1], [' here', 0.9090909090909091]]);
    });
    it('a malformed weight stays text instead of failing', () => {
      assert.deepStrictEqual(pairs('(a:1.2.3)'), [['a:1.2.3)', 1.1]]);
    });
  });

  describe('BREAK', () => {
    it('splits and eats the surrounding whitespace', () => {
      assert.deepStrictEqual(pairs('cat BREAK dog'), [['cat', 1], ['BREAK', -1], ['dog', 1]]);
      assert.deepStrictEqual(pairs('a\nBREAK\nb'), [['a', 1], ['BREAK', -1], ['b', 1]]);
    });
    it('alone or repeated', () => {
      assert.deepStrictEqual(pairs('BREAK'), [['', 1], ['BREAK', -1], ['', 1]]);
      assert.deepStrictEqual(pairs('a BREAK BREAK b'), [['a', 1], ['BREAK', -1], ['', 1], ['BREAK', -1], ['b', 1]]);
    });
    it('only as a whole word (Unicode word characters count)', () => {
      assert.deepStrictEqual(pairs('aBREAK b'), [['aBREAK b', 1]]);
      assert.deepStrictEqual(pairs('a BREAKb'), [['a BREAKb', 1]]);
      assert.deepStrictEqual(pairs('caf\u00e9BREAK x'), [['caf\u00e9BREAK x', 1]]);
    });
    it('inside brackets its weight is scaled too (so A1111 treats it as text)', () => {
      assert.deepStrictEqual(pairs('(a BREAK b)'), [['a', 1.1], ['BREAK', -1.1], ['b', 1.1]]);
    });
  });
});

describe('validateEmphasis', () => {
  it('finds nothing wrong in well-formed prompts', () => {
    assert.deepStrictEqual(validateEmphasis('a (((house:1.3))) [on] \\(x\\) \\\\ (hill:0.5)'), []);
    assert.deepStrictEqual(validateEmphasis(''), []);
  });
  it('points at unclosed openers', () => {
    const p = validateEmphasis('a (cat [dog');
    assert.deepStrictEqual(p.map((x) => [x.start, x.end]), [[2, 3], [7, 8]]);
    assert.match(p[0].message, /never closed/);
  });
  it('points at unmatched closers', () => {
    const p = validateEmphasis('cat) dog]');
    assert.deepStrictEqual(p.map((x) => [x.start, x.end]), [[3, 4], [8, 9]]);
    assert.match(p[0].message, /no matching "\("/);
  });
  it('points at a malformed weight and a weight without "("', () => {
    const p = validateEmphasis('(a:1.2.3) b');
    assert.deepStrictEqual(p.map((x) => [x.start, x.end]), [[3, 8], [0, 1]].sort((a, b) => a[0] - b[0]));
    assert.match(p[1].message, /not a number/);
    const q = validateEmphasis('b:2)');
    assert.deepStrictEqual(q.map((x) => [x.start, x.end]), [[1, 4]]);
    assert.match(q[0].message, /no "\("/);
  });
  it('points at a lone backslash', () => {
    const p = validateEmphasis('a \\ b');
    assert.deepStrictEqual(p.map((x) => [x.start, x.end]), [[2, 3]]);
  });
});
