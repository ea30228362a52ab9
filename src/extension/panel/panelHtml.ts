// Markup of the results panel. Static: every value the user sees comes later by message,
// so nothing from a prompt or a file name is ever put into HTML here. Its words are translated
// (l10n.t) and escaped like any other text, since a translation may hold quotes.

import { TEMPLATES } from '../../core/templates';
import { LIMITS, SCHEDULER_CHOICES, SIZE_PRESETS } from '../../core/webviewMessages';
import * as l10n from '@vscode/l10n';
import { choiceLabel, templateLabel } from '../../core/templateLabels';
import { COMPOSE_CHOICE, PART_CHOICES } from '../../core/templateParts';
import type { Choice } from '../../core/templateData';
import { escapeHtml } from './html';

const SCHEDULER_LABELS: Record<string, string> = {
  pndm: 'PNDM (PLMS)',
  ddim: 'DDIM',
  euler: 'Euler',
  'euler-a': 'Euler a',
  lms: 'LMS',
  'dpmpp-2m': 'DPM++ 2M',
  'dpmpp-2m-karras': 'DPM++ 2M Karras',
  lcm: 'LCM',
};

function option(value: string, label: string): string {
  return `<vscode-option value="${escapeHtml(value)}">${escapeHtml(label)}</vscode-option>`;
}

/**
 * A prompt box with its problem list and CLIP token counter (ids `id`, `id-problems`, `id-tokens`).
 * The example placeholder stays English in every language: the model reads English prompts.
 */
function promptField(id: string, label: string, rows: number, placeholder: string): string {
  return `<div class="field">
      <label for="${id}">${escapeHtml(label)}</label>
      <vscode-textarea id="${id}" rows="${rows}" resize="vertical" aria-label="${escapeHtml(label)}" aria-describedby="${id}-tokens ${id}-problems"
        placeholder="${placeholder}"></vscode-textarea>
      <div class="field-meta">
        <ul id="${id}-problems" class="problems" aria-live="polite"></ul>
        <span id="${id}-tokens" class="tokens" aria-live="polite" title="${escapeHtml(l10n.t('CLIP tokens'))}">0/75</span>
      </div>
    </div>`;
}

/**
 * "Start from an image": the source to redraw, the mask painted over it, and the strength.
 * The canvas is as large as the image; CSS scales both to the panel's width.
 */
function sourceSection(): string {
  return `<section id="source-section" class="field source" aria-labelledby="source-title">
      <span id="source-title" class="label">${escapeHtml(l10n.t('Start from an image'))} <span class="hint">${escapeHtml(l10n.t('(optional)'))}</span></span>
      <div id="source-drop" class="drop-zone" tabindex="0" role="group" aria-label="${escapeHtml(l10n.t('Drop or paste an image to redraw'))}">
        <span>${escapeHtml(l10n.t('Drop an image here (hold Shift when dragging from VS Code), paste one, or'))}</span>
        <vscode-button id="source-pick" secondary title="${escapeHtml(l10n.t('Choose a PNG, JPEG or WebP image to redraw'))}">${escapeHtml(l10n.t('Choose image…'))}</vscode-button>
      </div>
      <div id="source-editor" hidden>
        <div id="source-stage" class="source-stage">
          <img id="source-img" alt="${escapeHtml(l10n.t('The image to redraw'))}">
          <canvas id="mask-canvas" class="mask-canvas" role="img" aria-label="${escapeHtml(l10n.t('Mask: paint over the part of the image to repaint'))}"></canvas>
        </div>
        <div class="mask-tools" role="toolbar" aria-label="${escapeHtml(l10n.t('Mask tools'))}">
          <vscode-checkbox id="mask-erase" label="${escapeHtml(l10n.t('Erase'))}"></vscode-checkbox>
          <label for="brush-size" class="brush-label">${escapeHtml(l10n.t('Brush'))}</label>
          <input id="brush-size" type="range" min="2" max="160" value="32" aria-label="${escapeHtml(l10n.t('Brush size in pixels of the image'))}">
          <vscode-button id="mask-undo" secondary disabled title="${escapeHtml(l10n.t('Undo the last stroke (Ctrl+Z)'))}">${escapeHtml(l10n.t('Undo'))}</vscode-button>
          <vscode-button id="mask-clear" secondary disabled title="${escapeHtml(l10n.t('Remove the whole mask: redraw all of the image'))}">${escapeHtml(l10n.t('Clear'))}</vscode-button>
          <vscode-button id="mask-invert" secondary title="${escapeHtml(l10n.t('Repaint what is not painted, keep what is'))}">${escapeHtml(l10n.t('Invert'))}</vscode-button>
        </div>
        <span id="source-mode" class="hint" aria-live="polite"></span>
        <div class="strength-row">
          <label for="strength">${escapeHtml(l10n.t('Strength'))}</label>
          <input id="strength-range" type="range" min="0" max="${LIMITS.maxStrength}" step="0.05" aria-label="${escapeHtml(l10n.t('Strength (slider)'))}">
          <vscode-textfield id="strength" type="number" min="0" max="${LIMITS.maxStrength}" step="0.05" aria-label="${escapeHtml(l10n.t('Strength: 0 keeps the image, 1 replaces it'))}" aria-describedby="strength-hint"></vscode-textfield>
        </div>
        <span id="strength-hint" class="hint">${escapeHtml(l10n.t('0 keeps the image as it is, 1 draws it anew; 0.5–0.75 keeps the layout.'))}</span>
        <div class="actions"><vscode-button id="source-remove" secondary title="${escapeHtml(l10n.t('Generate from the prompt alone again'))}">${escapeHtml(l10n.t('Remove image'))}</vscode-button></div>
      </div>
    </section>`;
}

/** One small select of a composed template's part; `any` labels the option that leaves it open. */
function partSelect(id: string, label: string, choices: readonly Choice[], language: string, any?: string): string {
  const options = (any ? option('', any) : '') + choices.map((c) => option(c.id, choiceLabel(c, language))).join('');
  return `<div class="field"><label for="${id}">${escapeHtml(label)}</label>
        <vscode-single-select id="${id}" aria-label="${escapeHtml(label)}">${options}</vscode-single-select></div>`;
}

/**
 * The template select, and the part selects a composed template is made of (templateParts.ts):
 * shown while a "Compose:" entry is chosen. Parts are labelled in `language`.
 */
function templateField(language: string): string {
  const templates =
    option('', l10n.t('No template')) +
    TEMPLATES.map((t) => option(t.id, templateLabel(t))).join('') +
    option(COMPOSE_CHOICE.edu, l10n.t('Compose: school level, subject, type…')) +
    option(COMPOSE_CHOICE.med, l10n.t('Compose: medical modality and view…'));
  return `<div class="field">
      <label for="template">${escapeHtml(l10n.t('Template'))}</label>
      <vscode-single-select id="template" aria-label="${escapeHtml(l10n.t('Template: wraps the prompt for a grade level or a medical view'))}" aria-describedby="template-hint">${templates}</vscode-single-select>
      <div id="template-edu" class="row parts" role="group" aria-label="${escapeHtml(l10n.t('Composed template: school level, subject, type'))}" hidden>
        ${partSelect('template-level', l10n.t('School level'), PART_CHOICES.level, language)}
        ${partSelect('template-subject', l10n.t('Subject'), PART_CHOICES.subject, language, l10n.t('Any subject'))}
        ${partSelect('template-type', l10n.t('Content type'), PART_CHOICES.type, language, l10n.t('Any content type'))}
      </div>
      <div id="template-med" class="row parts" role="group" aria-label="${escapeHtml(l10n.t('Composed template: medical modality and view'))}" hidden>
        ${partSelect('template-modality', l10n.t('Modality'), PART_CHOICES.modality, language)}
        ${partSelect('template-view', l10n.t('View'), PART_CHOICES.view, language)}
      </div>
      <span id="template-hint" class="hint" aria-live="polite"></span>
    </div>`;
}

/** `language`: VS Code's display language, for the words that are data (template parts). */
export function panelBody(language = 'en'): string {
  const sizes = SIZE_PRESETS.map((s) => option(`${s.width}x${s.height}`, `${s.width} × ${s.height}`)).join('') + option('custom', l10n.t('Custom…'));
  const schedulers = SCHEDULER_CHOICES.map((s) => option(s, s === 'default' ? l10n.t("Model's default") : (SCHEDULER_LABELS[s] ?? s))).join('');
  return `
<main id="ci-panel" class="layout">
  <section class="form" aria-labelledby="form-title">
    <h1 id="form-title">${escapeHtml(l10n.t('Generate an illustration'))}</h1>
    ${promptField('prompt', l10n.t('Prompt'), 4, 'a friendly heart diagram, flat illustration, soft colours')}
    <div id="model-prompt-field" class="field" hidden>
      <label for="model-prompt">${escapeHtml(l10n.t('English prompt (what the model reads)'))}</label>
      <div class="model-prompt-row">
        <vscode-textarea id="model-prompt" rows="2" resize="vertical" aria-describedby="model-prompt-hint model-prompt-status"
          placeholder="labelled diagram of a plant cell"></vscode-textarea>
        <vscode-button id="model-prompt-translate" secondary title="${escapeHtml(l10n.t('Translate the Chinese of the prompt above to English on this computer (the model is downloaded once, after asking)'))}">${escapeHtml(l10n.t('Translate'))}</vscode-button>
      </div>
      <span id="model-prompt-hint" class="hint">${escapeHtml(l10n.t('Stable Diffusion v1.5 reads English. Your text above stays the picture\'s description (alt text) and names the file.'))}</span>
      <span id="model-prompt-status" class="hint" aria-live="polite"></span>
    </div>
    ${templateField(language)}
    <div id="lora-field" class="field" hidden>
      <label for="lora-add">LoRA</label>
      <vscode-single-select id="lora-add" aria-label="${escapeHtml(l10n.t('Add a LoRA to the prompt'))}" aria-describedby="lora-hint"></vscode-single-select>
      <span id="lora-hint" class="hint">${escapeHtml(l10n.t('Adds <lora:NAME:1> to the prompt; change the number to make it weaker or stronger.'))}</span>
    </div>
    ${promptField('negative', l10n.t('Negative prompt'), 2, 'blurry, text, watermark')}
    ${sourceSection()}
    <div class="field">
      <label for="size">${escapeHtml(l10n.t('Size'))}</label>
      <vscode-single-select id="size" aria-label="${escapeHtml(l10n.t('Size'))}">${sizes}</vscode-single-select>
    </div>
    <div id="custom-size" class="row" hidden>
      <div class="field"><label for="width">${escapeHtml(l10n.t('Width'))}</label>
        <vscode-textfield id="width" type="number" min="${LIMITS.minSize}" max="${LIMITS.maxSize}" step="8" aria-label="${escapeHtml(l10n.t('Width in pixels, multiple of 8'))}"></vscode-textfield></div>
      <div class="field"><label for="height">${escapeHtml(l10n.t('Height'))}</label>
        <vscode-textfield id="height" type="number" min="${LIMITS.minSize}" max="${LIMITS.maxSize}" step="8" aria-label="${escapeHtml(l10n.t('Height in pixels, multiple of 8'))}"></vscode-textfield></div>
    </div>
    <div class="field">
      <vscode-checkbox id="fast" label="${escapeHtml(l10n.t('Fast (4 steps)'))}" aria-describedby="fast-hint"></vscode-checkbox>
      <span id="fast-hint" class="hint">${escapeHtml(l10n.t('About five times faster, a little less detail: 4 steps, guidance 1, the LCM scheduler (and the LCM-LoRA, downloaded once).'))}</span>
    </div>
    <div class="row">
      <div class="field"><label for="steps">${escapeHtml(l10n.t('Steps'))}</label>
        <vscode-textfield id="steps" type="number" min="1" max="${LIMITS.maxSteps}" aria-label="${escapeHtml(l10n.t('Steps'))}"></vscode-textfield></div>
      <div class="field"><label for="guidance">${escapeHtml(l10n.t('Guidance'))}</label>
        <vscode-textfield id="guidance" type="number" min="0" max="${LIMITS.maxGuidance}" step="0.5" aria-label="${escapeHtml(l10n.t('Guidance scale'))}"></vscode-textfield></div>
    </div>
    <div class="row">
      <div class="field"><label for="scheduler">${escapeHtml(l10n.t('Scheduler'))}</label>
        <vscode-single-select id="scheduler" aria-label="${escapeHtml(l10n.t('Scheduler'))}">${schedulers}</vscode-single-select></div>
      <div class="field"><label for="batch">${escapeHtml(l10n.t('Batch count'))}</label>
        <vscode-textfield id="batch" type="number" min="1" max="${LIMITS.maxBatch}" aria-label="${escapeHtml(l10n.t('Number of images'))}"></vscode-textfield></div>
    </div>
    <div class="field">
      <label for="seed">${escapeHtml(l10n.t('Seed'))}</label>
      <div class="seed-row">
        <vscode-textfield id="seed" type="number" min="0" max="${LIMITS.maxSeed}" placeholder="${escapeHtml(l10n.t('random'))}" aria-label="${escapeHtml(l10n.t('Seed, empty for random'))}"></vscode-textfield>
        <vscode-checkbox id="seed-lock" label="${escapeHtml(l10n.t('Lock'))}">${escapeHtml(l10n.t('Lock'))}</vscode-checkbox>
        <vscode-button id="seed-random" secondary title="${escapeHtml(l10n.t('Pick a random seed now'))}">${escapeHtml(l10n.t('Random'))}</vscode-button>
      </div>
      <span id="last-seed" class="hint" aria-live="polite"></span>
    </div>
    <div class="actions">
      <vscode-button id="generate" title="${escapeHtml(l10n.t('Generate (Ctrl+Enter)'))}">${escapeHtml(l10n.t('Generate'))}</vscode-button>
      <vscode-button id="cancel" secondary disabled title="${escapeHtml(l10n.t('Cancel the running job (Escape)'))}">${escapeHtml(l10n.t('Cancel'))}</vscode-button>
    </div>
    <div id="form-error" class="form-error" role="alert"></div>
    <div id="progress" class="progress" hidden>
      <img id="preview" alt="${escapeHtml(l10n.t('Live preview of the image being generated'))}" width="128" height="128" hidden>
      <div class="progress-body">
        <div class="progress-line"><vscode-progress-ring id="progress-ring" aria-hidden="true"></vscode-progress-ring>
          <span id="progress-text">${escapeHtml(l10n.t('Starting…'))}</span></div>
        <span id="progress-announce" class="visually-hidden" aria-live="polite"></span>
        <div id="queue-box" hidden>
          <h2>${escapeHtml(l10n.t('Waiting'))}</h2>
          <ol id="queue" class="queue"></ol>
        </div>
      </div>
    </div>
    <div id="target" class="hint"></div>
    <div class="label-row">
      <span id="label-status" class="hint" aria-live="polite"></span>
      <vscode-button id="label-declare" secondary hidden title="${escapeHtml(l10n.t("Add illustrate: { domain: medical } to the document's front matter"))}">${escapeHtml(l10n.t('Label this document as medical'))}</vscode-button>
    </div>
    <div id="notice" class="notice" role="status" hidden></div>
  </section>
  <section class="output" aria-label="${escapeHtml(l10n.t('Progress and results'))}">
    <div id="choose" class="choose" role="group" aria-labelledby="choose-title" hidden>
      <h2 id="choose-title">${escapeHtml(l10n.t('Choose a variation'))}</h2>
      <div id="choose-grid" class="results" role="list" aria-label="${escapeHtml(l10n.t('Variations'))}"></div>
      <div class="actions"><vscode-button id="choose-none" secondary title="${escapeHtml(l10n.t('Insert none of them'))}">${escapeHtml(l10n.t('None of these'))}</vscode-button></div>
    </div>
    <div class="results-head">
      <h2>${escapeHtml(l10n.t('Results'))}</h2>
      <vscode-button id="clear-results" secondary title="${escapeHtml(l10n.t('Remove the results from this list (the files stay)'))}">${escapeHtml(l10n.t('Clear list'))}</vscode-button>
    </div>
    <p id="results-empty" class="hint">${escapeHtml(l10n.t('No images yet. Write a prompt and press Generate.'))}</p>
    <div id="results" class="results" role="list" aria-label="${escapeHtml(l10n.t('Generated images'))}"></div>
  </section>
</main>`;
}
