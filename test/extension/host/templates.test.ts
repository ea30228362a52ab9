// Templates in real VS Code: composed ones from a directive's level/subject/type, and a teacher's
// own from .course-illustrator/templates.json, used by `template:` in a stub.

import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { GenerationOutcome } from '../../../src/extension/generation/generateAndInsert';
import { freshMarkdown, waitFor, workspaceDir } from './helpers';

function parameters(file: string): string {
  return fs.readFileSync(file).toString('latin1');
}

describe('templates', () => {
  it('a directive\'s level, subject and type compose the prompt; the alt text keeps the subject', async () => {
    const editor = await freshMarkdown('course/composed.md', '<!-- illustrate: the water cycle | level: high | subject: geography | type: process | steps: 2 -->\n');
    const made = await vscode.commands.executeCommand<GenerationOutcome>('courseIllustrator.generateStub', editor.document.uri, 0);
    assert.ok(made);
    const text = parameters(made.file);
    assert.match(text, /high school geography process diagram with arrows, cycle, the water cycle, clean detailed textbook illustration/);
    assert.match(text, /Template: edu\.high\.geography\.process/);
    assert.match(editor.document.lineAt(1).text, /^!\[the water cycle\]\(images\/composed\/the-water-cycle-\d+\.png\)$/);
  });

  it('uses the teacher\'s own template from .course-illustrator/templates.json, its domain included', async () => {
    const file = path.join(workspaceDir(), '.course-illustrator', 'templates.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ templates: [{ id: 'my-plates', label: 'My anatomy plates', prompt: '{subject}, copper engraving, sepia', domain: 'medical' }] }));
    try {
      // The file is read when it appears; until then the stub's template is unknown.
      let attempt = 0;
      const editor = await waitFor('the template to be known', async () => {
        // New text each time, so the stub is parsed again with the templates read so far.
        const e = await freshMarkdown(`course/own-${++attempt}.md`, '<!-- illustrate: a knee joint | template: my-plates | steps: 2 -->\n');
        await new Promise((r) => setTimeout(r, 200));
        const unknown = vscode.languages.getDiagnostics(e.document.uri).some((d) => /Unknown template/.test(d.message));
        return unknown ? undefined : e;
      });
      const made = await vscode.commands.executeCommand<GenerationOutcome>('courseIllustrator.generateStub', editor.document.uri, 0);
      assert.ok(made);
      const text = parameters(made.file);
      assert.match(text, /a knee joint, copper engraving, sepia/);
      assert.match(text, /Template: my-plates/);
      assert.match(text, /AI label: "AI-generated teaching image, not for diagnosis"/, 'its domain: medical labels the picture');
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });
});
