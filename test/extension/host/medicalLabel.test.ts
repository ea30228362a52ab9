// The medical label in real VS Code: decided by what the document, the settings, the directive,
// the template or the image itself declare, never by the prompt's words; checked on the PNG's
// bytes (infotext, XMP) and on the Markdown inserted.

import * as assert from 'assert';
import * as fs from 'fs';
import * as vscode from 'vscode';
import type { GenerationOutcome } from '../../../src/extension/generation/generateAndInsert';
import { freshMarkdown } from './helpers';

function labels(file: string): { infotext: boolean; xmp: boolean } {
  const bytes = fs.readFileSync(file).toString('latin1');
  return { infotext: /AI label: "AI-generated teaching image, not for diagnosis"/.test(bytes), xmp: /not for diagnosis\)<\/rdf:li>/.test(bytes) };
}

async function stub(rel: string, text: string, line: number): Promise<{ outcome: GenerationOutcome; editor: vscode.TextEditor }> {
  const editor = await freshMarkdown(rel, text);
  const outcome = await vscode.commands.executeCommand<GenerationOutcome>('courseIllustrator.generateStub', editor.document.uri, line);
  assert.ok(outcome, 'the image was made');
  return { outcome, editor };
}

describe('the medical label, by declaration', () => {
  it('front matter labels every image of the document, even a harmless-looking prompt; alt text says (AI-generated)', async () => {
    const { outcome, editor } = await stub('course/cardio.md', '---\ntitle: Cardiology\nillustrate: { domain: medical }\n---\n\n![a friendly heart diagram]()\n', 5);
    assert.deepStrictEqual(labels(outcome.file), { infotext: true, xmp: true });
    assert.match(editor.document.lineAt(5).text, /^!\[a friendly heart diagram \(AI-generated\)\]\(images\/cardio\/a-friendly-heart-diagram-\d+\.png\)$/);
  });

  it('a stub cannot remove the label its document declares', async () => {
    const { outcome } = await stub('course/cardio2.md', '---\nillustrate: { domain: medical }\n---\n<!-- illustrate: an ECG strip | domain: general | steps: 2 -->\n', 3);
    assert.deepStrictEqual(labels(outcome.file), { infotext: true, xmp: true });
  });

  it('words alone never label: a clinical prompt in an undeclared document is not labelled', async () => {
    const { outcome, editor } = await stub('course/plain.md', '![chest X-ray (CXR) of pneumonia]()\n', 0);
    assert.deepStrictEqual(labels(outcome.file), { infotext: false, xmp: false });
    assert.ok(!editor.document.getText().includes('(AI-generated)'));
  });

  it('a directive, and the courseIllustrator.domain setting of the folder, declare it too; Chinese documents get a Chinese alt text', async () => {
    const directive = await stub('course/d.md', '<!-- illustrate: a knee joint | domain: medical | steps: 2 -->\n', 0);
    assert.deepStrictEqual(labels(directive.outcome.file), { infotext: true, xmp: true });
    const config = vscode.workspace.getConfiguration('courseIllustrator');
    await config.update('domain', 'medical', vscode.ConfigurationTarget.Workspace);
    try {
      const { outcome, editor } = await stub('course/zh.md', '# 心脏的结构\n\n心脏由四个腔组成。\n\n![心脏结构示意图]()\n', 4);
      assert.deepStrictEqual(labels(outcome.file), { infotext: true, xmp: true });
      assert.match(editor.document.lineAt(4).text, /^!\[心脏结构示意图（AI生成）\]\(/);
    } finally {
      await config.update('domain', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('regenerating a labelled image keeps its label, wherever its link now is', async () => {
    const { outcome, editor } = await stub('course/keep.md', '---\nillustrate: { domain: medical }\n---\n![a lung lobe]()\n', 3);
    // The link moves to a document next to it that declares nothing.
    const moved = await freshMarkdown('course/moved.md', `${editor.document.lineAt(3).text}\n`);
    const again = await vscode.commands.executeCommand<GenerationOutcome>('courseIllustrator.regenerate', moved.document.uri, 0);
    assert.ok(again && again.file !== outcome.file);
    assert.deepStrictEqual(labels(again.file), { infotext: true, xmp: true });
  });
});
