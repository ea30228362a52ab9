// "Course Illustrator: Generate Illustration": prompt from the selection or an input box, then
// size preset and negative prompt; the image goes to the cursor of the editor it started from.

import * as vscode from 'vscode';
import { promptLanguageProblem } from '../../core/promptLanguage';
import { SIZE_PRESETS, TEMPLATES } from '../../core/templates';
import { userTemplates } from '../generation/userTemplateStore';
import { parseSize } from '../config';
import { generateAndInsert, type GenerationOutcome } from '../generation/generateAndInsert';
import type { GenerationService } from '../generation/generationService';
import { templateLabel } from '../../core/templateLabels';
import { askComposedTemplate } from './composeTemplate';
import { TrackedRange } from '../insert/trackedPosition';
import type { ConfigSnapshot, Services } from '../services';
import type { Command } from './commandManager';
import { COMMAND_IDS } from './ids';

/** Arguments for scripted use (tests, other extensions); any missing value is asked for. */
export interface GenerateArgs {
  prompt?: string;
  negativePrompt?: string;
  /** "768x512" */
  size?: string;
  seed?: number;
  steps?: number;
  scheduler?: string;
  template?: string;
  /** The document; default: the active Markdown editor. */
  uri?: vscode.Uri | string;
  position?: { line: number; character: number };
}

export class GenerateCommand implements Command {
  readonly id = COMMAND_IDS.generate;

  constructor(
    private readonly services: Services,
    private readonly generation: GenerationService,
  ) {}

  async execute(arg?: GenerateArgs | vscode.Uri): Promise<GenerationOutcome | undefined> {
    const args: GenerateArgs = arg instanceof vscode.Uri ? { uri: arg } : (arg ?? {});
    const editor = vscode.window.activeTextEditor;
    const uri = typeof args.uri === 'string' ? vscode.Uri.parse(args.uri) : (args.uri ?? editor?.document.uri);
    if (!uri) {
      void vscode.window.showWarningMessage(vscode.l10n.t('Open a Markdown file first: the illustration is inserted at its cursor.'));
      return undefined;
    }
    const document = await vscode.workspace.openTextDocument(uri);
    if (document.languageId !== 'markdown') {
      void vscode.window.showWarningMessage(vscode.l10n.t('{0} is not Markdown: open a .md file to insert an illustration.', vscode.workspace.asRelativePath(uri)));
      return undefined;
    }
    const ownEditor = editor && editor.document.uri.toString() === uri.toString() ? editor : undefined;
    const selection = ownEditor?.selection;
    const selected = selection && !selection.isEmpty ? document.getText(selection).trim() : '';

    const scripted = args.prompt !== undefined;
    const prompt = scripted ? args.prompt : await askPrompt(selected);
    if (!prompt) return undefined;
    const template = args.template !== undefined || scripted ? args.template : await askTemplate();
    if (template === null) return undefined;
    const config = this.services.config();
    const size = parseSize(args.size) ?? (scripted ? undefined : await askSize(config));
    if (size === null) return undefined;
    const negativePrompt = args.negativePrompt !== undefined || scripted ? args.negativePrompt : await askNegativePrompt(config);
    if (negativePrompt === null) return undefined;
    const { target, mode } = whereToInsert(uri, document, args.position, selection);
    return generateAndInsert(this.generation, {
      document: uri,
      target,
      mode,
      settings: {
        prompt,
        negativePrompt: negativePrompt || undefined,
        seed: args.seed,
        steps: args.steps,
        scheduler: args.scheduler,
        template,
        width: size?.width,
        height: size?.height,
      },
      alt: prompt,
    });
  }
}

// The four steps ask only for what the arguments left open; null: the user cancelled.

async function askPrompt(selected: string): Promise<string | undefined> {
  const typed = await vscode.window.showInputBox({
    title: vscode.l10n.t('Generate Illustration (1/4): prompt'),
    prompt: vscode.l10n.t('Describe the illustration. It is inserted at the cursor.'),
    value: selected,
    // An example in English on purpose: the model reads English prompts.
    placeHolder: 'a labelled diagram of a plant cell, flat educational illustration',
    ignoreFocusOut: true,
    validateInput: (v) => {
      if (!v.trim()) return vscode.l10n.t('Write what the image should show.');
      // Not an error: the user may go on, but should know the model reads English.
      const language = promptLanguageProblem(v);
      return language ? { message: language, severity: vscode.InputBoxValidationSeverity.Warning } : undefined;
    },
  });
  return typed?.trim();
}

async function askTemplate(): Promise<string | undefined | null> {
  const title = vscode.l10n.t('Generate Illustration (2/4): template');
  const items: { label: string; description?: string; id: string; compose?: 'edu' | 'med'; kind?: vscode.QuickPickItemKind }[] = [
    { label: vscode.l10n.t('No template'), description: vscode.l10n.t('use the prompt as written'), id: '' },
    ...TEMPLATES.map((t) => ({ label: templateLabel(t, vscode.env.language), description: t.domain === 'medical' ? vscode.l10n.t('adds a visible "AI-generated" label') : '', id: t.id })),
    // The teacher's own (.course-illustrator/templates.json, courseIllustrator.templates).
    ...userTemplates().map((t) => ({ label: t.label, description: t.domain === 'medical' ? vscode.l10n.t('your template; adds a visible "AI-generated" label') : vscode.l10n.t('your template'), id: t.id })),
    // A template made of parts, as the directives' level:/subject:/type: and modality:/view: make it.
    { label: '', id: '', kind: vscode.QuickPickItemKind.Separator },
    { label: vscode.l10n.t('Compose: school level, subject, type…'), id: '', compose: 'edu' },
    { label: vscode.l10n.t('Compose: medical modality and view…'), description: vscode.l10n.t('adds a visible "AI-generated" label'), id: '', compose: 'med' },
  ];
  const pick = await vscode.window.showQuickPick(items, { title, ignoreFocusOut: true });
  if (!pick) return null;
  if (pick.compose) return askComposedTemplate(pick.compose, (part) => vscode.l10n.t('Generate Illustration (2/4): template · {0}', part));
  return pick.id || undefined;
}

async function askSize(config: ConfigSnapshot): Promise<{ width: number; height: number } | null> {
  const items = [
    { label: vscode.l10n.t('Default ({0}×{1})', config.width, config.height), description: 'courseIllustrator.size', width: config.width, height: config.height },
    ...SIZE_PRESETS.filter((p) => p.width !== config.width || p.height !== config.height).map((p) => ({ ...p })),
  ];
  const pick = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Generate Illustration (3/4): size'), ignoreFocusOut: true });
  return pick ? { width: pick.width, height: pick.height } : null;
}

async function askNegativePrompt(config: ConfigSnapshot): Promise<string | null> {
  const typed = await vscode.window.showInputBox({
    title: vscode.l10n.t('Generate Illustration (4/4): negative prompt (optional)'),
    prompt: vscode.l10n.t('What the image should not show. Press Enter to keep the default.'),
    value: config.negativePrompt,
    placeHolder: 'text, watermark, blurry',
    ignoreFocusOut: true,
  });
  return typed === undefined ? null : typed.trim();
}

/** An explicit position; else under a selection (the text stays); else the cursor or the end. */
function whereToInsert(
  uri: vscode.Uri,
  document: vscode.TextDocument,
  position: GenerateArgs['position'],
  selection: vscode.Selection | undefined,
): { target: TrackedRange; mode: 'insert' | 'lineAfter' } {
  if (position) {
    const p = new vscode.Position(position.line, position.character);
    return { target: new TrackedRange(uri, new vscode.Range(p, p)), mode: 'insert' };
  }
  if (selection && !selection.isEmpty) return { target: new TrackedRange(uri, new vscode.Range(selection.end, selection.end)), mode: 'lineAfter' };
  const p = selection?.active ?? document.lineAt(document.lineCount - 1).range.end;
  return { target: new TrackedRange(uri, new vscode.Range(p, p)), mode: 'insert' };
}
