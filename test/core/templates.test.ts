import * as assert from 'assert';
import { TEMPLATES, applyTemplate, domainFor, findTemplate, isMedical } from '../../src/core/templates';

describe('core/templates', () => {
  it('recognises medical prompts (anatomy, pathology, imaging) as whole words', () => {
    for (const p of ['anatomy of the human heart', 'Chest X-ray of pneumonia', 'an MRI scan of the brain', 'histology of liver tissue', 'a kidney tumour']) {
      assert.ok(isMedical(p), p);
      assert.strictEqual(domainFor(p), 'medical');
    }
    for (const p of ['a heartwarming story illustration', 'an organic farm', 'a red apple', 'a brainstorming session']) {
      assert.ok(!isMedical(p), p);
    }
  });

  it('makes every medical template medical and wraps the subject', () => {
    const t = findTemplate('medical-cross-section');
    assert.ok(t);
    assert.strictEqual(domainFor('a leaf', t), 'medical');
    assert.match(applyTemplate(t, '  the human eye '), /^the human eye, medical cross-section/);
    assert.strictEqual(domainFor('a volcano', findTemplate('education-primary')), 'education');
    assert.strictEqual(new Set(TEMPLATES.map((x) => x.id)).size, TEMPLATES.length, 'ids are unique');
  });
});
