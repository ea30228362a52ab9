// CodeLenses above stubs ("Generate illustration", "Generate 4 variations", "Open in panel") and above images
// this extension made ("Regenerate", "Variations", "Show parameters"). Parsing is cached per
// document version (documentStubs.ts), so large files stay cheap.

import * as vscode from 'vscode';
import { decideDomain, templateDeclaration } from '../../core/domain';
import { hasGenerationParameters } from '../../core/galleryIndex';
import { isSourceImagePath } from '../../core/imageKind';
import { findTemplate } from '../../core/templates';
import { userTemplates } from '../generation/userTemplateStore';
import { declarationName, documentDeclarations } from '../generation/domainContext';
import { COMMAND_IDS, VARY_IMAGE_ARG } from '../commands/ids';
import type { Services } from '../services';
import { Disposable } from '../util/dispose';
import { imageUri, stubsOf, toRange } from './documentStubs';
import { openPanelArgument } from './panelArgument';
import type { ImageMetadataStore } from '../images/imageMetadata';

export class StubCodeLensProvider extends Disposable implements vscode.CodeLensProvider {
  private readonly _onDidChange = this._register(new vscode.EventEmitter<void>());
  readonly onDidChangeCodeLenses = this._onDidChange.event;

  constructor(
    private readonly services: Services,
    private readonly images: ImageMetadataStore,
  ) {
    super();
    this._register(images.onDidLearn(() => this._onDidChange.fire()));
    this._register(
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        // Images were not looked up while untrusted.
        images.invalidate();
        this._onDidChange.fire();
      }),
    );
  }

  refresh(): void {
    this._onDidChange.fire();
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const parsed = stubsOf(document);
    const lenses: vscode.CodeLens[] = [];
    const trusted = this.services.isTrusted();
    const uri = document.uri;
    const stubIndex = indexOnLine();
    const declared = trusted && parsed.stubs.length ? documentDeclarations(document).declarations : [];
    for (const stub of parsed.stubs) {
      const range = toRange(stub.range);
      const index = stubIndex(stub.range.line);
      if (!trusted) {
        lenses.push(new vscode.CodeLens(range, { title: vscode.l10n.t('$(shield) Restricted Mode: trust this workspace to generate illustrations'), command: 'workbench.trust.manage' }));
        continue;
      }
      const args = [uri, stub.range.line, index];
      const again = stub.kind === 'directive' && !!stub.image;
      // Whether this image will carry the medical label, and who declared it (core/domain.ts).
      const template = findTemplate(stub.options.template, userTemplates());
      const label = decideDomain([
        ...declared,
        stub.options.domain && { domain: stub.options.domain, source: 'directive' },
        templateDeclaration(template),
      ]);
      const medical = label?.domain === 'medical';
      const tooltip = medical ? vscode.l10n.t('{0}\nLabelled "AI-generated teaching image — not for diagnosis" (declared by {1}).', stub.prompt, declarationName(label.source)) : stub.prompt;
      lenses.push(new vscode.CodeLens(range, { title: generateTitle(again, medical), command: COMMAND_IDS.generateStub, arguments: args, tooltip }));
      lenses.push(new vscode.CodeLens(range, { title: vscode.l10n.t('Generate 4 variations'), command: COMMAND_IDS.generateVariations, arguments: args }));
      lenses.push(
        new vscode.CodeLens(range, {
          title: vscode.l10n.t('Open in panel'),
          command: COMMAND_IDS.openPanel,
          arguments: [openPanelArgument(uri, stub)],
          tooltip: vscode.l10n.t('Try prompts and settings in the results panel'),
        }),
      );
    }
    if (!trusted) return lenses;
    const imageIndex = indexOnLine();
    for (const image of parsed.images) {
      const i = imageIndex(image.range.line);
      const file = imageUri(document, image);
      const range = toRange(image.range);
      const args = [uri, image.range.line, i];
      // Any local picture can be redrawn: a scanned diagram, a textbook figure, one of ours.
      if (file.scheme === 'file' && isSourceImagePath(file.path)) {
        lenses.push(new vscode.CodeLens(range, { title: vscode.l10n.t('$(paintcan) Redraw…'), command: COMMAND_IDS.redrawImage, arguments: args, tooltip: vscode.l10n.t('Redraw this image, or paint over the part to change, in the panel') }));
      }
      const info = this.images.peek(file);
      // Ours, or another tool's with A1111 parameters: both can be made again and shown.
      if (!info || !hasGenerationParameters(info)) continue;
      lenses.push(new vscode.CodeLens(range, { title: vscode.l10n.t('$(refresh) Regenerate'), command: COMMAND_IDS.regenerate, arguments: args }));
      lenses.push(new vscode.CodeLens(range, { title: vscode.l10n.t('Variations'), command: COMMAND_IDS.generateVariations, arguments: [...args, VARY_IMAGE_ARG] }));
      lenses.push(new vscode.CodeLens(range, { title: vscode.l10n.t('Show parameters'), command: COMMAND_IDS.showParameters, arguments: args }));
    }
    return lenses;
  }
}

/** The stub's main lens: again when its directive has an image, and whether it gets the medical label. */
function generateTitle(again: boolean, medical: boolean): string {
  if (again) return medical ? vscode.l10n.t('$(sparkle) Generate illustration again · $(shield) medical label') : vscode.l10n.t('$(sparkle) Generate illustration again');
  return medical ? vscode.l10n.t('$(sparkle) Generate illustration · $(shield) medical label') : vscode.l10n.t('$(sparkle) Generate illustration');
}

/** Counts per line: the n-th call for a line returns n - 1 (the `index` argument of the commands). */
function indexOnLine(): (line: number) => number {
  const seen = new Map<number, number>();
  return (line) => {
    const i = seen.get(line) ?? 0;
    seen.set(line, i + 1);
    return i;
  };
}
