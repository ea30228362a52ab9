import * as assert from 'assert';
import * as vscode from 'vscode';
import { findTemplate } from '../../../src/core/templates';
import type { PanelPrefill } from '../../../src/extension/panel';
import { freshMarkdown, waitFor } from './helpers';

function panelTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('courseIllustrator.panel'));
}

describe('"Open in panel" with a scheduler and a template', () => {
  it('fills the panel with the subject, the template chosen beside it and the resolved scheduler, like the Generate lens would use', async () => {
    const editor = await freshMarkdown(
      'course/panel-template.md',
      'Intro\n<!-- illustrate: a heart | template: medical-cross-section | scheduler: Euler a | seed: 5 | size: 64x64 -->\n',
    );
    for (const t of panelTabs()) await vscode.window.tabGroups.close(t);
    const all = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', editor.document.uri, 100)) ?? [];
    const lens = all.find((l) => l.command?.title === 'Open in panel');
    assert.ok(lens?.command, `an "Open in panel" lens is above the stub (got ${all.map((l) => l.command?.title).join(', ')})`);
    const [arg] = lens.command.arguments ?? [];
    assert.strictEqual(arg.template, 'medical-cross-section');
    assert.strictEqual(arg.settings.scheduler, 'Euler a');

    const prefill = await vscode.commands.executeCommand<PanelPrefill>(lens.command.command, ...(lens.command.arguments ?? []));
    const template = findTemplate('medical-cross-section');
    assert.ok(template);
    const configNegative = vscode.workspace.getConfiguration('courseIllustrator').get<string>('negativePrompt') ?? '';
    assert.strictEqual(prefill.document?.toString(), editor.document.uri.toString());
    assert.deepStrictEqual(prefill.settings, {
      prompt: 'a heart',
      template: 'medical-cross-section',
      negativePrompt: configNegative || template.negative,
      width: 64,
      height: 64,
      seed: 5,
      scheduler: 'euler-a',
    });
    const tab = await waitFor('the results panel tab', () => panelTabs()[0], 10_000);
    assert.strictEqual(tab.label, 'Illustrations');
    await vscode.window.tabGroups.close(tab);
  });

  it('brings a directive\'s level, subject and type to the panel as the composed template', async () => {
    const editor = await freshMarkdown('course/panel-composed.md', 'Intro\n<!-- illustrate: a plant cell | level: high | subject: biology | type: labelled-diagram | size: 64x64 -->\n');
    for (const t of panelTabs()) await vscode.window.tabGroups.close(t);
    const all = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', editor.document.uri, 100)) ?? [];
    const lens = all.find((l) => l.command?.title === 'Open in panel');
    assert.ok(lens?.command);
    const prefill = await vscode.commands.executeCommand<PanelPrefill>(lens.command.command, ...(lens.command.arguments ?? []));
    assert.strictEqual(prefill.settings?.template, 'edu.high.biology.labelled-diagram');
    assert.strictEqual(prefill.settings?.prompt, 'a plant cell', 'the form keeps the subject; the parts show beside it');
    const tab = await waitFor('the results panel tab', () => panelTabs()[0], 10_000);
    await vscode.window.tabGroups.close(tab);
  });

  it('opens the panel without an unknown scheduler or template instead of failing', async () => {
    for (const t of panelTabs()) await vscode.window.tabGroups.close(t);
    const prefill = await vscode.commands.executeCommand<PanelPrefill>('courseIllustrator.openPanel', {
      prompt: 'a lighthouse',
      template: 'no-such-template',
      settings: { prompt: 'a lighthouse', scheduler: 'warp-drive', steps: 3 },
    });
    assert.deepStrictEqual(prefill.settings, { prompt: 'a lighthouse', steps: 3, template: '' });
    const tab = await waitFor('the results panel tab', () => panelTabs()[0], 10_000);
    await vscode.window.tabGroups.close(tab);
  });
});
