import * as assert from 'assert';
import { TEMPLATES, applyTemplate, findTemplate, subjectOf } from '../../src/core/templates';

describe('core/templates', () => {
  it('declares every medical template medical and wraps the subject', () => {
    const t = findTemplate('medical-cross-section');
    assert.ok(t);
    assert.strictEqual(t.domain, 'medical');
    assert.match(applyTemplate(t, '  the human eye '), /^the human eye, medical cross-section/);
    assert.strictEqual(findTemplate('education-primary')?.domain, 'education');
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
