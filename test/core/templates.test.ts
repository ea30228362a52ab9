import * as assert from 'assert';
import { TEMPLATES, applyTemplate, domainFor, findTemplate, isMedical, subjectOf } from '../../src/core/templates';

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

  it('finds the subject again in a prompt a template made, for every template', () => {
    for (const t of TEMPLATES) {
      const back = subjectOf(applyTemplate(t, ' a plant cell '), t.id);
      assert.deepStrictEqual(back && { id: back.template.id, subject: back.subject }, { id: t.id, subject: 'a plant cell' }, t.id);
    }
    assert.strictEqual(subjectOf('a plant cell, watercolor', 'education-primary'), undefined, 'the wording was edited away');
    assert.strictEqual(subjectOf('a plant cell', 'no-such-template'), undefined);
    assert.strictEqual(subjectOf(applyTemplate(findTemplate('medical-anatomy'), ''), 'medical-anatomy'), undefined, 'no subject left');
  });
});
