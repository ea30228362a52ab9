// "Generate 4 variations" (stub) / "Variations" (image made here): four images with new seeds,
// the user picks one, it is inserted like a single generation.

import * as vscode from 'vscode';
import { generateAndInsert, type GenerationOutcome } from '../generation/generateAndInsert';
import type { Services } from '../services';
import { imageAt, imageUri, stubAt } from '../stubs/documentStubs';
import type { ImageInfoCache } from '../stubs/imageInfo';
import { requestForImage, requestForStub } from '../stubs/requests';
import { lineArgs } from './args';
import type { Command } from './commandManager';

export const VARIATION_COUNT = 4;

export class GenerateVariationsCommand implements Command {
  readonly id = 'courseIllustrator.generateVariations';

  constructor(
    private readonly services: Services,
    private readonly images: ImageInfoCache,
    private readonly storage: vscode.Uri,
  ) {}

  async execute(...raw: unknown[]): Promise<GenerationOutcome | undefined> {
    const args = lineArgs(raw);
    if (!args) return undefined;
    const document = await vscode.workspace.openTextDocument(args.uri);
    if (raw[3] !== 'image') {
      const stub = stubAt(document, args.line, args.index);
      if (stub) return generateAndInsert(this.services, requestForStub(document, stub, VARIATION_COUNT), this.storage);
    }
    const image = imageAt(document, args.line, args.index);
    const info = image && (await this.images.get(imageUri(document, image)));
    const request = image && info?.madeByCourseIllustrator ? requestForImage(document, image, info, VARIATION_COUNT) : undefined;
    if (!request) {
      void vscode.window.showWarningMessage(`No stub or generated image on line ${args.line + 1}.`);
      return undefined;
    }
    return generateAndInsert(this.services, request, this.storage);
  }
}
