// The words prompt templates are made of, as data: school levels, subjects and content types for
// teaching pictures; medical modalities and views for medical ones. A template is a choice of
// each (templates.ts composes the prompt); reviewers and translators edit lists, not code.
// `zh` labels are what a Chinese interface shows; the prompt words stay English (the model's).

export interface Choice {
  id: string;
  label: string;
  zh: string;
  /** The words the prompt gets. */
  words: string;
}

/** School levels: the audience decides how simple or detailed the picture is. */
export const LEVELS: readonly (Choice & { style: string })[] = [
  { id: 'primary', label: 'Primary school', zh: '小学', words: 'primary school', style: 'simple friendly flat illustration, bright colours, clear shapes' },
  { id: 'middle', label: 'Middle school', zh: '初中', words: 'middle school', style: 'clean educational illustration, clear shapes, textbook style' },
  { id: 'high', label: 'High school', zh: '高中', words: 'high school', style: 'clean detailed textbook illustration, accurate proportions' },
  { id: 'university', label: 'University', zh: '大学', words: 'university', style: 'detailed scientific illustration, precise, textbook figure' },
  { id: 'medical-school', label: 'Medical school', zh: '医学院', words: 'medical school', style: 'precise medical textbook illustration, anatomically accurate' },
];

export const SUBJECTS: readonly Choice[] = [
  { id: 'biology', label: 'Biology', zh: '生物', words: 'biology' },
  { id: 'chemistry', label: 'Chemistry', zh: '化学', words: 'chemistry' },
  { id: 'physics', label: 'Physics', zh: '物理', words: 'physics' },
  { id: 'mathematics', label: 'Mathematics', zh: '数学', words: 'mathematics' },
  { id: 'geography', label: 'Geography', zh: '地理', words: 'geography' },
  { id: 'history', label: 'History', zh: '历史', words: 'history' },
  { id: 'chinese', label: 'Chinese language and literature', zh: '语文', words: 'Chinese literature' },
  { id: 'english', label: 'English', zh: '英语', words: 'English language' },
  { id: 'civics', label: 'Civics', zh: '道德与法治', words: 'civics' },
  { id: 'it', label: 'Information technology', zh: '信息技术', words: 'information technology' },
  { id: 'art', label: 'Art', zh: '美术', words: 'art' },
  { id: 'music', label: 'Music', zh: '音乐', words: 'music' },
  { id: 'pe-health', label: 'Physical education and health', zh: '体育与健康', words: 'physical education and health' },
];

export const CONTENT_TYPES: readonly Choice[] = [
  { id: 'labelled-diagram', label: 'Labelled diagram', zh: '标注图', words: 'labelled diagram' },
  { id: 'process', label: 'Process or cycle', zh: '过程或循环图', words: 'process diagram with arrows, cycle' },
  { id: 'cross-section', label: 'Cross-section', zh: '剖面图', words: 'cross-section diagram' },
  { id: 'scene', label: 'Scene', zh: '场景图', words: 'illustrated scene' },
  { id: 'map', label: 'Map', zh: '地图', words: 'illustrated map' },
  { id: 'timeline', label: 'Timeline', zh: '时间轴', words: 'illustrated timeline' },
  { id: 'experiment', label: 'Experiment set-up', zh: '实验装置图', words: 'laboratory experiment set-up, apparatus' },
  { id: 'portrait', label: 'Portrait', zh: '人物肖像', words: 'portrait' },
  { id: 'chart', label: 'Chart-like figure', zh: '图表', words: 'chart-like infographic figure' },
];

/** Technical requirements every teaching picture shares: printable, projectable, no fake text. */
export const TEACHING_TECHNICAL = 'white background, high contrast, no text, no watermark';
export const TEACHING_NEGATIVE = 'text, letters, watermark, signature, blurry, lowres, deformed, cropped';

/** Medical modalities: what kind of image a medical picture imitates. */
export const MODALITIES: readonly Choice[] = [
  { id: 'illustration', label: 'Medical illustration', zh: '医学插图', words: 'medical illustration' },
  { id: 'x-ray', label: 'X-ray', zh: 'X线片', words: 'X-ray radiograph, grayscale' },
  { id: 'ct', label: 'CT', zh: 'CT', words: 'CT scan slice, grayscale' },
  { id: 'mri', label: 'MRI', zh: '磁共振', words: 'MRI scan slice, grayscale' },
  { id: 'ultrasound', label: 'Ultrasound', zh: '超声', words: 'ultrasound image, grayscale, fan-shaped' },
  { id: 'clinical-photo', label: 'Clinical photograph', zh: '临床照片', words: 'clinical photograph, neutral lighting' },
  { id: 'histology', label: 'Histology', zh: '组织学切片', words: 'histology micrograph, H&E stained tissue, microscope view' },
  { id: 'endoscopy', label: 'Endoscopy', zh: '内镜', words: 'endoscopy view' },
];

export const VIEWS: readonly Choice[] = [
  { id: 'default', label: 'Usual view', zh: '常规视图', words: '' },
  { id: 'frontal', label: 'Frontal', zh: '正位', words: 'frontal view' },
  { id: 'lateral', label: 'Lateral', zh: '侧位', words: 'lateral view' },
  { id: 'axial', label: 'Axial', zh: '轴位', words: 'axial view' },
  { id: 'sagittal', label: 'Sagittal', zh: '矢状位', words: 'sagittal view' },
  { id: 'coronal', label: 'Coronal', zh: '冠状位', words: 'coronal view' },
  { id: 'close-up', label: 'Close-up', zh: '特写', words: 'close-up' },
];

/** What a medical picture is for, at the end of its prompt. */
export const MEDICAL_PURPOSE = 'for medical education, clearly visible features';
export const MEDICAL_NEGATIVE = `${TEACHING_NEGATIVE}, gore`;
