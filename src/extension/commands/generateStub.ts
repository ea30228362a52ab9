// CodeLens "Generate illustration" on a stub: replaces `![alt]()` with the image link (one
// undoable edit); under an illustrate comment the image goes on the next line.

import type { GenerationRequest } from '../generation/generateAndInsert';
import { stubAt } from '../stubs/documentStubs';
import { requestForStub } from '../stubs/requests';
import * as l10n from '@vscode/l10n';
import { warnNothingOnLine, type LineTarget } from './args';
import { GenerateAtLineCommand } from './generateAtLine';
import { COMMAND_IDS } from './ids';

export class GenerateStubCommand extends GenerateAtLineCommand {
  readonly id = COMMAND_IDS.generateStub;

  protected async requestAt(at: LineTarget): Promise<GenerationRequest | undefined> {
    const stub = stubAt(at.document, at.line, at.index);
    return stub ? requestForStub(at.document, stub) : warnNothingOnLine(l10n.t('No illustration stub on line {0} any more.', at.line + 1));
  }
}
