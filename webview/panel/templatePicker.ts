// The form's template: one select (none, the built-in ones, the teacher's own, and two "Compose:"
// entries), and for a composed template the small selects of its parts (school level, subject,
// content type; modality, view). The form reads and writes one template id, the id a directive
// with `level:`, `subject:`, `type:` (or `modality:`, `view:`) makes, so the parts come back with
// it from a PNG's parameters or a stub.

import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/index.js';
import { type PromptTemplate, findTemplate } from '../../src/core/templates';
import { COMPOSE_CHOICE, DEFAULT_VIEW, type TemplateParts, composedId, defaultParts, templateParts } from '../../src/core/templateParts';
import { byId, el } from '../shared/vscodeApi';

export class TemplatePicker {
  private readonly select = byId<VscodeSingleSelect>('template');
  private readonly level = byId<VscodeSingleSelect>('template-level');
  private readonly subject = byId<VscodeSingleSelect>('template-subject');
  private readonly type = byId<VscodeSingleSelect>('template-type');
  private readonly modality = byId<VscodeSingleSelect>('template-modality');
  private readonly view = byId<VscodeSingleSelect>('template-view');
  /** The teacher's own templates, after the built-in ones (the extension sends them). */
  private own: readonly PromptTemplate[] = [];

  constructor(changed: () => void) {
    this.select.addEventListener('change', () => {
      const kind = this.composing();
      this.showParts(kind ? defaultParts(kind) : undefined);
      changed();
    });
    for (const s of [this.level, this.subject, this.type, this.modality, this.view]) {
      s.addEventListener('change', () => {
        this.enableType();
        changed();
      });
    }
  }

  /** The chosen template's id; '' for none. */
  id(): string {
    switch (this.composing()) {
      case 'edu':
        return composedId({ kind: 'edu', level: this.level.value, subject: this.subject.value, type: this.type.value }) ?? '';
      case 'med':
        return composedId({ kind: 'med', modality: this.modality.value, view: this.view.value }) ?? '';
      default:
        return findTemplate(this.select.value, this.own)?.id ?? '';
    }
  }

  template(): PromptTemplate | undefined {
    return this.find(this.id());
  }

  /** A template by id, the teacher's own included. */
  find(id: string | undefined): PromptTemplate | undefined {
    return findTemplate(id, this.own);
  }

  /** Shows template `id` (named, the teacher's own or composed); an unknown one shows none. */
  set(id: string | undefined): void {
    const parts = templateParts(id);
    if (parts) {
      this.select.value = COMPOSE_CHOICE[parts.kind];
      this.showParts(parts);
      return;
    }
    this.select.value = findTemplate(id, this.own)?.id ?? '';
    this.showParts(undefined);
  }

  /** The teacher's own templates, listed before the "Compose:" entries; the choice is kept. */
  setOwn(list: readonly PromptTemplate[]): void {
    const chosen = this.id();
    this.own = list;
    for (const o of [...this.select.querySelectorAll('vscode-option[data-own]')]) o.remove();
    const composeEntry = this.select.querySelector(`vscode-option[value="${COMPOSE_CHOICE.edu}"]`);
    for (const t of list) this.select.insertBefore(el('vscode-option', { text: t.label, attrs: { value: t.id, 'data-own': '' } }), composeEntry);
    this.set(chosen);
  }

  private composing(): TemplateParts['kind'] | undefined {
    const v = this.select.value;
    return v === COMPOSE_CHOICE.edu ? 'edu' : v === COMPOSE_CHOICE.med ? 'med' : undefined;
  }

  private showParts(parts: TemplateParts | undefined): void {
    byId('template-edu').hidden = parts?.kind !== 'edu';
    byId('template-med').hidden = parts?.kind !== 'med';
    if (parts?.kind === 'edu') {
      this.level.value = parts.level;
      this.subject.value = parts.subject ?? '';
      this.type.value = parts.type ?? '';
      this.enableType();
    } else if (parts?.kind === 'med') {
      this.modality.value = parts.modality;
      this.view.value = parts.view ?? DEFAULT_VIEW;
    }
  }

  /** A content type needs a subject (the id has no place for a type alone). */
  private enableType(): void {
    const none = this.subject.value === '';
    if (none) this.type.value = '';
    this.type.disabled = none;
  }
}
