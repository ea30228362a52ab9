import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { PROMPT } from '../../src/core/limits';
import { CONTENT_TYPES, LEVELS, MODALITIES, SUBJECTS } from '../../src/core/templateData';
import { TEMPLATES, applyTemplate, composeTemplateId, findTemplate, subjectOf } from '../../src/core/templates';
import { parseUserTemplates } from '../../src/core/userTemplates';

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

describe('composed templates (templateData.ts)', () => {
  it('teaching: "[level] [subject] [content type], [key concept], [style], [technical requirements]"', () => {
    const t = findTemplate('edu.high.biology.labelled-diagram');
    assert.ok(t);
    assert.strictEqual(applyTemplate(t, 'a plant cell'), 'high school biology labelled diagram, a plant cell, clean detailed textbook illustration, accurate proportions, white background, high contrast, no text, no watermark');
    assert.strictEqual(t.label, 'High school · Biology · Labelled diagram');
    assert.strictEqual(t.domain, 'education');
    assert.strictEqual(findTemplate('edu.medical-school.biology')?.domain, 'medical', 'pictures for a medical school carry the label');
    assert.strictEqual(findTemplate('edu.primary')?.prompt, 'primary school, {subject}, simple friendly flat illustration, bright colours, clear shapes, white background, high contrast, no text, no watermark');
    for (const bad of ['edu.kindergarten', 'edu.high.alchemy', 'edu.high.biology.comic', 'edu', 'med', 'med.x-ray.upside-down', 'other.x']) assert.strictEqual(findTemplate(bad), undefined, bad);
  });

  it('medical: "[anatomy or pathology], [imaging type], [view], [details], [educational purpose]"', () => {
    const t = findTemplate('med.x-ray.lateral');
    assert.ok(t);
    assert.strictEqual(applyTemplate(t, 'knee joint, osteoarthritis'), 'knee joint, osteoarthritis, X-ray radiograph, grayscale, lateral view, for medical education, clearly visible features');
    assert.strictEqual(t.domain, 'medical');
    assert.match(t.negative ?? '', /gore/);
  });

  it('offers at least 12 subjects, the 5 levels, 9 content types and 8 modalities, each with a Chinese label, and every composition fits the room a prompt has', () => {
    assert.ok(SUBJECTS.length >= 12);
    assert.deepStrictEqual(LEVELS.map((l) => l.id), ['primary', 'middle', 'high', 'university', 'medical-school']);
    assert.strictEqual(CONTENT_TYPES.length, 9);
    assert.deepStrictEqual(MODALITIES.map((m) => m.id), ['illustration', 'x-ray', 'ct', 'mri', 'ultrasound', 'clinical-photo', 'histology', 'endoscopy']);
    for (const c of [...LEVELS, ...SUBJECTS, ...CONTENT_TYPES, ...MODALITIES]) assert.match(c.zh, /\S/, c.id);
    let longest = 0;
    for (const l of LEVELS) for (const s of SUBJECTS) for (const c of CONTENT_TYPES) {
      const t = findTemplate(`edu.${l.id}.${s.id}.${c.id}`);
      assert.ok(t, `${l.id}.${s.id}.${c.id}`);
      longest = Math.max(longest, t.prompt.replace('{subject}', '').length);
      assert.deepStrictEqual(subjectOf(applyTemplate(t, 'the water cycle'), t.id)?.subject, 'the water cycle');
    }
    assert.ok(longest <= PROMPT.maxWithTemplate - PROMPT.maxChars, `${longest}`);
  });

  it('composes an id from a directive\'s level/subject/type or modality/view', () => {
    assert.strictEqual(composeTemplateId({ level: 'high', subject: 'biology', type: 'process' }), 'edu.high.biology.process');
    assert.strictEqual(composeTemplateId({ subject: 'physics' }), 'edu.middle.physics');
    assert.strictEqual(composeTemplateId({ modality: 'ct', view: 'axial' }), 'med.ct.axial');
    assert.strictEqual(composeTemplateId({ view: 'frontal' }), 'med.illustration.frontal');
    assert.strictEqual(composeTemplateId({}), undefined);
  });
});

describe('user templates (.course-illustrator/templates.json)', () => {
  it('keeps the valid ones and names each problem with the fix', () => {
    const r = parseUserTemplates({
      templates: [
        { id: 'my-anatomy', label: 'My anatomy plates', prompt: '{subject}, engraving, sepia', negative: 'colour', domain: 'medical', size: '768x512' },
        { id: 'Bad Id', prompt: '{subject}' },
        { id: 'no-subject', prompt: 'a watercolour' },
        { id: 'education-primary', prompt: '{subject}' },
        { id: 'my-anatomy', prompt: '{subject}, again' },
        { id: 'sized', prompt: '{subject}', size: '500x500' },
      ],
    }, '.course-illustrator/templates.json');
    assert.deepStrictEqual(r.templates, [{ id: 'my-anatomy', label: 'My anatomy plates', prompt: '{subject}, engraving, sepia', negative: 'colour', domain: 'medical', size: '768x512' }]);
    assert.strictEqual(r.problems.length, 5);
    assert.match(r.problems[0], /template 2: "id" must be lowercase/);
    assert.match(r.problems[1], /\(no-subject\): "prompt" must contain \{subject\}/);
    assert.match(r.problems[2], /the id "education-primary" is taken/);
    assert.match(r.problems[3], /the id "my-anatomy" is taken/);
    assert.match(r.problems[4], /"size" must be WIDTHxHEIGHT in multiples of 8/);
    assert.strictEqual(findTemplate('my-anatomy', r.templates)?.domain, 'medical');
    assert.match(parseUserTemplates({ nope: 1 }, 'settings').problems[0], /write \{ "templates"/);
  });

  it('the JSON schema VS Code checks the file with agrees on what a template is', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(__dirname, '../../schemas/templates.schema.json'), 'utf8'));
    const t = schema.definitions.template;
    assert.deepStrictEqual(t.required, ['id', 'prompt']);
    assert.deepStrictEqual(Object.keys(t.properties).sort(), ['domain', 'id', 'label', 'negative', 'prompt', 'size']);
    assert.ok(new RegExp(t.properties.id.pattern).test('my-anatomy') && !new RegExp(t.properties.id.pattern).test('Bad Id'));
    assert.deepStrictEqual(t.properties.domain.enum, ['general', 'education', 'medical']);
  });
});
