// Markup of the results panel. Static: every value the user sees comes later by message,
// so nothing from a prompt or a file name is ever put into HTML here.

import { TEMPLATES } from '../../core/templates';
import { LIMITS, SCHEDULER_CHOICES, SIZE_PRESETS } from '../../core/webviewMessages';
import { escapeHtml } from './html';

const SCHEDULER_LABELS: Record<string, string> = {
  default: "Model's default",
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

/** A prompt box with its problem list and CLIP token counter (ids `id`, `id-problems`, `id-tokens`). */
function promptField(id: string, label: string, rows: number, placeholder: string): string {
  return `<div class="field">
      <label for="${id}">${label}</label>
      <vscode-textarea id="${id}" rows="${rows}" resize="vertical" aria-label="${label}" aria-describedby="${id}-tokens ${id}-problems"
        placeholder="${placeholder}"></vscode-textarea>
      <div class="field-meta">
        <ul id="${id}-problems" class="problems" aria-live="polite"></ul>
        <span id="${id}-tokens" class="tokens" aria-live="polite" title="CLIP tokens">0/75</span>
      </div>
    </div>`;
}

/**
 * "Start from an image": the source to redraw, the mask painted over it, and the strength.
 * The canvas is as large as the image; CSS scales both to the panel's width.
 */
function sourceSection(): string {
  return `<section id="source-section" class="field source" aria-labelledby="source-title">
      <span id="source-title" class="label">Start from an image <span class="hint">(optional)</span></span>
      <div id="source-drop" class="drop-zone" tabindex="0" role="group" aria-label="Drop or paste an image to redraw">
        <span>Drop an image here (hold Shift when dragging from VS Code), paste one, or</span>
        <vscode-button id="source-pick" secondary title="Choose a PNG, JPEG or WebP image to redraw">Choose image…</vscode-button>
      </div>
      <div id="source-editor" hidden>
        <div id="source-stage" class="source-stage">
          <img id="source-img" alt="The image to redraw">
          <canvas id="mask-canvas" class="mask-canvas" role="img" aria-label="Mask: paint over the part of the image to repaint"></canvas>
        </div>
        <div class="mask-tools" role="toolbar" aria-label="Mask tools">
          <vscode-checkbox id="mask-erase" label="Erase"></vscode-checkbox>
          <label for="brush-size" class="brush-label">Brush</label>
          <input id="brush-size" type="range" min="2" max="160" value="32" aria-label="Brush size in pixels of the image">
          <vscode-button id="mask-undo" secondary disabled title="Undo the last stroke (Ctrl+Z)">Undo</vscode-button>
          <vscode-button id="mask-clear" secondary disabled title="Remove the whole mask: redraw all of the image">Clear</vscode-button>
          <vscode-button id="mask-invert" secondary title="Repaint what is not painted, keep what is">Invert</vscode-button>
        </div>
        <span id="source-mode" class="hint" aria-live="polite"></span>
        <div class="strength-row">
          <label for="strength">Strength</label>
          <input id="strength-range" type="range" min="0" max="${LIMITS.maxStrength}" step="0.05" aria-label="Strength (slider)">
          <vscode-textfield id="strength" type="number" min="0" max="${LIMITS.maxStrength}" step="0.05" aria-label="Strength: 0 keeps the image, 1 replaces it" aria-describedby="strength-hint"></vscode-textfield>
        </div>
        <span id="strength-hint" class="hint">0 keeps the image as it is, 1 draws it anew; 0.5–0.75 keeps the layout.</span>
        <div class="actions"><vscode-button id="source-remove" secondary title="Generate from the prompt alone again">Remove image</vscode-button></div>
      </div>
    </section>`;
}

export function panelBody(): string {
  const sizes = SIZE_PRESETS.map((s) => option(`${s.width}x${s.height}`, `${s.width} × ${s.height}`)).join('') + option('custom', 'Custom…');
  const schedulers = SCHEDULER_CHOICES.map((s) => option(s, SCHEDULER_LABELS[s] ?? s)).join('');
  const templates = option('', 'No template') + TEMPLATES.map((t) => option(t.id, t.label)).join('');
  return `
<main id="ci-panel" class="layout">
  <section class="form" aria-labelledby="form-title">
    <h1 id="form-title">Generate an illustration</h1>
    ${promptField('prompt', 'Prompt', 4, 'a friendly heart diagram, flat illustration, soft colours')}
    <div class="field">
      <label for="template">Template</label>
      <vscode-single-select id="template" aria-label="Template: wraps the prompt for a grade level or a medical view" aria-describedby="template-hint">${templates}</vscode-single-select>
      <span id="template-hint" class="hint" aria-live="polite"></span>
    </div>
    <div id="lora-field" class="field" hidden>
      <label for="lora-add">LoRA</label>
      <vscode-single-select id="lora-add" aria-label="Add a LoRA to the prompt" aria-describedby="lora-hint"></vscode-single-select>
      <span id="lora-hint" class="hint">Adds &lt;lora:NAME:1&gt; to the prompt; change the number to make it weaker or stronger.</span>
    </div>
    ${promptField('negative', 'Negative prompt', 2, 'blurry, text, watermark')}
    ${sourceSection()}
    <div class="field">
      <label for="size">Size</label>
      <vscode-single-select id="size" aria-label="Size">${sizes}</vscode-single-select>
    </div>
    <div id="custom-size" class="row" hidden>
      <div class="field"><label for="width">Width</label>
        <vscode-textfield id="width" type="number" min="${LIMITS.minSize}" max="${LIMITS.maxSize}" step="8" aria-label="Width in pixels, multiple of 8"></vscode-textfield></div>
      <div class="field"><label for="height">Height</label>
        <vscode-textfield id="height" type="number" min="${LIMITS.minSize}" max="${LIMITS.maxSize}" step="8" aria-label="Height in pixels, multiple of 8"></vscode-textfield></div>
    </div>
    <div class="field">
      <vscode-checkbox id="fast" label="Fast (4 steps)" aria-describedby="fast-hint"></vscode-checkbox>
      <span id="fast-hint" class="hint">About five times faster, a little less detail: 4 steps, guidance 1, the LCM scheduler (and the LCM-LoRA, downloaded once).</span>
    </div>
    <div class="row">
      <div class="field"><label for="steps">Steps</label>
        <vscode-textfield id="steps" type="number" min="1" max="${LIMITS.maxSteps}" aria-label="Steps"></vscode-textfield></div>
      <div class="field"><label for="guidance">Guidance</label>
        <vscode-textfield id="guidance" type="number" min="0" max="${LIMITS.maxGuidance}" step="0.5" aria-label="Guidance scale"></vscode-textfield></div>
    </div>
    <div class="row">
      <div class="field"><label for="scheduler">Scheduler</label>
        <vscode-single-select id="scheduler" aria-label="Scheduler">${schedulers}</vscode-single-select></div>
      <div class="field"><label for="batch">Batch count</label>
        <vscode-textfield id="batch" type="number" min="1" max="${LIMITS.maxBatch}" aria-label="Number of images"></vscode-textfield></div>
    </div>
    <div class="field">
      <label for="seed">Seed</label>
      <div class="seed-row">
        <vscode-textfield id="seed" type="number" min="0" max="${LIMITS.maxSeed}" placeholder="random" aria-label="Seed, empty for random"></vscode-textfield>
        <vscode-checkbox id="seed-lock" label="Lock">Lock</vscode-checkbox>
        <vscode-button id="seed-random" secondary title="Pick a random seed now">Random</vscode-button>
      </div>
      <span id="last-seed" class="hint" aria-live="polite"></span>
    </div>
    <div class="actions">
      <vscode-button id="generate" title="Generate (Ctrl+Enter)">Generate</vscode-button>
      <vscode-button id="cancel" secondary disabled title="Cancel the running job (Escape)">Cancel</vscode-button>
    </div>
    <div id="form-error" class="form-error" role="alert"></div>
    <div id="progress" class="progress" hidden>
      <img id="preview" alt="Live preview of the image being generated" width="128" height="128" hidden>
      <div class="progress-body">
        <div class="progress-line"><vscode-progress-ring id="progress-ring" aria-hidden="true"></vscode-progress-ring>
          <span id="progress-text">Starting…</span></div>
        <span id="progress-announce" class="visually-hidden" aria-live="polite"></span>
        <div id="queue-box" hidden>
          <h2>Waiting</h2>
          <ol id="queue" class="queue"></ol>
        </div>
      </div>
    </div>
    <div id="target" class="hint"></div>
    <div class="label-row">
      <span id="label-status" class="hint" aria-live="polite"></span>
      <vscode-button id="label-declare" secondary hidden title="Add illustrate: { domain: medical } to the document's front matter">Label this document as medical</vscode-button>
    </div>
    <div id="notice" class="notice" role="status" hidden></div>
  </section>
  <section class="output" aria-label="Progress and results">
    <div id="choose" class="choose" role="group" aria-labelledby="choose-title" hidden>
      <h2 id="choose-title">Choose a variation</h2>
      <div id="choose-grid" class="results" role="list" aria-label="Variations"></div>
      <div class="actions"><vscode-button id="choose-none" secondary title="Insert none of them">None of these</vscode-button></div>
    </div>
    <div class="results-head">
      <h2>Results</h2>
      <vscode-button id="clear-results" secondary title="Remove the results from this list (the files stay)">Clear list</vscode-button>
    </div>
    <p id="results-empty" class="hint">No images yet. Write a prompt and press Generate.</p>
    <div id="results" class="results" role="list" aria-label="Generated images"></div>
  </section>
</main>`;
}
