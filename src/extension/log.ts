// The "Course Illustrator" output channel: engine stderr, timings and errors.

import * as vscode from 'vscode';
import type { Log } from './services';

export function createLog(): Log & vscode.Disposable {
  const channel = vscode.window.createOutputChannel('Course Illustrator', { log: true });
  return {
    info: (m) => channel.info(m),
    warn: (m) => channel.warn(m),
    error: (m) => channel.error(m),
    show: () => channel.show(true),
    dispose: () => channel.dispose(),
  };
}
