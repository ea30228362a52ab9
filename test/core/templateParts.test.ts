import * as assert from 'node:assert/strict';
import { choiceLabel, templateLabel } from '../../src/core/templateLabels';
import { COMPOSE_CHOICE, PART_CHOICES, composedId, defaultParts, templateParts } from '../../src/core/templateParts';
import { TEMPLATES, composeTemplateId, findTemplate, isTemplateId } from '../../src/core/templates';

describe('core/templateParts (composing a template in the panel and the palette)', () => {
  it('reads the parts of a composed id, and gives the same id back', () => {
    assert.deepEqual(templateParts('edu.high.biology.labelled-diagram'), { kind: 'edu', level: 'high', subject: 'biology', type: 'labelled-diagram' });
    assert.deepEqual(templateParts('edu.primary'), { kind: 'edu', level: 'primary' });
    assert.deepEqual(templateParts('edu.university.physics'), { kind: 'edu', level: 'university', subject: 'physics' });
    assert.deepEqual(templateParts('med.ct.axial'), { kind: 'med', modality: 'ct', view: 'axial' });
    assert.deepEqual(templateParts('med.x-ray'), { kind: 'med', modality: 'x-ray' });
    for (const id of ['edu.high.biology.labelled-diagram', 'edu.primary', 'edu.university.physics', 'med.ct.axial', 'med.x-ray']) {
      const parts = templateParts(id);
      assert.ok(parts, id);
      assert.equal(composedId(parts), id);
    }
  });

  it('round-trips every part of every list', () => {
    for (const level of PART_CHOICES.level) {
      for (const subject of PART_CHOICES.subject) {
        for (const type of PART_CHOICES.type) {
          const id = composedId({ kind: 'edu', level: level.id, subject: subject.id, type: type.id });
          assert.equal(id, `edu.${level.id}.${subject.id}.${type.id}`);
          assert.deepEqual(templateParts(id), { kind: 'edu', level: level.id, subject: subject.id, type: type.id });
        }
      }
    }
    for (const modality of PART_CHOICES.modality) {
      for (const view of PART_CHOICES.view) {
        const id = composedId({ kind: 'med', modality: modality.id, view: view.id });
        assert.ok(id && isTemplateId(id), `${modality.id}/${view.id}`);
        assert.equal(findTemplate(id)?.domain, 'medical');
      }
    }
  });

  it('makes the ids the directives make from the same keys', () => {
    assert.equal(composedId({ kind: 'edu', level: 'high', subject: 'biology', type: 'process' }), composeTemplateId({ level: 'high', subject: 'biology', type: 'process' }));
    assert.equal(composedId({ kind: 'med', modality: 'ct', view: 'axial' }), composeTemplateId({ modality: 'ct', view: 'axial' }));
    assert.equal(composedId(defaultParts('edu')), composeTemplateId({ level: 'middle' }));
    assert.equal(composedId(defaultParts('med')), composeTemplateId({ modality: 'illustration' }));
  });

  it('leaves open parts out: empty strings, and the usual view (it adds no words)', () => {
    assert.equal(composedId({ kind: 'edu', level: 'high', subject: '', type: '' }), 'edu.high');
    assert.equal(composedId({ kind: 'edu', level: 'high', subject: 'art', type: '' }), 'edu.high.art');
    assert.equal(composedId({ kind: 'med', modality: 'mri', view: 'default' }), 'med.mri');
    assert.equal(composedId({ kind: 'med', modality: 'mri', view: '' }), 'med.mri');
    assert.deepEqual(templateParts('med.mri.default'), { kind: 'med', modality: 'mri' }, 'the usual view shows as no view');
    assert.equal(findTemplate('med.mri.default')?.prompt, findTemplate('med.mri')?.prompt, 'the same prompt either way');
  });

  it('makes no id from parts that do not make one', () => {
    assert.equal(composedId({ kind: 'edu', level: 'high', subject: '', type: 'map' }), undefined, 'a type needs a subject');
    assert.equal(composedId({ kind: 'edu', level: 'kindergarten' }), undefined);
    assert.equal(composedId({ kind: 'edu', level: 'high', subject: 'alchemy' }), undefined);
    assert.equal(composedId({ kind: 'med', modality: 'x-ray', view: 'upside-down' }), undefined);
    assert.equal(composedId({ kind: 'med', modality: '' }), undefined);
  });

  it('has no parts for named templates, unknown ids, the select\'s compose entries or nothing', () => {
    for (const t of TEMPLATES) assert.equal(templateParts(t.id), undefined, t.id);
    for (const id of [undefined, '', 'edu', 'med', 'edu.high.alchemy', 'med.x-ray.upside-down', 'my-plates', COMPOSE_CHOICE.edu, COMPOSE_CHOICE.med]) {
      assert.equal(templateParts(id), undefined, String(id));
    }
    assert.equal(findTemplate(COMPOSE_CHOICE.edu), undefined, 'the compose entries are not templates');
  });

  it('labels parts in the display language, and composed templates from them', () => {
    const high = PART_CHOICES.level.find((l) => l.id === 'high');
    assert.ok(high);
    assert.equal(choiceLabel(high), 'High school');
    assert.equal(choiceLabel(high, 'zh-cn'), '高中');
    const t = findTemplate('edu.high.biology.labelled-diagram');
    assert.ok(t);
    assert.equal(templateLabel(t, 'zh-cn'), '高中 · 生物 · 标注图');
    assert.equal(templateLabel(t), 'High school · Biology · Labelled diagram');
  });
});
