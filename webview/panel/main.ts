// Results panel, browser side: the prompt form, live token counter, progress with a live preview,
// the queue and the results grid. It only ever names images by the ids the extension gave it.

// First: the translations must be loaded before any words are shown.
import '../shared/l10n';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textarea/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { VscodeCheckbox } from '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/index.js';
import type { VscodeTextarea } from '@vscode-elements/elements/dist/vscode-textarea/index.js';
import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { validateEmphasis } from '../../src/core/emphasis';
import { looksMedical } from '../../src/core/domain';
import { promptLanguageProblem } from '../../src/core/promptLanguage';
import { templateLabel } from '../../src/core/templateLabels';
import { applyTemplate } from '../../src/core/templates';
import { formatDurationWords } from '../../src/core/format';
import { SIZE, randomSeed } from '../../src/core/limits';
import {
  FromPanel,
  ImageAction,
  PanelSettings,
  QueuedJob,
  ResultImage,
  SCHEDULER_CHOICES,
  SchedulerChoice,
  ToPanel,
  panelSettingsProblems,
  problemText,
} from '../../src/core/webviewMessages';
import * as l10n from '@vscode/l10n';
import { byId, el, getVsCodeApi, pngBlobUrl } from '../shared/vscodeApi';
import { compareView } from './compare';
import { SourceControls } from './sourceImage';
import { TemplatePicker } from './templatePicker';

interface SavedState {
  settings: PanelSettings;
}

const vscode = getVsCodeApi<FromPanel.Type, SavedState>();
const post = (m: FromPanel.Type) => vscode.postMessage(m);

const prompt = byId<VscodeTextarea>('prompt');
const negative = byId<VscodeTextarea>('negative');
const modelPrompt = byId<VscodeTextarea>('model-prompt');
const translateButton = byId<HTMLElement & { disabled: boolean }>('model-prompt-translate');
const translateStatus = byId('model-prompt-status');
const size = byId<VscodeSingleSelect>('size');
const width = byId<VscodeTextfield>('width');
const height = byId<VscodeTextfield>('height');
const customSize = byId('custom-size');
const steps = byId<VscodeTextfield>('steps');
const guidance = byId<VscodeTextfield>('guidance');
const scheduler = byId<VscodeSingleSelect>('scheduler');
const templates = new TemplatePicker(templateChanged);
const seed = byId<VscodeTextfield>('seed');
const seedLock = byId<VscodeCheckbox>('seed-lock');
const batch = byId<VscodeTextfield>('batch');
const fast = byId<VscodeCheckbox>('fast');
const generateBtn = byId<HTMLElement & { disabled: boolean }>('generate');
const cancelBtn = byId<HTMLElement & { disabled: boolean }>('cancel');
const formError = byId('form-error');
const progressBox = byId('progress');
const previewImg = byId<HTMLImageElement>('preview');
const progressText = byId('progress-text');
const progressRing = byId('progress-ring');
const queueList = byId('queue');
const resultsGrid = byId('results');
const resultsEmpty = byId('results-empty');
const target = byId('target');

const saved = vscode.getState();
/**
 * Fields typed in before the extension's first message (`init`) arrives: init fills the whole
 * form, and what a teacher typed in the panel's first moments must not be wiped by it.
 */
let initialised = false;
const typedEarly = new Set<keyof PanelSettings>();
const source = new SourceControls({
  post,
  sized: (w, h) => {
    // The image's own size, as the engine would choose it: within the limits, a multiple of 8.
    const scale = Math.min(1, SIZE.max / Math.max(w, h));
    const side = (n: number) => Math.max(SIZE.min, Math.floor((n * scale) / SIZE.multiple) * SIZE.multiple);
    writeSettings({ width: side(w), height: side(h) });
  },
  changed: () => {
    validateForm();
    save();
  },
  notice: (level, message) => showNotice(level, message),
});
let trusted = true;
let runningJob: string | undefined;
let previewUrl: string | undefined;
const results = new Map<string, ResultImage>();

// ------------------------------------------------------------------ form <-> settings

function num(field: VscodeTextfield): number {
  return field.value.trim() === '' ? NaN : Number(field.value);
}

function readSettings(): PanelSettings {
  const seedText = seed.value.trim();
  return {
    prompt: prompt.value,
    negativePrompt: negative.value,
    width: num(width),
    height: num(height),
    steps: num(steps),
    guidance: num(guidance),
    scheduler: (SCHEDULER_CHOICES as readonly string[]).includes(scheduler.value) ? (scheduler.value as SchedulerChoice) : 'default',
    seed: seedText === '' ? undefined : Number(seedText),
    seedLocked: seedLock.checked,
    batch: num(batch),
    template: templates.id() || undefined,
    ...(source.active ? { strength: source.strengthValue() } : {}),
    fast: fast.checked,
    ...(modelPrompt.value.trim() ? { modelPrompt: modelPrompt.value } : {}),
  };
}

/** The English prompt field: offered when the prompt is in a script the model does not read, or filled. */
function showModelPrompt(): void {
  byId('model-prompt-field').hidden = !promptLanguageProblem(prompt.value) && modelPrompt.value.trim() === '';
  // The local model translates Chinese; while it works the button waits for its answer.
  translateButton.disabled = translating !== undefined || !HAN.test(prompt.value);
}

// ------------------------------------------------------------------ translation (local model, in the engine)

const HAN = /\p{Script=Han}/u;
let translateCounter = 0;
/** The request whose answer is awaited, if any. */
let translating: number | undefined;

translateButton.addEventListener('click', () => {
  if (translating !== undefined || !HAN.test(prompt.value)) return;
  translating = ++translateCounter;
  translateButton.disabled = true;
  translateStatus.textContent = l10n.t('Translating…');
  post({ type: 'translate', requestId: translating, text: prompt.value });
});

function showTranslation(m: ToPanel.Translated): void {
  if (m.requestId !== translating) return; // an answer to an earlier page of this webview
  translating = undefined;
  if (m.text !== undefined) {
    modelPrompt.value = m.text;
    translateStatus.textContent = '';
    // The counter and the warnings follow what the model reads now.
    onTextChanged(prompt, 'prompt');
    showTemplateHint();
    save();
  } else {
    translateStatus.textContent = m.error ?? '';
  }
  showModelPrompt();
}

/** What the engine will be given for the prompt box: the prompt (or the English one) wrapped in the chosen template. */
function promptAsSent(): string {
  const t = templates.template();
  const text = modelPrompt.value.trim() ? modelPrompt.value : prompt.value;
  return t && text.trim() !== '' ? applyTemplate(t, text) : text;
}

function showTemplateHint(): void {
  const t = templates.template();
  const hint = byId('template-hint');
  if (!t) {
    hint.textContent = l10n.t('The prompt is used as written.');
    return;
  }
  const subject = prompt.value.trim() === '' ? l10n.t('your prompt') : prompt.value.trim().replace(/\s+/g, ' ');
  const sent = applyTemplate(t, subject);
  hint.textContent =
    t.domain === 'medical' ? l10n.t('Sent as “{0}”. Images get a visible “AI-generated teaching image” label.', sent) : l10n.t('Sent as “{0}”.', sent);
}

// ------------------------------------------------------------------ the medical label

let docLabel: Omit<ToPanel.Label, 'type'> = { medical: false, canDeclare: false };
const labelStatus = byId('label-status');
const labelDeclare = byId('label-declare');

/** Says whether the next image carries the medical label and who declared it; words only suggest. */
function showLabel(): void {
  const t = templates.template();
  const by = docLabel.medical ? docLabel.declaredBy : t?.domain === 'medical' ? l10n.t('the template') : undefined;
  if (by) {
    labelStatus.textContent = l10n.t('Medical label on (declared by {0}): "AI-generated teaching image — not for diagnosis".', by);
    labelDeclare.hidden = true;
    return;
  }
  const suggest = looksMedical(promptAsSent());
  labelStatus.textContent = suggest ? l10n.t('This looks medical, but nothing declares it: no medical label.') : '';
  labelDeclare.hidden = !(suggest && docLabel.canDeclare && trusted);
}

labelDeclare.addEventListener('click', () => post({ type: 'declareMedical' }));

// ------------------------------------------------------------------ LoRAs

const loraAdd = byId<VscodeSingleSelect>('lora-add');

function showLoras(names: readonly string[]): void {
  byId('lora-field').hidden = names.length === 0;
  const options = [el('vscode-option', { text: l10n.t('Add a LoRA…'), attrs: { value: '' } })];
  for (const n of names) options.push(el('vscode-option', { text: n, attrs: { value: n } }));
  loraAdd.replaceChildren(...options);
  loraAdd.value = '';
}

loraAdd.addEventListener('change', () => {
  const name = loraAdd.value;
  if (!name) return;
  const text = prompt.value.trimEnd();
  prompt.value = `${text}${text ? ' ' : ''}<lora:${name}:1>`;
  loraAdd.value = '';
  onTextChanged(prompt, 'prompt');
  showTemplateHint();
  validateForm();
  save();
  prompt.focus();
});

function writeSettings(s: Partial<PanelSettings>): void {
  if (s.prompt !== undefined) prompt.value = s.prompt;
  if (s.negativePrompt !== undefined) negative.value = s.negativePrompt;
  if ('modelPrompt' in s || s.prompt !== undefined) modelPrompt.value = s.modelPrompt ?? '';
  if (s.width !== undefined) width.value = String(s.width);
  if (s.height !== undefined) height.value = String(s.height);
  if (s.steps !== undefined) steps.value = String(s.steps);
  if (s.guidance !== undefined) guidance.value = String(s.guidance);
  if (s.scheduler !== undefined) scheduler.value = s.scheduler;
  if ('seed' in s) seed.value = s.seed === undefined ? '' : String(s.seed);
  if (s.seedLocked !== undefined) seedLock.checked = s.seedLocked;
  if (s.batch !== undefined) batch.value = String(s.batch);
  if ('template' in s) templates.set(s.template);
  source.setStrength(s.strength);
  showModelPrompt();
  if (s.fast !== undefined) fast.checked = s.fast;
  showFast();
  showTemplateHint();
  // A template brought in (Reuse settings, Open in panel) may be a medical one.
  showLabel();
  syncSizePreset();
  onTextChanged(prompt, 'prompt');
  onTextChanged(negative, 'negativePrompt');
  validateForm();
  save();
}

/** `s` less the fields the teacher typed in before the first init (see typedEarly). */
function withoutTypedEarly(s: PanelSettings): Partial<PanelSettings> {
  if (initialised || typedEarly.size === 0) return s;
  const kept: Partial<PanelSettings> = { ...s };
  for (const key of typedEarly) delete kept[key];
  // The English prompt goes with the prompt it was written for.
  if (typedEarly.has('prompt') && !typedEarly.has('modelPrompt')) delete kept.modelPrompt;
  return kept;
}

function syncSizePreset(): void {
  const key = `${width.value}x${height.value}`;
  const preset = [...size.querySelectorAll('vscode-option')].some((o) => o.getAttribute('value') === key);
  if (size.value !== 'custom' || preset) size.value = preset ? key : 'custom';
  customSize.hidden = size.value !== 'custom';
}

function save(): void {
  vscode.setState({ settings: readSettings() });
}

/**
 * Problems that stop Generate, as sentences. The ranges are checked by the same core function
 * the extension validates the form with (panelSettingsProblems), so the two never disagree.
 */
function formProblems(s: PanelSettings): string[] {
  const empty = s.prompt.trim() === '' ? [l10n.t('Write a prompt first.')] : [];
  return [...empty, ...panelSettingsProblems(s).map(problemText)];
}

function validateForm(): boolean {
  const s = readSettings();
  const problems = panelSettingsProblems(s);
  const bad = new Set(problems.map((p) => p.field));
  width.invalid = bad.has('width');
  height.invalid = bad.has('height');
  steps.invalid = bad.has('steps');
  guidance.invalid = bad.has('guidance');
  seed.invalid = bad.has('seed');
  batch.invalid = bad.has('batch');
  source.markInvalid(bad.has('strength'));
  // An empty prompt is not an error to shout about while typing; it only disables Generate.
  formError.textContent = problems.map(problemText).join(' ');
  const ok = problems.length === 0 && s.prompt.trim() !== '';
  generateBtn.disabled = !trusted || !ok;
  return ok;
}

// ------------------------------------------------------------------ token counter (debounced)

let tokenRequest = 0;
const latestRequest: Record<'prompt' | 'negativePrompt', number> = { prompt: 0, negativePrompt: 0 };
const tokenTimers: Record<string, number | undefined> = {};

function onTextChanged(field: VscodeTextarea, name: 'prompt' | 'negativePrompt'): void {
  const problemsBox = byId(name === 'prompt' ? 'prompt-problems' : 'negative-problems');
  const problems = validateEmphasis(field.value);
  problemsBox.replaceChildren(
    ...problems.map((p) =>
      el('li', { text: l10n.t('Column {0}: {1} — “{2}”', p.start + 1, p.message, field.value.slice(p.start, Math.max(p.end, p.start + 1)).slice(0, 30)) }),
    ),
  );
  field.invalid = problems.length > 0;
  // The model reads English: say so under the prompt (a warning, Generate stays possible).
  const language = name === 'prompt' && !modelPrompt.value.trim() ? promptLanguageProblem(field.value) : undefined;
  if (language) problemsBox.append(el('li', { className: 'warning', text: language }));
  window.clearTimeout(tokenTimers[name]);
  tokenTimers[name] = window.setTimeout(() => {
    const requestId = ++tokenRequest;
    latestRequest[name] = requestId;
    // The counter counts what the model reads: for the prompt, with the template around it.
    post({ type: 'tokenize', field: name, requestId, text: name === 'prompt' ? promptAsSent() : field.value });
  }, 200);
}

function showTokens(m: ToPanel.Tokens): void {
  if (m.requestId !== latestRequest[m.field]) return; // an answer to older text
  const box = byId(m.field === 'prompt' ? 'prompt-tokens' : 'negative-tokens');
  if (m.info) {
    box.textContent = m.info.text;
    box.title = m.info.over
      ? l10n.t('{0} tokens: encoded in {1} windows of 75 tokens.', m.info.count, m.info.windows)
      : l10n.t('{0} of 75 tokens in one CLIP window.', m.info.count);
    box.classList.toggle('over', m.info.over);
  } else {
    box.textContent = '–/75';
    box.title = m.error ?? l10n.t('Token count unavailable.');
    box.classList.remove('over');
  }
}

// ------------------------------------------------------------------ progress, queue

function setRunning(jobId: string | undefined): void {
  runningJob = jobId;
  cancelBtn.disabled = jobId === undefined;
  progressRing.hidden = jobId === undefined;
  // Once shown, the box stays: after a job it says how the job ended.
  if (jobId !== undefined) progressBox.hidden = false;
}

let lastAnnounced = '';

function showProgress(m: ToPanel.Progress): void {
  if (runningJob !== m.jobId) setRunning(m.jobId);
  progressBox.hidden = false;
  const ofImage = (text: string) => (m.images > 1 ? l10n.t('Image {0}/{1} · {2}', m.image + 1, m.images, text) : text);
  const stage = m.stage === 'denoise' ? l10n.t('Step {0}/{1}', m.step, m.total)
    : m.stage === 'load' && m.total > 0 ? l10n.t('Preparing the model for this computer… {0}/{1}', m.step, m.total)
    : stageName(m.stage);
  progressText.textContent = ofImage(m.etaMs > 0 ? l10n.t('{0} · about {1} left', stage, formatDurationWords(m.etaMs)) : stage);
  // Screen readers hear stage changes and every quarter, not every step.
  const quarter = m.stage === 'denoise' && m.total > 0 ? Math.floor((4 * m.step) / m.total) : -1;
  const announce = m.stage === 'denoise' ? ofImage(l10n.t('{0}% done', quarter * 25)) : stageName(m.stage);
  if (announce !== lastAnnounced && (m.stage !== 'denoise' || quarter > 0)) {
    lastAnnounced = announce;
    byId('progress-announce').textContent = announce;
  }
  if (m.previewPng) {
    const url = pngBlobUrl(m.previewPng);
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = url;
    previewImg.src = url;
    previewImg.hidden = false;
  }
}

function stageName(stage: string): string {
  switch (stage) {
    case 'load':
      return l10n.t('Loading the model…');
    case 'encode':
      return l10n.t('Reading the prompt…');
    case 'decode':
      return l10n.t('Decoding…');
    case 'save':
      return l10n.t('Saving…');
    default:
      return stage;
  }
}

function showQueue(jobs: readonly QueuedJob[]): void {
  const waiting = jobs.filter((j) => j.position > 0).sort((a, b) => a.position - b.position);
  queueList.replaceChildren(
    ...waiting.map((j) =>
      el('li', {}, [
        el('span', { className: 'queue-prompt', text: j.prompt }),
        el('span', { className: 'queue-pos', text: ` #${j.position}` }),
        cancelButton(j.jobId),
      ]),
    ),
  );
  byId('queue-box').hidden = waiting.length === 0;
  const running = jobs.find((j) => j.position === 0);
  if (running && runningJob === undefined) setRunning(running.jobId);
  if (waiting.length) progressBox.hidden = false;
}

function cancelButton(jobId: string): HTMLElement {
  const b = el('vscode-button', { text: l10n.t('Remove'), attrs: { secondary: '', 'aria-label': l10n.t('Remove this job from the queue') } });
  b.addEventListener('click', () => post({ type: 'cancel', jobId }));
  return b;
}

function jobEnded(m: ToPanel.JobEnded): void {
  if (m.jobId === runningJob) {
    setRunning(undefined);
    previewImg.hidden = true;
    previewImg.removeAttribute('src');
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = undefined;
  }
  // A removed queued job must not overwrite the running job's progress line.
  if (runningJob === undefined && m.outcome !== 'done') {
    progressText.textContent = m.outcome === 'cancelled' ? l10n.t('Cancelled.') : l10n.t('Failed.');
    byId('progress-announce').textContent = progressText.textContent;
  }
  if (m.outcome === 'failed') showNotice('error', m.message ?? l10n.t('Generation failed.'));
}

function showTarget(name: string | undefined): void {
  target.textContent = name ? l10n.t('Inserts into {0}', name) : l10n.t('No Markdown file: Insert goes to the active Markdown editor.');
}

function showNotice(level: 'info' | 'error', message: string): void {
  const box = byId('notice');
  box.textContent = message;
  box.className = `notice ${level}`;
  box.hidden = false;
}

// ------------------------------------------------------------------ results

/** A function, not a table: the words are translated once the translator is set. */
function imageActions(): { action: ImageAction; label: string; title: string }[] {
  return [
    { action: 'insert', label: l10n.t('Insert'), title: l10n.t('Insert at the cursor in the Markdown file') },
    { action: 'copyMarkdown', label: l10n.t('Copy Markdown'), title: l10n.t('Copy the image link as Markdown') },
    { action: 'saveAs', label: l10n.t('Save As…'), title: l10n.t('Save a copy elsewhere') },
    { action: 'regenerate', label: l10n.t('Regenerate'), title: l10n.t('Generate again with a new seed') },
    { action: 'reuse', label: l10n.t('Reuse settings'), title: l10n.t('Put these settings in the form') },
    { action: 'showParameters', label: l10n.t('Parameters'), title: l10n.t('Show the generation parameters') },
    { action: 'redraw', label: l10n.t('Redraw…'), title: l10n.t('Start from this image: redraw it, or paint over the part to change') },
  ];
}

/** The card's facts after its file name: seed, size, template, how it was made from an image. */
function resultMeta(r: ResultImage): string {
  const t = templates.find(r.settings.template);
  const from = r.settings.strength !== undefined && r.sourceUri ? (r.inpainted ? l10n.t('inpainted, strength {0}', r.settings.strength) : l10n.t('redrawn, strength {0}', r.settings.strength)) : undefined;
  const parts = [l10n.t('seed {0}', r.seed), `${r.width}×${r.height}`, t && templateLabel(t, document.documentElement.lang), from].filter((p): p is string => !!p);
  return parts.map((p) => ` · ${p}`).join('');
}

function resultCard(r: ResultImage): HTMLElement {
  const img = el('img', {
    attrs: { src: r.uri, alt: l10n.t('{0} (seed {1})', r.settings.prompt.slice(0, 120), r.seed), width: String(r.width), height: String(r.height), loading: 'lazy', decoding: 'async' },
  });
  const caption = el('figcaption', {}, [
    el('span', { className: 'result-name', text: r.fileName }),
    el('span', { className: 'result-meta', text: resultMeta(r) }),
  ]);
  const bar = el('div', { className: 'result-actions', attrs: { role: 'toolbar', 'aria-label': l10n.t('Actions for {0}', r.fileName) } });
  for (const a of imageActions()) {
    const b = el('vscode-button', { text: a.label, attrs: { secondary: '', title: a.title, 'data-action': a.action } });
    b.addEventListener('click', () => post({ type: 'imageAction', action: a.action, imageId: r.id }));
    bar.append(b);
  }
  const figure = el('figure', { className: 'result', attrs: { role: 'listitem', 'data-id': r.id } }, [img, caption, bar]);
  if (r.sourceUri) {
    const sourceUri = r.sourceUri;
    const b = el('vscode-button', { text: l10n.t('Compare'), attrs: { secondary: '', title: l10n.t('Before and after, side by side on one slider'), 'data-action': 'compare', 'aria-pressed': 'false' } });
    b.addEventListener('click', () => {
      const open = figure.querySelector('.compare');
      b.setAttribute('aria-pressed', String(!open));
      if (open) {
        open.replaceWith(img);
        return;
      }
      img.replaceWith(compareView(sourceUri, r.uri, r.width, r.height));
    });
    bar.append(b);
  }
  return figure;
}

function addResults(images: readonly ResultImage[], prepend: boolean): void {
  const cards = images.filter((r) => !results.has(r.id)).map((r) => {
    results.set(r.id, r);
    return resultCard(r);
  });
  if (prepend) resultsGrid.prepend(...cards);
  else resultsGrid.append(...cards);
  resultsEmpty.hidden = results.size > 0;
}

// ------------------------------------------------------------------ choosing among variations

const chooseBox = byId('choose');
let chooseRequest: number | undefined;

function showChoice(m: ToPanel.Choose): void {
  chooseRequest = m.requestId;
  byId('choose-title').textContent = m.title;
  byId('choose-grid').replaceChildren(
    ...m.images.map((r) => {
      const img = el('img', { attrs: { src: r.uri, alt: l10n.t('Variation with seed {0}', r.seed), width: String(r.width), height: String(r.height) } });
      const use = el('vscode-button', { text: l10n.t('Use this one'), attrs: { 'data-choice': r.id, title: l10n.t('Insert the variation with seed {0}', r.seed) } });
      use.addEventListener('click', () => answerChoice(r.id));
      return el('figure', { className: 'result', attrs: { role: 'listitem' } }, [img, el('figcaption', { text: l10n.t('seed {0}', r.seed) }), use]);
    }),
  );
  chooseBox.hidden = false;
  chooseBox.scrollIntoView({ block: 'start' });
  chooseBox.querySelector<HTMLElement>('[data-choice]')?.focus();
}

function answerChoice(imageId: string | undefined): void {
  if (chooseRequest === undefined) return;
  post({ type: 'choice', requestId: chooseRequest, imageId });
  hideChoice();
}

function hideChoice(): void {
  chooseRequest = undefined;
  chooseBox.hidden = true;
  byId('choose-grid').replaceChildren();
}

byId('choose-none').addEventListener('click', () => answerChoice(undefined));

// ------------------------------------------------------------------ wiring

function generate(): void {
  if (!validateForm()) {
    formError.textContent = formProblems(readSettings()).join(' ');
    return;
  }
  byId('notice').hidden = true;
  const settings = readSettings();
  const from = source.forGenerate();
  post(from ? { type: 'generate', settings, source: from } : { type: 'generate', settings });
}

const fieldKeys = new Map<HTMLElement, keyof PanelSettings>([
  [prompt, 'prompt'], [negative, 'negativePrompt'], [modelPrompt, 'modelPrompt'], [width, 'width'], [height, 'height'],
  [steps, 'steps'], [guidance, 'guidance'], [seed, 'seed'], [batch, 'batch'],
]);
for (const [field, key] of fieldKeys) {
  field.addEventListener('input', () => {
    if (!initialised) typedEarly.add(key);
  });
}

prompt.addEventListener('input', () => {
  onTextChanged(prompt, 'prompt');
  showModelPrompt();
  showTemplateHint();
  showLabel();
  validateForm();
  save();
});
modelPrompt.addEventListener('input', () => {
  // The counter counts what the model reads.
  onTextChanged(prompt, 'prompt');
  showTemplateHint();
  save();
});
negative.addEventListener('input', () => {
  onTextChanged(negative, 'negativePrompt');
  save();
});
for (const f of [width, height, steps, guidance, seed, batch]) {
  f.addEventListener('input', () => {
    if (f === width || f === height) syncSizePreset();
    validateForm();
    save();
  });
}
size.addEventListener('change', () => {
  const m = /^(\d+)x(\d+)$/.exec(size.value);
  if (m) {
    width.value = m[1];
    height.value = m[2];
  }
  customSize.hidden = size.value !== 'custom';
  if (size.value === 'custom') width.focus();
  validateForm();
  save();
});
scheduler.addEventListener('change', save);
/** The template or one of a composed template's parts was changed by the user. */
function templateChanged(): void {
  // The template's negative prompt is shown (and can be edited) instead of being added unseen.
  const t = templates.template();
  if (t?.negative && negative.value.trim() === '') {
    negative.value = t.negative;
    onTextChanged(negative, 'negativePrompt');
  }
  showTemplateHint();
  showLabel();
  onTextChanged(prompt, 'prompt');
  save();
}
seedLock.addEventListener('change', save);
fast.addEventListener('change', () => {
  showFast();
  save();
});

/** In fast mode steps, guidance and scheduler are fixed: the fields say so instead of pretending. */
function showFast(): void {
  for (const f of [steps, guidance, scheduler]) (f as HTMLElement & { disabled: boolean }).disabled = fast.checked;
}
byId('seed-random').addEventListener('click', () => {
  seed.value = String(randomSeed());
  validateForm();
  save();
});
generateBtn.addEventListener('click', generate);
cancelBtn.addEventListener('click', () => post({ type: 'cancel', jobId: runningJob }));
byId('clear-results').addEventListener('click', () => {
  results.clear();
  resultsGrid.replaceChildren();
  resultsEmpty.hidden = false;
  post({ type: 'clearResults' });
});

document.addEventListener('keydown', (e) => {
  if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') {
    e.preventDefault();
    generate();
  } else if (e.key === 'Escape' && runningJob && !e.defaultPrevented) {
    post({ type: 'cancel', jobId: runningJob });
  }
});

window.addEventListener('message', (event: MessageEvent<ToPanel.Type>) => {
  const m = event.data;
  switch (m.type) {
    case 'init':
      trusted = m.trusted;
      results.clear();
      resultsGrid.replaceChildren();
      addResults(m.results, false);
      // After a reload the form the user was editing wins, unless the panel was opened with a prefill.
      writeSettings(withoutTypedEarly(!m.prefilled && saved?.settings ? saved.settings : m.settings));
      initialised = true;
      showQueue(m.queue);
      showTarget(m.target);
      if (!trusted) showNotice('error', l10n.t('This workspace is in Restricted Mode: nothing can be generated or written.'));
      break;
    case 'prefill':
      writeSettings(m.settings);
      prompt.focus();
      if (m.generate) generate();
      break;
    case 'tokens':
      showTokens(m);
      break;
    case 'queue':
      showQueue(m.jobs);
      break;
    case 'progress':
      showProgress(m);
      break;
    case 'results':
      addResults(m.images, true);
      byId('last-seed').textContent = l10n.t('Last seed: {0}', m.seed);
      if (!seedLock.checked) {
        // Unlocked: the next job draws a new seed (an empty box means random).
        seed.value = '';
        save();
      } else if (seed.value.trim() === '') {
        seed.value = String(m.seed);
        save();
      }
      progressText.textContent = m.images.length === 1 ? l10n.t('Done: 1 image.') : l10n.t('Done: {0} images.', m.images.length);
      byId('progress-announce').textContent = progressText.textContent;
      break;
    case 'jobEnded':
      jobEnded(m);
      break;
    case 'target':
      showTarget(m.target);
      break;
    case 'notice':
      showNotice(m.level, m.message);
      break;
    case 'choose':
      showChoice(m);
      break;
    case 'chooseEnded':
      if (m.requestId === chooseRequest) hideChoice();
      break;
    case 'source':
      source.show(m.source);
      break;
    case 'loras':
      showLoras(m.names);
      break;
    case 'templates':
      templates.setOwn(m.templates);
      showTemplateHint();
      break;
    case 'label':
      docLabel = { medical: m.medical, declaredBy: m.declaredBy, canDeclare: m.canDeclare };
      showLabel();
      break;
    case 'translated':
      showTranslation(m);
      break;
  }
});

post({ type: 'ready' });
