// The extension side of translating a Chinese prompt, without VS Code: where the English goes in
// the document (directiveEdit.ts), which stub the language warning's quick fix is about
// (languageWarning.ts), the panel's translate message, and, end to end with the tiny Marian
// model and the tiny pipeline, that the English used is what the PNG's parameters say.

import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { toEngineParams } from '../../../src/core/generationSettings';
import { DEFAULTS } from '../../../src/core/limits';
import { promptLanguageProblem } from '../../../src/core/promptLanguage';
import { parseStubs, type ImageStub } from '../../../src/core/stubs';
import { TRANSLATE_MAX_CHARS } from '../../../src/core/translateProtocol';
import { validateFromPanel } from '../../../src/core/webviewMessages';
import { Engine } from '../../../src/engine/engine';
import { readPngInfo } from '../../../src/engine/image/readImageInfo';
import { Translator } from '../../../src/engine/translate/translator';
import { englishPromptEdit, textToTranslate, type StubEdit } from '../../../src/extension/translate/directiveEdit';
import { stubForLanguageWarning } from '../../../src/extension/translate/languageWarning';
import { writeTinyMarian } from '../../fixtures/tinyMarian';
import { ensureFixture } from '../../fixtures/tinyPipeline';

/** The one-line document `line` with `stub`'s English written in. */
function edited(line: string, english: string, which = 0): string {
  const stub = parseStubs(line).stubs[which];
  const edit = englishPromptEdit(line, stub, english) as StubEdit;
  assert.ok(!('problem' in edit), JSON.stringify(edit));
  return line.slice(0, edit.range.start) + edit.newText + line.slice(edit.range.end);
}

function only(text: string): ImageStub {
  const { stubs } = parseStubs(text);
  assert.equal(stubs.length, 1, text);
  return stubs[0];
}

describe('translate: the English prompt in the document', () => {
  it('adds `prompt:` after the Chinese of a directive, before its other options', () => {
    assert.equal(edited('<!-- illustrate: 植物细胞 -->', 'plant cell'), '<!-- illustrate: 植物细胞 | prompt: plant cell -->');
    assert.equal(edited('<!-- illustrate: 植物细胞 | seed: 4 | size: 768x512 -->', 'plant cell'), '<!-- illustrate: 植物细胞 | prompt: plant cell | seed: 4 | size: 768x512 -->');
    assert.equal(edited('<!--illustrate:植物细胞-->', 'plant cell'), '<!--illustrate:植物细胞 | prompt: plant cell -->');
  });

  it('replaces a Chinese `prompt:` and keeps the rest of the comment', () => {
    assert.equal(edited('<!-- illustrate: 细胞图 | prompt: 植物细胞 | seed: 4 -->', 'plant cell'), '<!-- illustrate: 细胞图 | prompt: plant cell | seed: 4 -->');
    assert.equal(edited('Text <!-- illustrate: 细胞图 | PROMPT: 植物细胞 --> more', 'plant cell'), 'Text <!-- illustrate: 细胞图 | prompt: plant cell --> more');
  });

  it('turns an empty-link stub into a directive with the Chinese as alt text', () => {
    assert.equal(edited('![植物细胞]()', 'plant cell'), '<!-- illustrate: 植物细胞 | prompt: plant cell -->');
    assert.equal(edited('See ![心脏](TODO) here.', 'heart'), 'See <!-- illustrate: 心脏 | prompt: heart --> here.');
  });

  it('translates what the model would read: the `prompt:` when there is one, else the text', () => {
    assert.equal(textToTranslate(only('<!-- illustrate: 细胞图 | prompt: 植物细胞 -->')), '植物细胞');
    assert.equal(textToTranslate(only('<!-- illustrate: 植物细胞 | seed: 4 -->')), '植物细胞');
    assert.equal(textToTranslate(only('![心脏]()')), '心脏');
  });

  it('after the edit the stub reads the English, keeps the Chinese as alt text, and the warning is gone', () => {
    for (const line of ['<!-- illustrate: 植物细胞 | seed: 4 -->', '![植物细胞]()', '<!-- illustrate: 细胞图 | prompt: 植物细胞 -->']) {
      const before = parseStubs(line);
      assert.equal(before.diagnostics.length, 1, line);
      const after = parseStubs(edited(line, 'plant cell'));
      assert.equal(after.stubs[0].prompt, 'plant cell');
      assert.equal(after.stubs[0].options.modelPrompt, 'plant cell');
      assert.match(after.stubs[0].alt, /^(植物细胞|细胞图)$/);
      assert.deepEqual(after.diagnostics, [], line);
    }
  });

  it('refuses English an illustrate comment cannot hold, and empty English, with a sentence', () => {
    const stub = only('![植物细胞]()');
    for (const english of ['[plant|cell]', 'a --> b', '  ']) {
      const r = englishPromptEdit('![植物细胞]()', stub, english);
      assert.ok('problem' in r && r.problem.length > 10, english);
    }
  });
});

describe('translate: the quick fix finds its stub', () => {
  it('is offered for the Chinese-prompt warning of a stub, not for other warnings or English stubs', () => {
    const line = '![a plant cell]() ![植物细胞]() <!-- illustrate: 心脏 | seed: x -->';
    const parsed = parseStubs(line);
    const language = parsed.diagnostics.filter((d) => d.message === promptLanguageProblem('植物细胞'));
    assert.deepEqual(language.map((d) => stubForLanguageWarning(parsed.stubs, d)), [1, 2], 'each warning names its own stub');
    const seed = parsed.diagnostics.find((d) => /seed/.test(d.message));
    assert.ok(seed);
    assert.equal(stubForLanguageWarning(parsed.stubs, seed), -1);
  });
});

describe('translate: the results panel message', () => {
  it('accepts a translate request and refuses an empty or overlong text', () => {
    assert.deepEqual(validateFromPanel({ type: 'translate', requestId: 3, text: '植物细胞' }), { type: 'translate', requestId: 3, text: '植物细胞' });
    assert.throws(() => validateFromPanel({ type: 'translate', requestId: 3, text: ' ' }), /must not be empty/);
    assert.throws(() => validateFromPanel({ type: 'translate', requestId: 3, text: '植'.repeat(TRANSLATE_MAX_CHARS + 1) }), /longer than/);
  });
});

describe('translate: the English used goes into the PNG parameters', function () {
  this.timeout(120000);
  let root: string;
  let marian: string;
  let pipeline: string;
  let engine: Engine;
  const translator = new Translator();

  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'ci-translate-png-'));
    marian = await writeTinyMarian(path.join(root, 'marian'));
    pipeline = await ensureFixture('tiny-a');
    engine = new Engine({ provider: 'cpu', threads: 1 });
  });
  after(async () => {
    await translator.dispose();
    await engine.dispose();
    await fs.rm(root, { recursive: true, force: true });
  });

  const job = (outFile: string) => ({
    model: pipeline,
    seed: 5,
    defaults: { negativePrompt: '', steps: 2, guidance: DEFAULTS.guidance, width: 32, height: 32, scheduler: 'default' },
    template: undefined,
    output: { outFile, confineTo: root },
    previewEvery: 0,
  });

  it('a directive: translated, written as `prompt:`, generated; the PNG says the English', async () => {
    const line = '<!-- illustrate: 植物细胞 | steps: 2 -->';
    const { text: english } = await translator.translate({ model: marian, text: textToTranslate(only(line)) });
    assert.equal(english, 'plant cell');
    const stub = only(edited(line, english));
    const out = path.join(root, 'directive.png');
    const params = toEngineParams({ prompt: stub.prompt, steps: stub.options.steps }, job(out));
    assert.equal(params.prompt, 'plant cell');
    await engine.generate(params);
    const info = await readPngInfo(out);
    assert.equal(info.prompt, 'plant cell');
    assert.match(info.parameters ?? '', /^plant cell\n/);
  });

  it('the panel: the English prompt field is what the model reads, the Chinese stays the subject', async () => {
    const { text: english } = await translator.translate({ model: marian, text: '心脏' });
    const out = path.join(root, 'panel.png');
    const params = toEngineParams({ prompt: '心脏', modelPrompt: english }, job(out));
    await engine.generate(params);
    assert.equal((await readPngInfo(out)).prompt, 'heart');
  });
});
