// "Cancel Generation": cancels every running or queued job.

import * as vscode from 'vscode';
import type { Services } from '../services';
import type { Command } from './commandManager';
import { COMMAND_IDS } from './ids';

export class CancelCommand implements Command {
  readonly id = COMMAND_IDS.cancel;

  constructor(private readonly services: Services) {}

  async execute(): Promise<number> {
    const jobs = this.services.engine.activeJobs();
    if (jobs.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No illustration is being generated.'));
      return 0;
    }
    const results = await Promise.all(jobs.map((id) => this.services.engine.cancel(id)));
    return results.filter(Boolean).length;
  }
}
