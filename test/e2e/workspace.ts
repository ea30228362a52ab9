// A small course workspace for the in-host and UI tests, using the tiny fixture model.

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

export const INTRO_MD = ['# Plant cells', '', 'Cells are the building blocks of plants.', '', ''].join('\n');

export const STUBS_MD = [
  '# Stubs',
  '',
  '![a labelled plant cell]()',
  '',
  'Some text between the stubs.',
  '',
  '<!-- illustrate: a heart cross-section | seed: 42 | steps: 3 | size: 64x64 -->',
  '',
  'The end.',
  '',
].join('\n');

export interface WorkspaceOptions {
  modelDir: string;
  /** Extra workspace settings. */
  settings?: Record<string, unknown>;
}

export function makeWorkspace(dir: string, opts: WorkspaceOptions): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'course'), { recursive: true });
  mkdirSync(path.join(dir, '.vscode'), { recursive: true });
  writeFileSync(path.join(dir, 'course', 'intro.md'), INTRO_MD);
  writeFileSync(path.join(dir, 'course', 'stubs.md'), STUBS_MD);
  writeFileSync(
    path.join(dir, '.vscode', 'settings.json'),
    JSON.stringify(
      {
        'courseIllustrator.modelPath': opts.modelDir,
        // The tiny model makes any size quickly; small keeps the runs short on 2 cores.
        'courseIllustrator.size': '64x64',
        'courseIllustrator.steps': 3,
        'courseIllustrator.previewEvery': 1,
        ...opts.settings,
      },
      null,
      2,
    ),
  );
  return dir;
}
