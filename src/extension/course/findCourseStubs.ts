// Finds the stubs of a document, a folder or the workspace, in lesson order, with what the time
// estimate needs (steps and size as the job will run them).

import * as vscode from 'vscode';
import { FAST } from '../../core/fastMode';
import type { ImageStub } from '../../core/stubs';
import type { ConfigSnapshot } from '../config';
import { stubsOf } from '../stubs/documentStubs';
import type { CourseStyle } from './courseStyle';
import type { CourseStyles } from './readCourseStyle';
import { type CurrentStub, type JobSize, type QueueItem, orderDocuments, wanted } from './courseQueue';

/** Folders no course keeps its lessons in. */
const EXCLUDE = '**/{node_modules,.git,.vscode,.course-illustrator}/**';

export interface FoundStubs {
  items: QueueItem[];
  /** Steps and size of each item, same order. */
  sizes: JobSize[];
  documents: number;
  /** Directives left out because they have an image already (taken with includeIllustrated). */
  illustrated: number;
}

export function currentStub(stub: ImageStub): CurrentStub {
  return { line: stub.range.line, prompt: stub.prompt, kind: stub.kind, illustrated: !!stub.image };
}

/** The Markdown files under `folder`, in lesson order. */
export async function markdownFilesIn(folder: vscode.Uri): Promise<vscode.Uri[]> {
  const found = await vscode.workspace.findFiles(new vscode.RelativePattern(folder, '**/*.md'), EXCLUDE);
  const byPath = new Map(found.map((u) => [u.path, u]));
  return orderDocuments([...byPath.keys()]).map((p) => byPath.get(p)!);
}

export async function findCourseStubs(documents: readonly vscode.Uri[], config: ConfigSnapshot, includeIllustrated: boolean, styles?: CourseStyles): Promise<FoundStubs> {
  const out: FoundStubs = { items: [], sizes: [], documents: 0, illustrated: 0 };
  for (const uri of documents) {
    const document = await vscode.workspace.openTextDocument(uri);
    let any = false;
    for (const stub of stubsOf(document).stubs) {
      const current = currentStub(stub);
      if (!wanted(current, includeIllustrated)) {
        out.illustrated++;
        continue;
      }
      any = true;
      out.items.push({ uri: uri.toString(), line: current.line, prompt: current.prompt, kind: current.kind });
      out.sizes.push(jobSize(stub, config, styles?.(uri) ?? {}));
    }
    if (any) out.documents++;
  }
  return out;
}

/** Steps and size as the run will make the stub: its options, else the course style, else the settings. */
function jobSize(stub: ImageStub, config: ConfigSnapshot, style: CourseStyle): JobSize {
  const o = stub.options;
  const fast = o.fast ?? style.fast ?? config.fastMode;
  const sized = o.width !== undefined ? o : style.width !== undefined ? style : config;
  return { steps: fast ? FAST.steps : (o.steps ?? config.steps), width: sized.width ?? config.width, height: sized.height ?? config.height };
}
