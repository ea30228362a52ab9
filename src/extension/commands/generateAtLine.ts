// What the CodeLens generate commands share: read the line arguments, open the document, turn
// what is on that line into a request (each command its own way), then the one generation flow.

import { generateAndInsert, type GenerationOutcome, type GenerationRequest } from '../generation/generateAndInsert';
import type { GenerationService } from '../generation/generationService';
import type { Services } from '../services';
import type { ImageMetadataStore } from '../images/imageMetadata';
import { lineTarget, type LineTarget } from './args';
import type { Command } from './commandManager';

export abstract class GenerateAtLineCommand implements Command {
  abstract readonly id: string;

  constructor(
    protected readonly services: Services,
    protected readonly images: ImageMetadataStore,
    private readonly generation: GenerationService,
  ) {}

  async execute(...raw: unknown[]): Promise<GenerationOutcome | undefined> {
    const at = await lineTarget(raw);
    const request = at && (await this.requestAt(at, raw));
    return request && generateAndInsert(this.generation, request);
  }

  /** The request for what is at `at`; undefined (after telling the user why) when nothing fits. */
  protected abstract requestAt(at: LineTarget, raw: unknown[]): Promise<GenerationRequest | undefined>;
}
