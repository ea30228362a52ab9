import type { Services } from '../services';
import type { Command } from './commandManager';

export class ShowLogCommand implements Command {
  readonly id = 'courseIllustrator.showLog';

  constructor(private readonly services: Services) {}

  execute(): void {
    this.services.log.show();
  }
}
