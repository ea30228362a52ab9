// "Generate 4 variations" (stub) / "Variations" (image made here): four images with new seeds,
// the user picks one, it is inserted like a single generation.

import type { GenerationRequest } from '../generation/generateAndInsert';
import { stubAt } from '../stubs/documentStubs';
import { requestForImageAt, requestForStub } from '../stubs/requests';
import * as l10n from '@vscode/l10n';
import { warnNothingOnLine, type LineTarget } from './args';
import { GenerateAtLineCommand } from './generateAtLine';
import { COMMAND_IDS, VARY_IMAGE_ARG } from './ids';

export const VARIATION_COUNT = 4;

export class GenerateVariationsCommand extends GenerateAtLineCommand {
  readonly id = COMMAND_IDS.generateVariations;

  /** A fourth command argument VARY_IMAGE_ARG skips the stub on that line (the image lens). */
  protected async requestAt(at: LineTarget, raw: unknown[]): Promise<GenerationRequest | undefined> {
    const stub = raw[3] !== VARY_IMAGE_ARG ? stubAt(at.document, at.line, at.index) : undefined;
    if (stub) return requestForStub(at.document, stub, VARIATION_COUNT);
    return (await requestForImageAt(this.images, at, VARIATION_COUNT)) ?? warnNothingOnLine(l10n.t('No stub or generated image on line {0}.', at.line + 1));
  }
}
