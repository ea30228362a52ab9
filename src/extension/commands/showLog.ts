import type { Services } from '../services';
import type { Command } from './commandManager';
import { COMMAND_IDS } from './ids';

export class ShowLogCommand implements Command {
  readonly id = COMMAND_IDS.showLog;

  constructor(private readonly services: Services) {}

  execute(): void {
    this.services.log.show();
  }
}
