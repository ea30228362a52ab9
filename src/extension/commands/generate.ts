// "Course Illustrator: Generate Illustration": prompt from the selection or an input box, then
// size preset and negative prompt; the image goes to the cursor of the editor it started from.

import * as vscode from 'vscode';
import { SIZE_PRESETS, TEMPLATES } from '../../core/templates';
import { parseSize } from '../config';
import { generateAndInsert, type GenerationOutcome } from '../generation/generateAndInsert';
import { TrackedRange } from '../insert/trackedPosition';
import type { Services } from '../services';
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
    private readonly storage: vscode.Uri,
  ) {}

  async execute(arg?: GenerateArgs | vscode.Uri): Promise<GenerationOutcome | undefined> {
    const args: GenerateArgs = arg instanceof vscode.Uri ? { uri: arg } : (arg ?? {});
    const editor = vscode.window.activeTextEditor;
    const uri = typeof args.uri === 'string' ? vscode.Uri.parse(args.uri) : (args.uri ?? editor?.document.uri);
    if (!uri) {
      void vscode.window.showWarningMessage('Open a Markdown file first: the illustration is inserted at its cursor.');
      return undefined;
    }
    const document = await vscode.workspace.openTextDocument(uri);
    if (document.languageId !== 'markdown') {
      void vscode.window.showWarningMessage(`${vscode.workspace.asRelativePath(uri)} is not Markdown: open a .md file to insert an illustration.`);
      return undefined;
    }
    const ownEditor = editor && editor.document.uri.toString() === uri.toString() ? editor : undefined;
    const selection = ownEditor?.selection;
    const selected = selection && !selection.isEmpty ? document.getText(selection).trim() : '';

    let prompt = args.prompt ?? selected;
    const scripted = args.prompt !== undefined;
    if (!scripted) {
      const typed = await vscode.window.showInputBox({
        title: 'Generate Illustration (1/4): prompt',
        prompt: 'Describe the illustration. It is inserted at the cursor.',
        value: prompt,
        placeHolder: 'a labelled diagram of a plant cell, flat educational illustration',
        ignoreFocusOut: true,
        validateInput: (v) => (v.trim() ? undefined : 'Write what the image should show.'),
      });
      if (!typed) return undefined;
      prompt = typed.trim();
    }
    if (!prompt) return undefined;

    let template = args.template;
    if (template === undefined && !scripted) {
      const items = [
        { label: 'No template', description: 'use the prompt as written', id: '' },
        ...TEMPLATES.map((t) => ({ label: t.label, description: t.domain === 'medical' ? 'adds a visible "AI-generated" label' : '', id: t.id })),
      ];
      const pick = await vscode.window.showQuickPick(items, { title: 'Generate Illustration (2/4): template', ignoreFocusOut: true });
      if (!pick) return undefined;
      template = pick.id || undefined;
    }

    const config = this.services.config();
    let size = parseSize(args.size);
    if (!size && !scripted) {
      const defaultLabel = `${config.width}×${config.height}`;
      const items = [
        { label: `Default (${defaultLabel})`, description: 'courseIllustrator.size', width: config.width, height: config.height },
        ...SIZE_PRESETS.filter((p) => p.width !== config.width || p.height !== config.height).map((p) => ({ ...p })),
      ];
      const pick = await vscode.window.showQuickPick(items, { title: 'Generate Illustration (3/4): size', ignoreFocusOut: true });
      if (!pick) return undefined;
      size = { width: pick.width, height: pick.height };
    }
    let negativePrompt = args.negativePrompt;
    if (negativePrompt === undefined && !scripted) {
      const typed = await vscode.window.showInputBox({
        title: 'Generate Illustration (4/4): negative prompt (optional)',
        prompt: 'What the image should not show. Press Enter to keep the default.',
        value: config.negativePrompt,
        placeHolder: 'text, watermark, blurry',
        ignoreFocusOut: true,
      });
      if (typed === undefined) return undefined;
      negativePrompt = typed.trim();
    }

    // With a selection the text stays; the image goes on a new line under it.
    let target: TrackedRange;
    let mode: 'insert' | 'lineAfter';
    if (args.position) {
      const p = new vscode.Position(args.position.line, args.position.character);
      target = new TrackedRange(uri, new vscode.Range(p, p));
      mode = 'insert';
    } else if (selection && !selection.isEmpty) {
      target = new TrackedRange(uri, new vscode.Range(selection.end, selection.end));
      mode = 'lineAfter';
    } else {
      const p = selection?.active ?? document.lineAt(document.lineCount - 1).range.end;
      target = new TrackedRange(uri, new vscode.Range(p, p));
      mode = 'insert';
    }
    return generateAndInsert(
      this.services,
      {
        document: uri,
        target,
        mode,
        prompt,
        alt: prompt,
        negativePrompt: negativePrompt || undefined,
        seed: args.seed,
        steps: args.steps,
        scheduler: args.scheduler,
        template,
        width: size?.width,
        height: size?.height,
      },
      this.storage,
    );
  }
}
