// CodeLens "Regenerate" on an image this extension made: same parameters (from the PNG
// metadata), a new seed; the link is replaced, the old file stays.

import type { GenerationRequest } from '../generation/generateAndInsert';
import { requestForImageAt } from '../stubs/requests';
import * as l10n from '@vscode/l10n';
import { warnNothingOnLine, type LineTarget } from './args';
import { GenerateAtLineCommand } from './generateAtLine';
import { COMMAND_IDS } from './ids';

export class RegenerateCommand extends GenerateAtLineCommand {
  readonly id = COMMAND_IDS.regenerate;

  protected async requestAt(at: LineTarget): Promise<GenerationRequest | undefined> {
    return (await requestForImageAt(this.images, at)) ?? warnNothingOnLine(l10n.t('No image made by Course Illustrator on line {0}.', at.line + 1));
  }
}
