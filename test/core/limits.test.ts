import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import {
  BATCH,
  DEFAULTS,
  GUIDANCE,
  NEGATIVE_PROMPT,
  PROMPT,
  SEED,
  SIZE,
  STEPS,
  STRENGTH,
  batchProblem,
  clampGenerationValues,
  clampLength,
  fitSize,
  guidanceProblem,
  randomSeed,
  seedProblem,
  sizeProblem,
  stepsProblem,
} from '../../src/core/limits';
import { TEMPLATES, applyTemplate } from '../../src/core/templates';
import { LIMITS } from '../../src/core/webviewMessages';
import { parseSize, readConfig } from '../../src/extension/config';

interface SettingSchema {
  type: string;
  default: unknown;
  minimum?: number;
  maximum?: number;
  pattern?: string;
}

const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
// The settings come in groups (Model, Defaults, Output, Performance): one table of all of them.
const settings: Record<string, SettingSchema> = Object.assign({}, ...(pkg.contributes.configuration as { properties: Record<string, SettingSchema> }[]).map((g) => g.properties));

describe('core/limits', () => {
  it("package.json's settings have the same ranges and defaults", () => {
    const steps = settings['courseIllustrator.steps'];
    assert.deepStrictEqual([steps.type, steps.minimum, steps.maximum, steps.default], ['integer', STEPS.min, STEPS.max, DEFAULTS.steps]);
    const guidance = settings['courseIllustrator.guidance'];
    assert.deepStrictEqual([guidance.type, guidance.minimum, guidance.maximum, guidance.default], ['number', GUIDANCE.min, GUIDANCE.max, DEFAULTS.guidance]);
    const size = settings['courseIllustrator.size'];
    assert.strictEqual(size.default, DEFAULTS.size);
    assert.strictEqual(DEFAULTS.size, `${DEFAULTS.width}x${DEFAULTS.height}`);
    const pattern = new RegExp(size.pattern ?? '');
    for (const s of [`${SIZE.min}x${SIZE.min}`, `${SIZE.max}x${SIZE.max}`, DEFAULTS.size]) assert.match(s, pattern, `the size pattern accepts ${s}`);
    assert.strictEqual(settings['courseIllustrator.negativePrompt'].default, DEFAULTS.negativePrompt);
    assert.strictEqual(settings['courseIllustrator.scheduler'].default, DEFAULTS.scheduler);
  });

  it('the settings snapshot, the form limits and the defaults agree with limits.ts', () => {
    const none = readConfig({ get: () => undefined });
    assert.deepStrictEqual([none.steps, none.guidance, none.width, none.height], [DEFAULTS.steps, DEFAULTS.guidance, DEFAULTS.width, DEFAULTS.height]);
    const wild = readConfig({ get: <T>(k: string) => ({ steps: 10_000, guidance: 1e308, size: '4096x4096' } as Record<string, unknown>)[k] as T });
    assert.deepStrictEqual([wild.steps, wild.guidance, wild.width, wild.height], [STEPS.max, GUIDANCE.max, DEFAULTS.width, DEFAULTS.height]);
    assert.deepStrictEqual(parseSize(`${SIZE.max}x${SIZE.min}`), { width: SIZE.max, height: SIZE.min });
    assert.strictEqual(parseSize(`${SIZE.max + 8}x512`), undefined);
    assert.deepStrictEqual(LIMITS, {
      minSize: SIZE.min,
      maxSize: SIZE.max,
      maxSteps: STEPS.max,
      maxGuidance: GUIDANCE.max,
      maxBatch: BATCH.max,
      maxSeed: SEED.max,
      maxPromptChars: PROMPT.maxChars,
      maxNegativePromptChars: NEGATIVE_PROMPT.maxChars,
      maxStrength: STRENGTH.max,
    });
  });

  it("every template's words fit in the room a whole prompt has beyond what the user writes", () => {
    for (const t of TEMPLATES) {
      const words = t.prompt.replace('{subject}', '').length;
      assert.ok(words <= PROMPT.maxWithTemplate - PROMPT.maxChars, `${t.id}: ${words} characters`);
      assert.ok(applyTemplate(t, 'x'.repeat(PROMPT.maxChars)).length <= PROMPT.maxWithTemplate);
    }
  });

  it('names the allowed range for values out of it', () => {
    assert.strictEqual(stepsProblem(151), 'must be a whole number from 1 to 150');
    assert.strictEqual(stepsProblem(150), undefined);
    assert.strictEqual(guidanceProblem(1e308), 'must be a number from 0 to 30');
    assert.strictEqual(guidanceProblem(Number.NaN), 'must be a number from 0 to 30');
    assert.strictEqual(batchProblem(17), 'must be a whole number from 1 to 16');
    assert.strictEqual(seedProblem(-1), 'must be a whole number from 0 to 9007199254740991');
    assert.strictEqual(sizeProblem(4096), 'must be from 64 to 2048');
    assert.strictEqual(sizeProblem(500), 'must be a multiple of 8 (try 504)');
    for (let i = 0; i < 100; i++) {
      const seed = randomSeed();
      assert.ok(Number.isInteger(seed) && seed >= 0 && seed < SEED.randomEnd);
    }
  });

  it('clamps hostile metadata values and says what it did', () => {
    const { values, warnings } = clampGenerationValues({ steps: 1000, guidance: 1e308, width: 4096, height: 4096, batch: 64, seed: -5 }, "the image's parameters");
    assert.deepStrictEqual(values, { steps: 150, guidance: 30, width: 2048, height: 2048, batch: 16 });
    assert.deepStrictEqual(warnings, [
      "The image's parameters ask for 1000 steps; 150 are used (allowed: 1 to 150).",
      "The image's parameters ask for guidance 1e+308; 30 is used (allowed: 0 to 30).",
      "The image's parameters ask for a size of 4096×4096; 2048×2048 is used (allowed: 64 to 2048 pixels a side, multiples of 8).",
      "The image's parameters ask for 64 images; 16 are made (allowed: 1 to 16).",
      "The image's parameters give the seed -5; a random seed is used instead (allowed: 0 to 9007199254740991).",
    ]);
    const odd = clampGenerationValues({ steps: Number.POSITIVE_INFINITY, guidance: -3, width: 100, height: 30 }, 'the values');
    assert.deepStrictEqual(odd.values, { guidance: 0, width: 96, height: 64 });
    assert.strictEqual(odd.warnings[0], 'The values ask for steps Infinity; it is left out (allowed: 1 to 150).');
    assert.deepStrictEqual(clampGenerationValues({ steps: 20, guidance: 7.5, width: 768, height: 512 }, 'x'), { values: { steps: 20, guidance: 7.5, width: 768, height: 512 }, warnings: [] });
  });

  it('fits a large size inside the limits, keeping its shape', () => {
    assert.deepStrictEqual(fitSize(4096, 2048), { width: 2048, height: 1024 });
    assert.deepStrictEqual(fitSize(100000, 8), { width: 2048, height: 64 });
    assert.deepStrictEqual(fitSize(513, 771), { width: 512, height: 768 });
  });

  it('cuts metadata text to length without splitting a character', () => {
    const text = 'a'.repeat(PROMPT.maxChars - 1) + '😀' + 'b';
    const cut = clampLength(text, PROMPT.maxChars, "the prompt in the image's parameters");
    assert.strictEqual(cut.text, 'a'.repeat(PROMPT.maxChars - 1));
    assert.strictEqual(cut.warning, `The prompt in the image's parameters is ${PROMPT.maxChars + 2} characters long; the first ${PROMPT.maxChars - 1} are used (allowed: at most ${PROMPT.maxChars}).`);
    assert.deepStrictEqual(clampLength('short', 10, 'x'), { text: 'short' });
  });
});
