// Which images carry the medical label, decided by declaration, never by guessing from words.
// A document (front matter), a folder or workspace (the resource-scoped courseIllustrator.domain
// setting), a directive (`domain: medical`), a medical template, the CLI's --domain or the
// image being regenerated (its own label) declare it; the strongest declaration wins, so a stub
// can add the label but never take away one its document, folder or workspace declares.
// Words in the prompt only suggest ("This looks medical: label it?"). Pure: no vscode, no Node.

import type { ContentDomain } from './protocol';

export type DomainSource = 'front matter' | 'setting' | 'directive' | 'template' | 'image' | 'command line';

export interface DomainDeclaration {
  domain: ContentDomain;
  source: DomainSource;
}

export const CONTENT_DOMAINS: readonly ContentDomain[] = ['general', 'education', 'medical'];

const RANK: Record<ContentDomain, number> = { general: 0, education: 1, medical: 2 };

/** The strongest of the declarations (medical over education over general); general when none. */
export function decideDomain(declarations: readonly (DomainDeclaration | undefined)[]): DomainDeclaration | undefined {
  let best: DomainDeclaration | undefined;
  for (const d of declarations) if (d && (!best || RANK[d.domain] > RANK[best.domain])) best = d;
  return best;
}

/** What a chosen template declares: its domain, unless it is a general one. */
export function templateDeclaration(template: { domain: ContentDomain } | undefined): DomainDeclaration | undefined {
  return template && template.domain !== 'general' ? { domain: template.domain, source: 'template' } : undefined;
}

export function isContentDomain(v: unknown): v is ContentDomain {
  return typeof v === 'string' && (CONTENT_DOMAINS as readonly string[]).includes(v);
}

// ------------------------------------------------------------------ front matter

export interface FrontMatter {
  /** `illustrate: { domain: medical }` or an `illustrate:` block with `domain: medical`. */
  domain?: ContentDomain;
  /** `lang:` / `language:` (e.g. zh-CN), used for the label's language. */
  lang?: string;
  /** What was written but not understood, one sentence each. */
  problems: string[];
}

const FRONT_MATTER_MAX_LINES = 200;

/**
 * Reads the few keys we use from a Markdown document's YAML front matter (the block between
 * `---` lines at its very top). Only plain scalars, one flow mapping and one indented block
 * are understood: enough for `illustrate: { domain: medical }`, without a YAML library.
 */
export function readFrontMatter(text: string): FrontMatter {
  const out: FrontMatter = { problems: [] };
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/, FRONT_MATTER_MAX_LINES + 2);
  if (lines[0]?.trim() !== '---') return out;
  const end = lines.findIndex((l, i) => i > 0 && (l.trim() === '---' || l.trim() === '...'));
  if (end < 0) return out;
  let inIllustrate = false;
  for (const raw of lines.slice(1, end)) {
    if (/^\s*(#|$)/.test(raw)) continue;
    const indented = /^\s/.test(raw);
    const m = /^\s*([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$/.exec(raw);
    if (!m) continue;
    const [, key, value] = m;
    if (!indented) inIllustrate = false;
    if (!indented && key === 'illustrate') {
      const flow = /^\{(.*)\}$/.exec(value);
      if (flow) {
        for (const pair of flow[1].split(',')) {
          const kv = /^\s*([\w-]+)\s*:\s*(.*?)\s*$/.exec(pair);
          if (kv) take(out, kv[1], kv[2]);
        }
      } else if (value === '') inIllustrate = true;
      else out.problems.push(`illustrate: write "illustrate: { domain: medical }", got "${value.slice(0, 60)}".`);
    } else if (indented && inIllustrate) take(out, key, value);
    else if (!indented && (key === 'lang' || key === 'language')) out.lang = unquote(value).slice(0, 35);
  }
  return out;
}

function unquote(v: string): string {
  const m = /^(['"])(.*)\1$/.exec(v.trim());
  return (m ? m[2] : v).trim();
}

function take(out: FrontMatter, key: string, raw: string): void {
  if (key !== 'domain') return;
  const v = unquote(raw).toLowerCase();
  if (isContentDomain(v)) out.domain = v;
  else out.problems.push(`illustrate.domain must be ${CONTENT_DOMAINS.join(', ')}, got "${v.slice(0, 40)}".`);
}

// ------------------------------------------------------------------ language of the label

export type LabelLanguage = 'en' | 'zh';

const HAN = /[\u3400-\u9fff\uf900-\ufaff]/g;

/**
 * The language the label and alt text are written in: the front matter's `lang` when it names
 * Chinese or another language, else Chinese when Han characters make up a good part of the text.
 */
export function labelLanguage(text: string, lang?: string): LabelLanguage {
  if (lang) return /^zh\b/i.test(lang) ? 'zh' : 'en';
  const sample = text.slice(0, 20000);
  const han = sample.match(HAN)?.length ?? 0;
  const letters = sample.match(/[A-Za-z]/g)?.length ?? 0;
  // A Chinese character carries about as much as a short English word.
  return han > 0 && han * 4 >= letters ? 'zh' : 'en';
}

/**
 * The visible strip on medical images, a line per line. The Chinese one keeps the English line
 * under it: readable where the system has no Chinese font, and wherever the image travels.
 */
export const MEDICAL_LABEL_TEXT: Record<LabelLanguage, string> = {
  en: 'AI-generated teaching image — not for diagnosis',
  zh: 'AI生成教学图像——不可用于诊断\nAI-generated teaching image — not for diagnosis',
};

/** What the alt text of a medical image ends with. */
export const AI_ALT_SUFFIX: Record<LabelLanguage, string> = { en: ' (AI-generated)', zh: '（AI生成）' };

/** The alt text of an image in `domain`: medical ones say they are AI-generated, once. */
export function labelledAlt(alt: string, domain: ContentDomain | undefined, lang: LabelLanguage): string {
  if (domain !== 'medical') return alt;
  const trimmed = alt.trimEnd();
  if (Object.values(AI_ALT_SUFFIX).some((s) => trimmed.endsWith(s.trim()))) return trimmed;
  return trimmed + AI_ALT_SUFFIX[lang];
}

// ------------------------------------------------------------------ suggestions from words

// Words that suggest a medical image: anatomy, pathology, clinical imaging and its usual
// abbreviations, in English and Chinese. They never decide; they make the extension ask.
const MEDICAL_WORDS_EN = [
  'anatomy', 'anatomical', 'pathology', 'pathological', 'histology', 'histological', 'histopathology', 'radiology',
  'radiograph', 'radiographic', 'x-ray', 'xray', 'cxr', 'ecg', 'ekg', 'eeg', 'mri', 'ct', 'ct scan', 'pet', 'ultrasound',
  'sonography', 'echocardiogram', 'angiogram', 'angiography', 'mammogram', 'endoscopy', 'endoscopic', 'colonoscopy',
  'laparoscopic', 'dermoscopy', 'fundus', 'fundoscopy', 'retinal', 'biopsy', 'h&e', 'h & e', 'stain', 'tumor', 'tumour',
  'cancer', 'carcinoma', 'melanoma', 'lymphoma', 'metastasis', 'lesion', 'fracture', 'pneumonia', 'infarct',
  'infarction', 'stenosis', 'aneurysm', 'clinical', 'patient', 'diagnosis', 'diagnostic', 'symptom', 'surgery',
  'surgical', 'cardiac', 'pulmonary', 'renal', 'hepatic', 'dermatology', 'pathogen', 'medical', 'medicine',
];
const MEDICAL_WORDS_ZH = [
  '解剖', '病理', '组织学', '切片', '影像', 'X光', 'X线', '胸片', '心电图', '脑电图', '核磁', '磁共振', '超声', 'B超', '彩超',
  '内镜', '胃镜', '肠镜', '眼底', '活检', '肿瘤', '癌', '黑色素瘤', '病变', '骨折', '肺炎', '梗死', '临床', '患者', '病人',
  '诊断', '症状', '手术', '医学', '医疗', '皮肤镜', '血管造影',
];
const MEDICAL_RE = new RegExp(
  `(?:^|[^a-z0-9])(?:${MEDICAL_WORDS_EN.map((w) => w.replace(/[&]/g, '\\&').replace(/[-\s]/g, '[-\\s]?')).join('|')})(?=$|[^a-z0-9])|${MEDICAL_WORDS_ZH.join('|')}`,
  'i',
);

/** True when the words of a prompt suggest a medical image (a question to ask, not a decision). */
export function looksMedical(prompt: string): boolean {
  return MEDICAL_RE.test(prompt.slice(0, 5000));
}

// ------------------------------------------------------------------ in the image's parameters

/** The infotext field every medical image carries (A1111 keeps unknown fields as they are). */
export const AI_LABEL_FIELD = 'AI label';
export const AI_LABEL_MEDICAL = 'AI-generated teaching image, not for diagnosis';

/** An image's own declaration, from its infotext fields: regenerating it keeps its label. */
export function domainFromFields(fields: Readonly<Record<string, string>> | undefined): DomainDeclaration | undefined {
  const v = fields?.[AI_LABEL_FIELD];
  return v && /not for diagnosis/i.test(v) ? { domain: 'medical', source: 'image' } : undefined;
}
