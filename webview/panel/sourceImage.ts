// "Start from an image" in the panel: take an image (drop, paste, Choose image…, or sent by the
// extension from a link, the explorer, the gallery or a result), show it with the mask painter
// over it, and the strength. The extension keeps the file; this side knows only its id and URI.

import * as l10n from '@vscode/l10n';
import type { VscodeCheckbox } from '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { STRENGTH, strengthProblem } from '../../src/core/limits';
import { FromPanel, MAX_SOURCE_BASE64, SourceImage } from '../../src/core/webviewMessages';
import { byId } from '../shared/vscodeApi';
import { MaskPainter } from './maskPainter';

export interface SourceHooks {
  post: (m: FromPanel.Type) => void;
  /** The image's own size, once loaded: the form's size follows it. */
  sized: (width: number, height: number) => void;
  /** Something that changes what Generate does (image, mask, strength). */
  changed: () => void;
  notice: (level: 'info' | 'error', message: string) => void;
}

export class SourceControls {
  private source: SourceImage | undefined;
  private readonly editor = byId('source-editor');
  private readonly drop = byId('source-drop');
  private readonly img = byId<HTMLImageElement>('source-img');
  private readonly strength = byId<VscodeTextfield>('strength');
  private readonly strengthRange = byId<HTMLInputElement>('strength-range');
  private readonly mode = byId('source-mode');
  private readonly undoBtn = byId<HTMLElement & { disabled: boolean }>('mask-undo');
  private readonly clearBtn = byId<HTMLElement & { disabled: boolean }>('mask-clear');
  private readonly painter: MaskPainter;
  private masked = false;
  private readonly brush: HTMLInputElement;

  constructor(private readonly hooks: SourceHooks) {
    this.painter = new MaskPainter(byId<HTMLCanvasElement>('mask-canvas'), () => this.maskChanged());
    byId('source-pick').addEventListener('click', () => hooks.post({ type: 'pickSource' }));
    byId('source-remove').addEventListener('click', () => hooks.post({ type: 'clearSource' }));
    this.undoBtn.addEventListener('click', () => this.painter.undo());
    this.clearBtn.addEventListener('click', () => this.painter.clear());
    byId('mask-invert').addEventListener('click', () => this.painter.invert());
    const erase = byId<VscodeCheckbox>('mask-erase');
    erase.addEventListener('change', () => (this.painter.erase = erase.checked));
    const brush = byId<HTMLInputElement>('brush-size');
    brush.addEventListener('input', () => (this.painter.brush = Number(brush.value)));
    this.painter.brush = Number(brush.value);
    this.brush = brush;
    this.strength.value = String(STRENGTH.default);
    this.strengthRange.value = String(STRENGTH.default);
    this.strengthRange.addEventListener('input', () => {
      this.strength.value = this.strengthRange.value;
      hooks.changed();
    });
    this.strength.addEventListener('input', () => {
      const v = Number(this.strength.value);
      if (Number.isFinite(v)) this.strengthRange.value = String(v);
      hooks.changed();
    });
    this.img.addEventListener('load', () => {
      this.painter.reset(this.img.naturalWidth, this.img.naturalHeight);
      // A brush about a sixteenth of the image, whatever its size in pixels.
      this.brush.value = String(Math.round(Math.max(this.img.naturalWidth, this.img.naturalHeight) / 16));
      this.painter.brush = Number(this.brush.value);
      hooks.sized(this.img.naturalWidth, this.img.naturalHeight);
    });
    this.img.addEventListener('error', () => hooks.notice('error', l10n.t('The image to redraw could not be shown; choose it again.')));
    this.listenForImages();
    document.addEventListener('keydown', (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key === 'z' && this.source && document.activeElement === document.body) {
        e.preventDefault();
        this.painter.undo();
      }
    });
  }

  /** The extension set (or removed) the source image. */
  show(source: SourceImage | undefined): void {
    const same = source?.id === this.source?.id;
    this.source = source;
    this.editor.hidden = !source;
    this.drop.classList.toggle('has-source', !!source);
    if (source && !same) {
      this.img.alt = l10n.t('The image to redraw: {0}', source.fileName);
      this.img.src = source.uri;
    } else if (!source) {
      this.img.removeAttribute('src');
      this.painter.reset(0, 0);
    }
    this.describe();
    this.hooks.changed();
  }

  get active(): boolean {
    return this.source !== undefined;
  }

  /** The strength typed, or undefined without a source image. */
  strengthValue(): number | undefined {
    if (!this.source) return undefined;
    const t = this.strength.value.trim();
    return t === '' ? NaN : Number(t);
  }

  setStrength(v: number | undefined): void {
    if (v === undefined || strengthProblem(v)) return;
    this.strength.value = String(v);
    this.strengthRange.value = String(v);
  }

  markInvalid(bad: boolean): void {
    this.strength.invalid = bad;
  }

  /** What a generate message carries about the source; undefined without one. */
  forGenerate(): FromPanel.Generate['source'] {
    if (!this.source) return undefined;
    return this.masked ? { id: this.source.id, maskPng: this.painter.toPngBase64() } : { id: this.source.id };
  }

  private maskChanged(): void {
    this.masked = !this.painter.isEmpty();
    this.undoBtn.disabled = !this.painter.canUndo;
    this.clearBtn.disabled = !this.masked;
    this.describe();
    this.hooks.changed();
  }

  private describe(): void {
    if (!this.source) {
      this.mode.textContent = '';
      return;
    }
    this.mode.textContent = this.masked
      ? l10n.t('Repaints only the painted part of {0}; the rest stays as it is.', this.source.fileName)
      : l10n.t('Redraws all of {0}. Paint over a part to repaint only that part.', this.source.fileName);
  }

  /** Files dropped or pasted anywhere in the panel, and links dragged from VS Code. */
  private listenForImages(): void {
    document.addEventListener('dragover', (e) => {
      if (!e.dataTransfer) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
      this.drop.classList.add('dragging');
    });
    document.addEventListener('dragleave', () => this.drop.classList.remove('dragging'));
    document.addEventListener('drop', (e) => {
      this.drop.classList.remove('dragging');
      const dt = e.dataTransfer;
      if (!dt) return;
      e.preventDefault();
      const file = [...dt.files].find((f) => f.type.startsWith('image/')) ?? dt.files[0];
      if (file) return void this.sendFile(file);
      const uris = dt.getData('application/vnd.code.uri-list') || dt.getData('text/uri-list');
      const first = uris.split(/\r?\n/).map((l) => l.trim()).find((l) => l && !l.startsWith('#'));
      if (first) this.hooks.post({ type: 'dropUri', uri: first });
    });
    document.addEventListener('paste', (e) => {
      const file = [...(e.clipboardData?.files ?? [])].find((f) => f.type.startsWith('image/'));
      if (!file) return; // text pastes into the fields as usual
      e.preventDefault();
      void this.sendFile(file);
    });
  }

  private async sendFile(file: File): Promise<void> {
    // Base64 is 4/3 of the bytes: refuse here what the extension would refuse anyway.
    if ((file.size * 4) / 3 > MAX_SOURCE_BASE64) {
      this.hooks.notice('error', l10n.t('{0} is larger than {1} MiB; use a smaller image.', file.name, Math.floor((MAX_SOURCE_BASE64 * 3) / 4 / 2 ** 20)));
      return;
    }
    const dataUrl = await new Promise<string>((resolve, reject) => {
      const r = new FileReader();
      r.onload = () => resolve(String(r.result));
      r.onerror = () => reject(r.error);
      r.readAsDataURL(file);
    });
    const comma = dataUrl.indexOf(',');
    this.hooks.post({ type: 'dropSource', name: file.name.slice(0, 200), dataBase64: dataUrl.slice(comma + 1) });
  }
}
