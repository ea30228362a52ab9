import * as assert from 'assert';
import { parseStubs } from '../../src/core/stubs';
import { TEMPLATE_IDS } from '../../src/core/templates';

describe('core/stubs', () => {
  it('finds empty-link and TODO stubs with the alt text as prompt', () => {
    const r = parseStubs('# Cells\n\n![a plant cell, labelled]()\n\ntext ![mitochondria](TODO) more\n');
    assert.deepStrictEqual(
      r.stubs.map((s) => [s.kind, s.prompt, s.range]),
      [
        ['empty-link', 'a plant cell, labelled', { line: 2, start: 0, end: 27 }],
        ['empty-link', 'mitochondria', { line: 4, start: 5, end: 26 }],
      ],
    );
    assert.deepStrictEqual(r.diagnostics, []);
  });

  it('parses an illustrate directive with options and links the image line below it', () => {
    const text = '<!-- illustrate: a heart, cross-section | seed: 42 | size: 768x512 | steps: 25 | negative: text, blurry | scheduler: euler-a -->\n![a heart](images/a/heart-42.png)\n';
    const r = parseStubs(text);
    assert.strictEqual(r.stubs.length, 1);
    const s = r.stubs[0];
    assert.strictEqual(s.kind, 'directive');
    assert.strictEqual(s.prompt, 'a heart, cross-section');
    assert.deepStrictEqual(s.options, { seed: 42, width: 768, height: 512, steps: 25, negative: 'text, blurry', scheduler: 'euler-a' });
    assert.strictEqual(s.range.end, text.indexOf('\n'));
    assert.strictEqual(s.image?.path, 'images/a/heart-42.png');
    assert.strictEqual(r.images.length, 1);
  });

  it('reports unknown keys and bad values as diagnostics on the option', () => {
    const line = '<!-- illustrate: a cat | seed: -1 | size: 500x500 | colour: red | steps: 999 | scheduler: nope | template: x -->';
    const r = parseStubs(line, { templateIds: TEMPLATE_IDS });
    assert.strictEqual(r.stubs.length, 1, 'the directive still counts, with defaults');
    assert.deepStrictEqual(r.stubs[0].options, {});
    const msgs = r.diagnostics.map((d) => d.message);
    assert.strictEqual(msgs.length, 6, msgs.join('\n'));
    assert.match(msgs[0], /seed must be a whole number/);
    assert.match(msgs[1], /size must be WIDTHxHEIGHT/);
    assert.match(msgs[2], /Unknown option "colour"/);
    assert.match(msgs[3], /steps must be/);
    assert.match(msgs[4], /Unknown scheduler "nope"/);
    assert.match(msgs[5], /Unknown template "x"/);
    const colour = r.diagnostics[2].range;
    assert.strictEqual(line.slice(colour.start, colour.end).trim(), 'colour: red');
    assert.strictEqual(r.diagnostics[2].severity, 'warning');
  });

  it('handles malformed stubs: empty alt, no prompt, unterminated comment, option without colon', () => {
    const r = parseStubs('![]()\n<!-- illustrate:  | seed: 1 -->\n<!-- illustrate: a dog\n<!-- illustrate: a fox | big -->\n');
    assert.deepStrictEqual(r.stubs.map((s) => s.prompt), ['a fox']);
    assert.deepStrictEqual(
      r.diagnostics.map((d) => d.range.line),
      [0, 1, 2, 3],
    );
    assert.match(r.diagnostics[0].message, /write the prompt between the brackets/);
    assert.match(r.diagnostics[1].message, /no prompt/);
    assert.match(r.diagnostics[2].message, /must end on the same line/);
    assert.match(r.diagnostics[3].message, /not an option/);
  });

  it('ignores stubs in fenced code and inline code, and remote or non-PNG images', () => {
    const text = ['```md', '![inside fence]()', '```', 'use `![x]()` like this', '![remote](https://x.org/a.png)', '![jpg](a.jpg)', '~~~', '<!-- illustrate: no -->', '~~~', '![ok](my%20pics/a.png "title")'].join('\n');
    const r = parseStubs(text);
    assert.deepStrictEqual(r.stubs, []);
    assert.deepStrictEqual(r.images.map((i) => i.path), ['my pics/a.png']);
  });

  it('unescapes brackets in alt text and accepts CRLF', () => {
    const r = parseStubs('a\r\n![array \\[i\\] diagram](todo)\r\n');
    assert.strictEqual(r.stubs[0].prompt, 'array [i] diagram');
    assert.strictEqual(r.stubs[0].range.line, 1);
  });

  it('finds every stub in a 5,000-line document', () => {
    const lines: string[] = [];
    for (let i = 0; i < 5000; i++) lines.push(i % 50 === 0 ? `![figure ${i}]()` : i % 77 === 0 ? `<!-- illustrate: thing ${i} | seed: ${i} -->` : `Plain paragraph text number ${i} with some *emphasis* and a [link](x.md).`);
    const r = parseStubs(lines.join('\n'));
    assert.strictEqual(r.stubs.length, 100 + 63);
  });
});
