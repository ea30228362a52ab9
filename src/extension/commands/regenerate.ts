// CodeLens "Regenerate" on an image this extension made: same parameters (from the PNG
// metadata), a new seed; the link is replaced, the old file stays.

import * as vscode from 'vscode';
import { generateAndInsert, type GenerationOutcome } from '../generation/generateAndInsert';
import type { Services } from '../services';
import { imageAt, imageUri } from '../stubs/documentStubs';
import type { ImageInfoCache } from '../stubs/imageInfo';
import { requestForImage } from '../stubs/requests';
import { lineArgs } from './args';
import type { Command } from './commandManager';

export class RegenerateCommand implements Command {
  readonly id = 'courseIllustrator.regenerate';

  constructor(
    private readonly services: Services,
    private readonly images: ImageInfoCache,
    private readonly storage: vscode.Uri,
  ) {}

  async execute(...raw: unknown[]): Promise<GenerationOutcome | undefined> {
    const args = lineArgs(raw);
    if (!args) return undefined;
    const document = await vscode.workspace.openTextDocument(args.uri);
    const image = imageAt(document, args.line, args.index);
    const info = image && (await this.images.get(imageUri(document, image)));
    const request = image && info?.madeByCourseIllustrator ? requestForImage(document, image, info) : undefined;
    if (!request) {
      void vscode.window.showWarningMessage(`No image made by Course Illustrator on line ${args.line + 1}.`);
      return undefined;
    }
    return generateAndInsert(this.services, request, this.storage);
  }
}
