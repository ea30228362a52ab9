import assert from 'node:assert/strict';
import { directiveCompletion } from '../../src/core/directiveCompletion';
import { DIRECTIVE_KEYS } from '../../src/core/stubs';

describe('core/directiveCompletion', () => {
  const labels = (line: string) => directiveCompletion(line)?.suggestions.map((s) => s.label);

  it('offers the keys after a |, replacing what was typed of one', () => {
    const c = directiveCompletion('<!-- illustrate: a plant cell | te');
    assert.ok(c);
    assert.deepEqual(c.suggestions.map((s) => s.label), [...DIRECTIVE_KEYS]);
    assert.equal(c.from, '<!-- illustrate: a plant cell | '.length);
    assert.equal(c.suggestions.find((s) => s.label === 'template')?.insert, 'template: ');
  });

  it('offers the values a key takes: templates (own ones too), schedulers, sizes, the composed template parts', () => {
    assert.ok(labels('<!-- illustrate: x | template: ')?.includes('education-primary'));
    assert.ok(directiveCompletion('<!-- illustrate: x | template: my', [{ id: 'my-plates', label: 'Mine', prompt: '{subject}', domain: 'general' }])?.suggestions.some((s) => s.label === 'my-plates'));
    assert.ok(labels('<!-- illustrate: x | scheduler: ')?.includes('dpmpp-2m-karras'));
    assert.ok(labels('<!-- illustrate: x | size: 7')?.includes('768x512'));
    assert.deepEqual(labels('<!-- illustrate: x | level: '), ['primary', 'middle', 'high', 'university', 'medical-school']);
    assert.equal(directiveCompletion('<!-- illustrate: x | subject: ')?.suggestions.find((s) => s.label === 'chinese')?.detail, 'Chinese language and literature · 语文');
    assert.deepEqual(labels('<!-- illustrate: x | fast: '), ['yes', 'no']);
    assert.equal(directiveCompletion('<!-- illustrate: x | level: hi')?.from, '<!-- illustrate: x | level: '.length);
  });

  it('offers nothing in the prompt itself, after the comment, outside a directive, or for free-text keys', () => {
    for (const line of ['<!-- illustrate: a plant', '<!-- illustrate: x | seed: 4 --> and | ', 'a table | with | bars', '<!-- note | x', '<!-- illustrate: x | negative: ']) {
      assert.equal(directiveCompletion(line), undefined, line);
    }
  });
});
