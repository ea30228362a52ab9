// CodeLens "Generate illustration" on a stub: replaces `![alt]()` with the image link (one
// undoable edit); under an illustrate comment the image goes on the next line.

import * as vscode from 'vscode';
import { generateAndInsert, type GenerationOutcome } from '../generation/generateAndInsert';
import type { Services } from '../services';
import { stubAt } from '../stubs/documentStubs';
import { requestForStub } from '../stubs/requests';
import { lineArgs } from './args';
import type { Command } from './commandManager';

export class GenerateStubCommand implements Command {
  readonly id = 'courseIllustrator.generateStub';

  constructor(
    private readonly services: Services,
    private readonly storage: vscode.Uri,
  ) {}

  async execute(...raw: unknown[]): Promise<GenerationOutcome | undefined> {
    const args = lineArgs(raw);
    if (!args) return undefined;
    const document = await vscode.workspace.openTextDocument(args.uri);
    const stub = stubAt(document, args.line, args.index);
    if (!stub) {
      void vscode.window.showWarningMessage(`No illustration stub on line ${args.line + 1} any more.`);
      return undefined;
    }
    return generateAndInsert(this.services, requestForStub(document, stub), this.storage);
  }
}
