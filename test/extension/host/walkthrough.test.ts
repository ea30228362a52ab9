// The Getting Started walkthrough: contributed, its pages shipped, and it opens.

import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { EXTENSION_ID } from './helpers';

describe('Getting Started walkthrough', () => {
  it('has four steps whose pages exist, and opens', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext);
    const w = (ext.packageJSON.contributes.walkthroughs as { id: string; steps: { id: string; media: { markdown: string } }[] }[])[0];
    assert.deepStrictEqual(w.steps.map((s) => s.id), ['model', 'firstPicture', 'panel', 'course']);
    for (const s of w.steps) assert.ok(fs.existsSync(path.join(ext.extensionPath, s.media.markdown)), s.media.markdown);
    await vscode.commands.executeCommand('workbench.action.openWalkthrough', `${EXTENSION_ID}#${w.id}`, false);
  });
});
