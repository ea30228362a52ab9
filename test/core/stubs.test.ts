import * as assert from 'assert';
import { SIZE, STEPS } from '../../src/core/limits';
import { parseStubs } from '../../src/core/stubs';
import { TEMPLATE_IDS } from '../../src/core/templates';

/** Parses and prints how long it took (never asserted: machines differ; the results are). */
function timedParse(label: string, text: string): ReturnType<typeof parseStubs> {
  const t0 = performance.now();
  const r = parseStubs(text);
  console.log(`      ${label}: ${(performance.now() - t0).toFixed(1)} ms`);
  return r;
}

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
    assert.deepStrictEqual(s.options, { seed: 42, width: 768, height: 512, steps: 25, negativePrompt: 'text, blurry', scheduler: 'euler-a' });
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

  it('reads a directive\'s domain (a declaration that labels the image) and refuses unknown ones', () => {
    const r = parseStubs('<!-- illustrate: an ECG strip | domain: Medical -->\n<!-- illustrate: a map | domain: clinical -->\n');
    assert.strictEqual(r.stubs[0].options.domain, 'medical');
    assert.strictEqual(r.stubs[1].options.domain, undefined);
    assert.match(r.diagnostics[0].message, /domain must be general, education, medical, got "clinical"/);
  });

  it('prompt: gives the model an English prompt and keeps the comment\'s text (Chinese here) as the alt text; a Chinese prompt alone is a warning', () => {
    const r = parseStubs('<!-- illustrate: 植物细胞结构图 | prompt: labelled diagram of a plant cell -->\n\n![标注清晰的植物细胞结构图]()\n');
    assert.deepStrictEqual(r.stubs.map((s) => [s.prompt, s.alt]), [['labelled diagram of a plant cell', '植物细胞结构图'], ['标注清晰的植物细胞结构图', '标注清晰的植物细胞结构图']]);
    assert.strictEqual(r.diagnostics.length, 1, r.diagnostics.map((d) => d.message).join('\n'));
    assert.strictEqual(r.diagnostics[0].severity, 'warning');
    assert.strictEqual(r.diagnostics[0].range.line, 2);
    assert.match(r.diagnostics[0].message, /understands English prompts; this one is in Chinese/);
  });

  it('composes a template from level:, subject:, type: (ids, English or Chinese names) and modality:, view:', () => {
    const r = parseStubs('<!-- illustrate: the water cycle | level: 高中 | subject: Geography | type: process -->\n<!-- illustrate: a knee | modality: x-ray | view: lateral -->\n<!-- illustrate: x | subject: alchemy -->\n');
    assert.deepStrictEqual(r.stubs.map((s) => s.options.template), ['edu.high.geography.process', 'med.x-ray.lateral', undefined]);
    assert.match(r.diagnostics[0].message, /Unknown subject "alchemy" \(known: biology, chemistry/);
  });

  it('reads fast: yes / no for one image, and says what it accepts', () => {
    const r = parseStubs('<!-- illustrate: a cell | fast: yes -->\n<!-- illustrate: a leaf | fast: off -->\n<!-- illustrate: a map | fast: maybe -->\n');
    assert.deepStrictEqual(r.stubs.map((s) => s.options.fast), [true, false, undefined]);
    assert.match(r.diagnostics[0].message, /fast must be yes or no, got "maybe"/);
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
    const r = timedParse('5,000 lines', lines.join('\n'));
    assert.strictEqual(r.stubs.length, 100 + 63);
  });

  it('parses a 5,000-line course with code blocks, comments, lists and tables in one pass', () => {
    const chunk = [
      '## Section',
      '',
      'Text with `code ![no]()` and ![a stub]() and ![img](images/a.png).',
      '<!-- illustrate: a directive | seed: 3 -->',
      '![made](images/made.png)',
      '',
      '```js',
      'const s = "![no]()";',
      '```',
      '',
      '- item ![listed]()',
      '',
      '| a | b |',
      '|---|---|',
      '| ![cell]() | <!-- x --> |',
      '',
      '<!-- a comment',
      '![no]()',
      '-->',
      '',
    ];
    const lines: string[] = [];
    while (lines.length < 5000) lines.push(...chunk);
    const r = timedParse(`${lines.length} lines of mixed Markdown`, lines.join('\n'));
    const n = lines.length / chunk.length;
    assert.strictEqual(r.stubs.length, 4 * n);
    assert.deepStrictEqual([...new Set(r.stubs.map((s) => s.prompt))].sort(), ['a directive', 'a stub', 'cell', 'listed']);
    assert.strictEqual(r.images.length, 2 * n);
    assert.ok(r.stubs.filter((s) => s.kind === 'directive').every((s) => s.image?.path === 'images/made.png'));
    assert.deepStrictEqual(r.diagnostics, []);
  });

  describe('a single 150 KB line parses in time linear in its length', () => {
    const N = 150 * 1024;
    const repeat = (unit: string) => unit.repeat(Math.ceil(N / unit.length)).slice(0, N);
    // Each line is the worst case of one old regular expression (seconds to minutes each), or of
    // a search the scan could repeat; the document also has a stub after the long line.
    const cases: [string, string, number][] = [
      ['"![" repeated (alt text never closed)', repeat('!['), 0],
      ['"![a](" repeated (link never closed)', repeat('![a]('), 0],
      ['"![a](<" repeated', repeat('![a](<'), 0],
      ['"![a](x "" repeated (title never closed)', repeat('![a](x "'), 0],
      ['"![" then one "](" and spaces', `${repeat('![').slice(0, N / 2)}](${' '.repeat(N / 2)}`, 0],
      // In a paragraph: at the start of a line, "<!--" would open an HTML block running to the end.
      ['"<!-- illustrate:" repeated (never closed)', `x ${repeat('<!-- illustrate:')}`, 0],
      ['"<!--" repeated', `x ${repeat('<!--')}`, 0],
      ['backtick runs of every length', Array.from({ length: 2000 }, (_, i) => '`'.repeat((i % 400) + 1) + 'x').join('').slice(0, N), 0],
      ['"`![" repeated', repeat('`!['), 0],
      ['backslashes', repeat('\\'), 0],
      ['"[" and "]" repeated', repeat('[]'), 0],
      ['"<a " repeated (HTML-like)', repeat('<a '), 0],
      ['"> ![" repeated (nested quotes)', repeat('> !['), 0],
      ['stubs "![a]() " repeated', '![a]() '.repeat(N / 8), N / 8],
      ['directives repeated', '<!-- illustrate: a -->'.repeat(N / 24), N / 24],
    ];
    for (const [label, line, stubsInLine] of cases) {
      it(label, () => {
        const r = timedParse(label, `# Title\n\n${line}\n\nAfter it: ![the last stub]()\n`);
        assert.strictEqual(r.stubs.length, stubsInLine + 1);
        assert.strictEqual(r.stubs[r.stubs.length - 1].prompt, 'the last stub');
        assert.deepStrictEqual(r.stubs[r.stubs.length - 1].range, { line: 4, start: 10, end: 28 });
      });
    }

    it('a directive whose prompt is 150 KB long is refused with the limit, not run', () => {
      const r = timedParse('150 KB prompt', `<!-- illustrate: ${repeat('a')} -->`);
      assert.deepStrictEqual(r.stubs, []);
      assert.strictEqual(r.diagnostics.length, 1);
      assert.match(r.diagnostics[0].message, /^The prompt is longer than 20000 characters \(153600\); shorten it\.$/);
    });
  });

  it('finds nothing in fenced or indented code, HTML comments or <pre> blocks', () => {
    const text = [
      '```',
      '![fenced]() <!-- illustrate: fenced -->',
      '```',
      '',
      '    ![indented code]()',
      '    <!-- illustrate: indented -->',
      '',
      '<!--',
      '![in a comment]()',
      '<!-- illustrate: in a comment -->',
      '-->',
      '',
      'Text <!-- ![inline comment]() --> more',
      '',
      '<pre>',
      '![in pre]()',
      '<!-- illustrate: in pre -->',
      '</pre>',
      '',
      '> ```',
      '> ![quoted fence]()',
      '> ```',
      '',
      '- item',
      '',
      '      ![code in a list]()',
      '',
      'A code span `across',
      'lines ![spanned]()` ends here.',
      '',
      '~~~~',
      '![long fence]()',
      '~~~',
      'still fenced ![x]()',
      '~~~~',
      '\\![escaped]()',
    ].join('\n');
    const r = parseStubs(text);
    assert.deepStrictEqual(r.stubs.map((s) => s.prompt), []);
    assert.deepStrictEqual(r.diagnostics, []);
  });

  it('still finds stubs next to code and comments, in lists, quotes, tables and HTML blocks', () => {
    const text = [
      'para',
      '    ![lazy continuation, not code]()',
      '',
      '- item',
      '',
      '    ![in a list item]()',
      '',
      '> ![quoted]()',
      '',
      '| a |',
      '|---|',
      '| ![cell]() |',
      '',
      '`code` ![after code]() <!-- c --> ![after comment]()',
      '',
      '<div>',
      '<!-- illustrate: a directive in an HTML block -->',
      '![raw HTML, no image]()',
      '</div>',
    ].join('\n');
    const r = parseStubs(text);
    assert.deepStrictEqual(r.stubs.map((s) => [s.prompt, s.range.line, s.range.start]), [
      ['lazy continuation, not code', 1, 4],
      ['in a list item', 5, 4],
      ['quoted', 7, 2],
      ['cell', 11, 2],
      ['after code', 13, 7],
      ['after comment', 13, 34],
      ['a directive in an HTML block', 16, 0],
    ]);
  });

  it('counts lines like VS Code: \\r\\n, \\r and \\n each end one', () => {
    const r = parseStubs('a\rb\r\n![x]()\n\r![y]()');
    assert.deepStrictEqual(r.stubs.map((s) => [s.prompt, s.range.line]), [['x', 2], ['y', 4]]);
  });

  it('checks directive options against the shared limits and names the range', () => {
    const r = parseStubs(`<!-- illustrate: a cat | size: 4096x4096 | steps: ${STEPS.max + 1} | guidance: 31 | seed: 9007199254740992 -->`);
    assert.deepStrictEqual(r.stubs[0].options, {});
    assert.deepStrictEqual(r.diagnostics.map((d) => d.message), [
      `size must be WIDTHxHEIGHT with multiples of 8 from ${SIZE.min} to ${SIZE.max}, like 768x512; got "4096x4096".`,
      `steps must be a whole number from 1 to ${STEPS.max}, got "${STEPS.max + 1}".`,
      'guidance must be a number from 0 to 30, got "31".',
      'seed must be a whole number from 0 to 9007199254740991, got "9007199254740992".',
    ]);
    const ok = parseStubs(`<!-- illustrate: a cat | size: ${SIZE.max}x${SIZE.min} | steps: ${STEPS.max} | guidance: 30 | seed: 9007199254740991 -->`);
    assert.deepStrictEqual(ok.stubs[0].options, { width: SIZE.max, height: SIZE.min, steps: STEPS.max, guidance: 30, seed: 9007199254740991 });
  });
});
