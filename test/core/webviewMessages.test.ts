import assert from 'node:assert/strict';
import {
  PanelSettings,
  clampPanelPrefill,
  panelSettingsProblems,
  problemText,
  sizeProblem,
  validateFromGallery,
  validateFromPanel,
  validatePanelSettings,
  MAX_MASK_BASE64,
  MAX_SOURCE_BASE64,
} from '../../src/core/webviewMessages';

const good = {
  prompt: 'a cat', negativePrompt: '', width: 768, height: 512, steps: 20, guidance: 7.5,
  scheduler: 'euler-a', seed: 42, seedLocked: true, batch: 2,
};

describe('webviewMessages', () => {
  it('accepts well-formed panel messages', () => {
    assert.deepEqual(validateFromPanel({ type: 'generate', settings: good }), { type: 'generate', settings: good });
    assert.deepEqual(validateFromPanel({ type: 'tokenize', field: 'prompt', requestId: 3, text: 'a' }),
      { type: 'tokenize', field: 'prompt', requestId: 3, text: 'a' });
    assert.deepEqual(validateFromPanel({ type: 'imageAction', action: 'insert', imageId: 'img-1' }),
      { type: 'imageAction', action: 'insert', imageId: 'img-1' });
    assert.deepEqual(validateFromPanel({ type: 'cancel' }), { type: 'cancel', jobId: undefined });
    assert.deepEqual(validateFromPanel({ type: 'choice', requestId: 2, imageId: 'var-1' }), { type: 'choice', requestId: 2, imageId: 'var-1' });
    assert.deepEqual(validateFromPanel({ type: 'choice', requestId: 2 }), { type: 'choice', requestId: 2, imageId: undefined });
    assert.throws(() => validateFromPanel({ type: 'choice', requestId: 2, imageId: '/tmp/x.png' }), /id handed out/);
  });

  it('accepts a source image for generate, dropped bytes and URIs, and refuses what is not base64 or too large', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0]).toString('base64');
    const withSource = { ...good, strength: 0.6 };
    assert.deepEqual(validateFromPanel({ type: 'generate', settings: withSource, source: { id: 'src-1', maskPng: png } }),
      { type: 'generate', settings: withSource, source: { id: 'src-1', maskPng: png } });
    assert.deepEqual(validateFromPanel({ type: 'generate', settings: good, source: { id: 'src-1' } }), { type: 'generate', settings: good, source: { id: 'src-1' } });
    assert.throws(() => validateFromPanel({ type: 'generate', settings: good, source: { id: '../../etc/passwd' } }), /id handed out/);
    assert.throws(() => validateFromPanel({ type: 'generate', settings: good, source: { id: 'src-1', maskPng: 'data:image/png;base64,AAAA' } }), /base64 without a data: prefix/);
    assert.throws(() => validateFromPanel({ type: 'generate', settings: good, source: { id: 'src-1', maskPng: 'A'.repeat(MAX_MASK_BASE64 + 4) } }), /larger than 6 MiB; use a smaller image/);
    assert.deepEqual(validateFromPanel({ type: 'dropSource', name: 'scan.jpg', dataBase64: png }), { type: 'dropSource', name: 'scan.jpg', dataBase64: png });
    assert.throws(() => validateFromPanel({ type: 'dropSource', name: 'x', dataBase64: 'A'.repeat(MAX_SOURCE_BASE64 + 4) }), /larger than 18 MiB/);
    assert.deepEqual(validateFromPanel({ type: 'dropUri', uri: 'file:///ws/a.png' }), { type: 'dropUri', uri: 'file:///ws/a.png' });
    assert.deepEqual(validateFromPanel({ type: 'pickSource' }), { type: 'pickSource' });
    assert.deepEqual(validateFromPanel({ type: 'clearSource' }), { type: 'clearSource' });
    assert.deepEqual(validateFromPanel({ type: 'imageAction', action: 'redraw', imageId: 'img-1' }), { type: 'imageAction', action: 'redraw', imageId: 'img-1' });
  });

  it('checks the strength: in range, and leaving at least one step to run (int(steps x strength) >= 1)', () => {
    assert.equal(validatePanelSettings({ ...good, strength: 0.75 }).strength, 0.75);
    assert.equal('strength' in validatePanelSettings(good), false);
    assert.throws(() => validatePanelSettings({ ...good, strength: 1.5 }), /"strength" must be a number from 0 to 1/);
    assert.throws(() => validatePanelSettings({ ...good, steps: 20, strength: 0.04 }), /"strength" leaves no step to run with 20 steps \(use 0.05 or more\)/);
    const [p] = panelSettingsProblems({ ...good, steps: 3, strength: 0.3 } as PanelSettings);
    assert.equal(problemText(p), 'Strength leaves no step to run with 3 steps (use 0.34 or more).');
  });

  it('accepts a known template, treats an empty one as none, and names the known ones for an unknown one', () => {
    assert.equal(validatePanelSettings({ ...good, template: 'education-primary' }).template, 'education-primary');
    assert.equal('template' in validatePanelSettings({ ...good, template: '' }), false);
    assert.throws(() => validatePanelSettings({ ...good, template: 'Medical X-ray!' }), /"template" must be empty, one of education-primary, .*medical-anatomy/);
    // Composed ones, and ids shaped like a teacher's own (the extension looks those up).
    assert.equal(validatePanelSettings({ ...good, template: 'edu.high.biology.labelled-diagram' }).template, 'edu.high.biology.labelled-diagram');
    assert.equal(validatePanelSettings({ ...good, template: 'my-plates' }).template, 'my-plates');
    // What the panel's part selects make: partial ids too, and medical ones.
    for (const id of ['edu.primary', 'edu.high.biology', 'med.ct.axial', 'med.x-ray']) assert.equal(validatePanelSettings({ ...good, template: id }).template, id);
    for (const id of ['edu.high.alchemy', 'edu.high.biology.comic', 'med.x-ray.upside-down', 'compose:edu']) {
      assert.throws(() => validatePanelSettings({ ...good, template: id }), /"template" must be empty, .*a composed edu\.LEVEL\.SUBJECT\.TYPE/, id);
    }
    assert.throws(() => validatePanelSettings({ ...good, template: 7 }), /template/);
  });

  it('rejects sizes that are not multiples of 8, and says which size fits', () => {
    assert.throws(() => validatePanelSettings({ ...good, width: 500 }), /"width" must be a multiple of 8 \(try 504\)/);
    assert.throws(() => validatePanelSettings({ ...good, height: 4096 }), /height/);
    assert.equal(sizeProblem(512), undefined);
    assert.match(sizeProblem(513.5) ?? '', /whole/);
  });

  it('rejects unknown types, actions, schedulers and path-like ids', () => {
    assert.throws(() => validateFromPanel({ type: 'writeFile', path: '/etc/passwd' }), /unknown panel message type/);
    assert.throws(() => validateFromPanel({ type: 'imageAction', action: 'rm', imageId: 'a' }), /action/);
    assert.throws(() => validateFromPanel({ type: 'imageAction', action: 'saveAs', imageId: '../../x.png' }), /id handed out/);
    assert.throws(() => validateFromPanel({ type: 'generate', settings: { ...good, scheduler: 'magic' } }), /scheduler/);
    assert.throws(() => validateFromPanel({ type: 'generate', settings: { ...good, prompt: '  ' } }), /prompt/);
    assert.throws(() => validateFromPanel({ type: 'generate', settings: { ...good, steps: 0 } }), /steps/);
    assert.throws(() => validateFromPanel(null), /object/);
  });

  it('refuses values outside the shared limits and names the range', () => {
    assert.throws(() => validatePanelSettings({ ...good, steps: 151 }), /^ValidationError: "steps" must be a whole number from 1 to 150, got 151$/);
    assert.throws(() => validatePanelSettings({ ...good, guidance: 1e308 }), /"guidance" must be a number from 0 to 30, got 1e\+308/);
    assert.throws(() => validatePanelSettings({ ...good, batch: 17 }), /"batch" must be a whole number from 1 to 16, got 17/);
    assert.throws(() => validatePanelSettings({ ...good, seed: -1 }), /"seed" must be a whole number from 0 to 9007199254740991, or empty for a random one, got -1/);
    assert.throws(() => validatePanelSettings({ ...good, prompt: 'x'.repeat(20001) }), /"prompt" is longer than 20000 characters \(20001\)/);
    assert.throws(() => validatePanelSettings({ ...good, negativePrompt: 'x'.repeat(20001) }), /"negativePrompt" is longer than 20000 characters/);
    assert.equal(validatePanelSettings({ ...good, seed: 2 ** 40 }).seed, 2 ** 40, 'seeds above 2^32 are fine, as in stubs and the engine');
  });

  it('gives the webview every problem of the form in its words (the same check the extension runs)', () => {
    const s: PanelSettings = { ...good, scheduler: 'euler-a', width: 500, height: Number.NaN, steps: 0, guidance: 31, seed: 1.5, batch: 99 };
    assert.deepEqual(panelSettingsProblems(s).map(problemText), [
      'Width must be a multiple of 8 (try 504).',
      'Height must be a whole number.',
      'Steps must be a whole number from 1 to 150.',
      'Guidance must be a number from 0 to 30.',
      'Seed must be a whole number from 0 to 9007199254740991, or empty for a random one.',
      'Batch count must be a whole number from 1 to 16.',
    ]);
    assert.deepEqual(panelSettingsProblems({ ...good, scheduler: 'euler-a', seed: undefined }), []);
  });

  it('brings prefilled values (a PNG\'s metadata, another extension) within the limits, cleaned, with a warning each', () => {
    const r = clampPanelPrefill({ prompt: 'a\u0000 heart\n\u202eorgan', negativePrompt: 'x'.repeat(20005), steps: 1000, guidance: 1e308, width: 4096, height: 4096, seed: undefined }, 'the values given to the panel');
    assert.deepEqual(r.settings, { prompt: 'a heart organ', negativePrompt: 'x'.repeat(20000), steps: 150, guidance: 30, width: 2048, height: 2048, seed: undefined });
    assert.deepEqual(r.warnings, [
      'The negative prompt in the values given to the panel is 20005 characters long; the first 20000 are used (allowed: at most 20000).',
      'The values given to the panel ask for 1000 steps; 150 are used (allowed: 1 to 150).',
      'The values given to the panel ask for guidance 1e+308; 30 is used (allowed: 0 to 30).',
      'The values given to the panel ask for a size of 4096×4096; 2048×2048 is used (allowed: 64 to 2048 pixels a side, multiples of 8).',
    ]);
    assert.deepEqual(clampPanelPrefill({ prompt: 'a cell', steps: 3 }, 'x'), { settings: { prompt: 'a cell', steps: 3 }, warnings: [] });
  });

  it('validates gallery messages and bounds their sizes', () => {
    assert.deepEqual(validateFromGallery({ type: 'query', requestId: 1, query: 'cat', offset: 0, limit: 60 }),
      { type: 'query', requestId: 1, query: 'cat', offset: 0, limit: 60, filter: 'all' });
    assert.equal((validateFromGallery({ type: 'query', filter: 'unlinked' }) as { filter: string }).filter, 'unlinked');
    assert.throws(() => validateFromGallery({ type: 'query', filter: 'orphans' }), /"filter" must be one of all, unlinked/);
    assert.deepEqual(validateFromGallery({ type: 'cleanUp' }), { type: 'cleanUp' });
    assert.deepEqual(validateFromGallery({ type: 'start', what: 'openPanel' }), { type: 'start', what: 'openPanel' });
    assert.throws(() => validateFromGallery({ type: 'start', what: 'workbench.action.terminal.new' }), /"what" must be one of/, 'the empty gallery names a starting point, never a command');
    assert.throws(() => validateFromGallery({ type: 'query', limit: 100000 }), /limit/);
    assert.throws(() => validateFromGallery({ type: 'thumbs', ids: new Array(101).fill('a') }), /at most/);
    assert.throws(() => validateFromGallery({ type: 'thumbs', ids: ['/tmp/x'] }), /ids\[0\]/);
    assert.throws(() => validateFromGallery({ type: 'action', action: 'delete', id: 'C:\\x' }), /id handed out/);
  });
});
