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
  const update = (c: ConfigSnapshot) => {
    const s = backendStatusText(c);
    item.text = s.text;
    item.tooltip = s.tooltip;
  };
  update(services.config());
  item.show();
  const sub = services.onDidChangeConfig(update);
  return vscode.Disposable.from(sub, item);
}
