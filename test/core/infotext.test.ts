import * as assert from 'assert';
import {
  courseIllustratorVersion,
  formatInfotext,
  generationInfotext,
  parseDenoisingStrength,
  pythonFloat,
  parseInfotext,
  parseSize,
  quoteInfotextValue,
  withInfotextFields,
} from '../../src/core/infotext';

const standardFields: [string, string | number | undefined][] = [
  ['Steps', 20],
  ['Sampler', 'Euler a'],
  ['Schedule type', 'Karras'],
  ['CFG scale', 7],
  ['Seed', 42],
  ['Size', '512x512'],
  ['Model hash', 'abcdef1234'],
  ['Model', 'name'],
  ['RNG', 'CPU'],
  ['Version', courseIllustratorVersion('0.1.0')],
];

describe('formatInfotext', () => {
  it('writes A1111 layout', () => {
    const text = formatInfotext({ prompt: 'a cat', negativePrompt: 'blurry', fields: standardFields });
    assert.strictEqual(
      text,
      'a cat\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, Schedule type: Karras, CFG scale: 7, Seed: 42, ' +
        'Size: 512x512, Model hash: abcdef1234, Model: name, RNG: CPU, Version: course-illustrator 0.1.0',
    );
  });

  it('leaves out an empty negative prompt and empty values', () => {
    const text = formatInfotext({
      prompt: 'a cat',
      negativePrompt: '',
      fields: [['Steps', 20], ['Model', ''], ['Model hash', undefined], ['CFG scale', 7.5], ['Seed', 0]],
    });
    assert.strictEqual(text, 'a cat\nSteps: 20, CFG scale: 7.5, Seed: 0');
  });

  it('quotes values with , : or newline as JSON strings (json.dumps, ensure_ascii=False)', () => {
    assert.strictEqual(quoteInfotextValue('plain value'), 'plain value');
    assert.strictEqual(quoteInfotextValue('a, b'), '"a, b"');
    assert.strictEqual(quoteInfotextValue('k: v'), '"k: v"');
    assert.strictEqual(quoteInfotextValue('line1\nline2'), '"line1\\nline2"');
    assert.strictEqual(quoteInfotextValue('say "hi", ok'), '"say \\"hi\\", ok"');
    assert.strictEqual(quoteInfotextValue('café, ✓'), '"café, ✓"');
    // a quote alone does not trigger quoting, as in A1111
    assert.strictEqual(quoteInfotextValue('say "hi"'), 'say "hi"');
  });

  it('writes a pair whose value equals its key as the bare key, like A1111', () => {
    assert.strictEqual(formatInfotext({ prompt: 'p', fields: [['Tiling', 'Tiling'], ['Seed', 1]] }), 'p\nTiling, Seed: 1');
  });

  it('matches a string produced by A1111 create_infotext (quoted template value)', () => {
    // Same as Python: ", ".join(f'{k}: {quote(v)}' ...) with quote() from infotext_utils.
    const text = formatInfotext({
      prompt: 'photo of a heart',
      fields: [['Steps', 4], ['Template', 'Diagram: labelled, clean'], ['Seed', 3]],
    });
    assert.strictEqual(text, 'photo of a heart\nSteps: 4, Template: "Diagram: labelled, clean", Seed: 3');
  });
});

describe('parseInfotext', () => {
  it('parses A1111 docstring example', () => {
    const text =
      "girl with an artist's beret, determined, blue eyes, ((eyeshadow)), (coquettish), detailed, intricate\n" +
      'Negative prompt: ugly, fat, (((deformed))), [blurry], bad anatomy, (poorly drawn hands), messy drawing\n' +
      'Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 965400086, Size: 512x512, Model hash: 45dee52b';
    const p = parseInfotext(text);
    assert.strictEqual(p.prompt, "girl with an artist's beret, determined, blue eyes, ((eyeshadow)), (coquettish), detailed, intricate");
    assert.strictEqual(p.negativePrompt, 'ugly, fat, (((deformed))), [blurry], bad anatomy, (poorly drawn hands), messy drawing');
    assert.deepStrictEqual(p.fields, {
      Steps: '20',
      Sampler: 'Euler a',
      'CFG scale': '7',
      Seed: '965400086',
      Size: '512x512',
      'Model hash': '45dee52b',
    });
    assert.deepStrictEqual(parseSize(p.fields.Size), { width: 512, height: 512 });
  });

  it('treats a last line with fewer than 3 pairs as prompt', () => {
    const p = parseInfotext('a cat\nstyle: watercolor, mood: calm');
    assert.strictEqual(p.prompt, 'a cat\nstyle: watercolor, mood: calm');
    assert.deepStrictEqual(p.fields, {});
  });

  it('reads multi-line negative prompts and quoted values', () => {
    const p = parseInfotext(
      'line one\nline two\nNegative prompt: bad\nworse\nSteps: 5, Template: "a, b: \\"c\\"\\nd", Seed: 1, Size: 64x64',
    );
    assert.strictEqual(p.prompt, 'line one\nline two');
    assert.strictEqual(p.negativePrompt, 'bad\nworse');
    assert.strictEqual(p.fields.Template, 'a, b: "c"\nd');
    assert.strictEqual(p.fields.Seed, '1');
  });

  it('keeps a quoted value that is not valid JSON as written', () => {
    const p = parseInfotext('x\nSteps: 5, Bad: "\\q", Seed: 1');
    assert.strictEqual(p.fields.Bad, '"\\q"');
  });
});

describe('infotext round trip', () => {
  const cases: { prompt: string; negativePrompt?: string; extra?: string }[] = [
    { prompt: 'a cat, sitting: on a mat', negativePrompt: 'blurry, low quality' },
    { prompt: '(masterpiece:1.2), [sketch], \\(literal\\) parentheses', negativePrompt: '' },
    { prompt: 'she said "hello", then: "bye"', extra: 'value with "quotes", commas: and colons' },
    { prompt: 'first line\nsecond line, with comma\nthird: with colon', negativePrompt: 'neg one\nneg two' },
    { prompt: 'Ünïcödé — 日本語のプロンプト, emoji 🐱, Ελληνικά', negativePrompt: 'ничего, 不要', extra: '✓, ✗: ok' },
    { prompt: 'tabs\tand back\\slashes', extra: 'line\nbreak\tand\\slash' },
    { prompt: 'Steps: 5 in the prompt, Seed: 3, Size: 1x1 looks like pairs', negativePrompt: 'x' },
  ];
  for (const c of cases) {
    it(`round-trips ${JSON.stringify(c.prompt).slice(0, 40)}`, () => {
      const fields: [string, string | number | undefined][] = [...standardFields];
      if (c.extra !== undefined) fields.push(['Template', c.extra]);
      const text = formatInfotext({ prompt: c.prompt, negativePrompt: c.negativePrompt, fields });
      const back = parseInfotext(text);
      assert.strictEqual(back.prompt, c.prompt);
      assert.strictEqual(back.negativePrompt, c.negativePrompt ?? '');
      assert.strictEqual(back.fields.Seed, '42');
      assert.strictEqual(back.fields['CFG scale'], '7');
      assert.strictEqual(back.fields.Version, 'course-illustrator 0.1.0');
      if (c.extra !== undefined) assert.strictEqual(back.fields.Template, c.extra);
      assert.strictEqual(Object.keys(back.fields).length, fields.length);
    });
  }

  it('drops surrounding whitespace of prompt lines, as A1111 does', () => {
    const text = formatInfotext({ prompt: '  indented\n  lines  ', fields: standardFields });
    assert.strictEqual(parseInfotext(text).prompt, 'indented\nlines');
  });
});

describe('generationInfotext', () => {
  it('writes our standard fields in A1111 order', () => {
    const text = generationInfotext({
      prompt: 'a heart diagram',
      negativePrompt: 'text',
      steps: 25,
      sampler: 'DPM++ 2M',
      scheduleType: 'Karras',
      guidance: 7.5,
      seed: 1234,
      width: 768,
      height: 512,
      modelHash: 'abcdef1234',
      modelName: 'sd-v1-5: onnx, fp16',
      version: '0.1.0',
      extra: { Template: 'Diagram', Course: 'Biology 101, week 3' },
    });
    assert.strictEqual(
      text,
      'a heart diagram\nNegative prompt: text\nSteps: 25, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7.5, ' +
        'Seed: 1234, Size: 768x512, Model hash: abcdef1234, Model: sd-v1-5 onnx fp16, RNG: CPU, Template: Diagram, ' +
        'Course: "Biology 101, week 3", Version: course-illustrator 0.1.0',
    );
    assert.strictEqual(parseInfotext(text).fields.Course, 'Biology 101, week 3');
  });

  it('img2img and inpainting: "Denoising strength" after the model and before RNG, as A1111 writes it, and read back', () => {
    const info = { prompt: 'a cell', steps: 20, sampler: 'Euler a', guidance: 7.5, seed: 3, width: 512, height: 384, modelName: 'sd15', version: '0.1.0' };
    const text = generationInfotext({ ...info, denoisingStrength: 0.6 });
    assert.strictEqual(text, 'a cell\nSteps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 3, Size: 512x384, Model: sd15, ' +
      'Denoising strength: 0.6, RNG: CPU, Version: course-illustrator 0.1.0');
    const fields = parseInfotext(text).fields;
    assert.strictEqual(fields['Denoising strength'], '0.6');
    assert.strictEqual(parseDenoisingStrength(fields), 0.6);
    // Python prints the float 1.0 as "1.0"; no field at all without an init image; no "Mask blur" (never blurred).
    assert.match(generationInfotext({ ...info, denoisingStrength: 1 }), /, Denoising strength: 1\.0, RNG: CPU,/);
    assert.doesNotMatch(generationInfotext(info), /Denoising strength|Mask blur/);
    assert.doesNotMatch(text, /Mask blur/);
  });

  it('reads "Denoising strength" only when it is a number from 0 to 1', () => {
    assert.strictEqual(parseDenoisingStrength({ 'Denoising strength': '0.75' }), 0.75);
    for (const bad of ['', 'x', '1.5', '-0.1', 'NaN']) assert.strictEqual(parseDenoisingStrength({ 'Denoising strength': bad }), undefined, bad);
    assert.strictEqual(parseDenoisingStrength({}), undefined);
  });

  it('formats floats as Python\'s str() does', () => {
    assert.deepStrictEqual([1, 0, 0.5, 0.75, 0.3, 1e-5, 0.0001, 1.5e16, 12345.678].map(pythonFloat),
      ['1.0', '0.0', '0.5', '0.75', '0.3', '1e-05', '0.0001', '1.5e+16', '12345.678']);
  });
});

describe('parseInfotext on hostile text', () => {
  // The parser before it was made linear: A1111's re_param run by a backtracking engine. Kept as
  // the reference for what the scanner must return, on inputs short enough for it.
  const WS = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
  const RE_PARAM = new RegExp(`[${WS}]*([\\p{L}\\p{N}_][\\p{L}\\p{N}_ \\-/]+):[${WS}]*("(?:\\\\.|[^\\\\"])+"|[^,]*)(?:,|$)`, 'gu');
  const reference = (line: string): Record<string, string> => {
    const fields: Record<string, string> = {};
    RE_PARAM.lastIndex = 0;
    for (let m = RE_PARAM.exec(line); m; m = RE_PARAM.exec(line)) {
      const v = m[2];
      if (v.length > 0 && v[0] === '"' && v[v.length - 1] === '"') {
        try {
          const parsed: unknown = JSON.parse(v);
          fields[m[1]] = typeof parsed === 'string' ? parsed : v;
        } catch {
          fields[m[1]] = v;
        }
      } else fields[m[1]] = v;
    }
    return fields;
  };

  it('finds exactly the pairs re_param finds, on 50,000 random lines', () => {
    const toks = ['ab', 'Steps', ': ', ':', ', ', ',', '"', '\\"', '\\', ' ', 'x y', '"q, r"', '-', '/', 'é', '𝒜', '\u2028', '\\\u2028', '""', '\t', '\u00a0', '1'];
    let seed = 11;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 50_000; i++) {
      let line = '';
      for (let n = rnd(24); n > 0; n--) line += toks[rnd(toks.length)];
      // Three pairs first, so the line is read as the parameter line.
      const text = `p\nAa: 1, Bb: 2, Cc: 3, ${line}`;
      assert.deepStrictEqual(parseInfotext(text).fields, reference(text.split('\n')[1].trim()), JSON.stringify(line));
    }
  });

  it('parses a 1 MB line with many ":" and "," in linear time (the regex took many minutes)', () => {
    const lines = {
      'key run, no colon': 'a'.repeat(1 << 20),
      'unclosed quoted values': 'ab:"x,'.repeat((1 << 20) / 6),
      'spaced key, no colon': 'a '.repeat(1 << 19),
      'colons and commas': 'Steps: 1, Seed: 2, Size: 3, ' + 'kk:"v\\",:, '.repeat((1 << 20) / 10),
      'whitespace runs': ' '.repeat(1 << 19) + 'x' + ' '.repeat(1 << 19),
    };
    for (const [what, line] of Object.entries(lines)) {
      const t = performance.now();
      const r = parseInfotext(`prompt\n${line}`);
      console.log(`      ${what}: ${(performance.now() - t).toFixed(1)} ms, ${Object.keys(r.fields).length} fields`);
      assert.ok(Object.keys(r.fields).length <= 1000);
    }
  });

  it('leaves out over-long keys and values and keeps the rest', () => {
    const r = parseInfotext(`p\nSteps: 20, Seed: 1, ${'K'.repeat(300)}: x, Prompt2: ${'v'.repeat(70_000)}, Size: 512x512`);
    assert.deepStrictEqual(r.fields, { Steps: '20', Seed: '1', Size: '512x512' });
  });
});

describe('withInfotextFields', () => {
  it('adds pairs at the end of the parameters line, quoted as A1111 quotes them, and keeps keys it has', () => {
    const text = 'a cell\nNegative prompt: blur\nSteps: 4, Seed: 42, Size: 64x64';
    const out = withInfotextFields(text, { 'AI label': 'AI-generated teaching image, not for diagnosis', Seed: '7' });
    assert.strictEqual(out, 'a cell\nNegative prompt: blur\nSteps: 4, Seed: 42, Size: 64x64, AI label: "AI-generated teaching image, not for diagnosis"');
    assert.strictEqual(parseInfotext(out).fields['AI label'], 'AI-generated teaching image, not for diagnosis');
    assert.strictEqual(withInfotextFields('just a prompt', { Steps: '4' }), 'just a prompt\nSteps: 4');
  });
});
