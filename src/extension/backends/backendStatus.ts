// A status bar item that says where images are made: "$(vm) Local" or "$(server) School server"
// (with the server in the tooltip). Clicking it opens the courseIllustrator.backend setting.

import * as vscode from 'vscode';
import type { ConfigSnapshot } from '../config';
import type { Services } from '../services';
import { backendStatusText } from './backendStatusText';

export function createBackendStatus(services: Services): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('courseIllustrator.backend', vscode.StatusBarAlignment.Right, 90);
  item.name = vscode.l10n.t('Course Illustrator Backend');
  item.command = { title: vscode.l10n.t('Open Settings'), command: 'workbench.action.openSettings', arguments: ['courseIllustrator.backend'] };
  // The running job's step, from the engine's job events (commands, lenses, panel, course runs).
  let progress: { step: number; total: number } | undefined;
  const update = (c: ConfigSnapshot = services.config()) => {
    const active = services.engine.activeJobs().length;
    const s = backendStatusText(c, active > 0 ? { ...progress, waiting: active - 1 } : undefined);
    item.text = s.text;
    item.tooltip = s.tooltip;
  };
  update();
  item.show();
  const sub = services.onDidChangeConfig(update);
  const jobs = services.engine.onJob((e) => {
    if (e.kind === 'progress' && e.progress.stage === 'denoise') progress = { step: e.progress.step, total: e.progress.total };
    if (e.kind === 'started' || e.kind === 'finished' || e.kind === 'failed') progress = undefined;
    update();
  });
  return vscode.Disposable.from(sub, jobs, item);
}
