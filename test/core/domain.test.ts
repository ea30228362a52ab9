import assert from 'node:assert/strict';
import {
  AI_LABEL_FIELD,
  AI_LABEL_MEDICAL,
  decideDomain,
  domainFromFields,
  labelLanguage,
  labelledAlt,
  looksMedical,
  readFrontMatter,
} from '../../src/core/domain';

describe('core/domain: the medical label by declaration', () => {
  it('takes the strongest declaration: a stub can add the label, never remove a document\'s', () => {
    assert.equal(decideDomain([]), undefined);
    assert.deepEqual(decideDomain([{ domain: 'medical', source: 'front matter' }, { domain: 'general', source: 'directive' }]), { domain: 'medical', source: 'front matter' });
    assert.deepEqual(decideDomain([undefined, { domain: 'education', source: 'template' }, { domain: 'medical', source: 'directive' }]), { domain: 'medical', source: 'directive' });
    assert.deepEqual(decideDomain([{ domain: 'education', source: 'setting' }, { domain: 'general', source: 'directive' }]), { domain: 'education', source: 'setting' });
  });

  it('reads illustrate.domain and lang from front matter, flow or block form, and says what it cannot use', () => {
    assert.deepEqual(readFrontMatter('---\ntitle: Cardiology\nillustrate: { domain: medical }\n---\n# x'), { domain: 'medical', problems: [] });
    assert.deepEqual(readFrontMatter('---\nlang: zh-CN\nillustrate:\n  domain: "medical"\n  style: x\nother: 1\n---\n'), { domain: 'medical', lang: 'zh-CN', problems: [] });
    assert.deepEqual(readFrontMatter('\uFEFF---\r\nillustrate: {domain: education}\r\n---\r\n'), { domain: 'education', problems: [] });
    assert.deepEqual(readFrontMatter('# no front matter\nillustrate: { domain: medical }\n'), { problems: [] }, 'only at the very top');
    assert.deepEqual(readFrontMatter('---\nillustrate: { domain: medical }\n'), { problems: [] }, 'an unclosed block is not front matter');
    assert.match(readFrontMatter('---\nillustrate: { domain: clinical }\n---\n').problems[0], /illustrate.domain must be general, education, medical, got "clinical"/);
    assert.match(readFrontMatter('---\nillustrate: medical\n---\n').problems[0], /write "illustrate: \{ domain: medical \}"/);
  });

  it('writes the label in the document\'s language: its lang, else Chinese when Han characters carry the text', () => {
    assert.equal(labelLanguage('# 心脏的结构\n\n心脏由四个腔组成。'), 'zh');
    assert.equal(labelLanguage('# The heart\n\nThe heart has four chambers (心脏).'), 'en');
    assert.equal(labelLanguage('# The heart', 'zh-Hans'), 'zh');
    assert.equal(labelLanguage('# 心脏', 'en'), 'en');
  });

  it('ends a medical image\'s alt text with "(AI-generated)" once, in that language', () => {
    assert.equal(labelledAlt('chest X-ray, pneumonia', 'medical', 'en'), 'chest X-ray, pneumonia (AI-generated)');
    assert.equal(labelledAlt('chest X-ray (AI-generated)', 'medical', 'en'), 'chest X-ray (AI-generated)');
    assert.equal(labelledAlt('胸部X光片', 'medical', 'zh'), '胸部X光片（AI生成）');
    assert.equal(labelledAlt('a volcano', 'education', 'en'), 'a volcano');
  });

  it('suggests (never decides) medical for typical clinical prompts, in English and Chinese', () => {
    const clinical = [
      'CXR showing right lower lobe consolidation', '12-lead ECG with ST elevation', 'H&E stained section of a lymph node',
      'axial CT of the abdomen', 'fundus photograph with diabetic retinopathy', 'dermoscopy of a melanoma', 'MRI of the knee, sagittal',
      'ultrasound of the gallbladder', 'endoscopy view of a gastric ulcer', 'histology of liver tissue', 'a radiograph of a wrist fracture',
      'pathology slide of carcinoma', 'echocardiogram four-chamber view', 'a patient with pneumonia', 'EKG strip', 'biopsy specimen',
      '胸部X光片，肺炎', '心电图，ST段抬高', '肝脏组织切片，HE染色', '腹部CT影像', '眼底照片', '皮肤黑色素瘤', '胃镜下溃疡', '膝关节核磁共振', '病理切片',
    ];
    for (const p of clinical) assert.ok(looksMedical(p), p);
    for (const p of ['a friendly heart diagram for primary school', 'a heartwarming story illustration', 'a CTO at a desk', 'an organic farm', 'a red apple', '植物细胞结构图']) {
      assert.ok(!looksMedical(p), p);
    }
  });

  it('finds an image\'s own label in its parameters, so regenerating it keeps the label', () => {
    assert.deepEqual(domainFromFields({ [AI_LABEL_FIELD]: AI_LABEL_MEDICAL }), { domain: 'medical', source: 'image' });
    assert.equal(domainFromFields({ Steps: '20' }), undefined);
    assert.equal(domainFromFields(undefined), undefined);
  });
});
