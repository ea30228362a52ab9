// Registers Command objects (one per file in this folder) and disposes them together.

import * as vscode from 'vscode';

export interface Command {
  readonly id: string;
  // Commands take what their callers pass (CodeLens arguments, scripts); each checks its own.
  execute(...args: unknown[]): unknown;
}

export class CommandManager {
  private readonly commands = new Map<string, vscode.Disposable>();

  register<T extends Command>(command: T): vscode.Disposable {
    if (!this.commands.has(command.id)) {
      this.commands.set(command.id, vscode.commands.registerCommand(command.id, command.execute, command));
    }
    return new vscode.Disposable(() => {
      this.commands.get(command.id)?.dispose();
      this.commands.delete(command.id);
    });
  }

  dispose(): void {
    for (const d of this.commands.values()) d.dispose();
    this.commands.clear();
  }
}
