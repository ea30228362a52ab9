// The "Illustrate All Stubs" commands: a document, a folder (explorer menu, palette) or the whole
// workspace. Each finds the stubs, asks once with the count and a time estimate, then hands
// them to the runner (courseRun.ts). A window that opens with a queue left over offers to resume.

import * as path from 'path';
import * as vscode from 'vscode';
import { restrictedMessage } from '../generation/generateAndInsert';
import type { GenerationService } from '../generation/generationService';
import type { Services } from '../services';
import { type SavedQueue, estimateSeconds, estimateText } from './courseQueue';
import { REVIEW_VIEW_ID, CourseReview } from './courseReview';
import { CourseRunner, type RunSummary } from './courseRun';
import { type FoundStubs, findCourseStubs, markdownFilesIn } from './findCourseStubs';
import { readCourseStyles } from './readCourseStyle';
import { readSpeed, trackSpeed } from './speedTracker';

export const COURSE_COMMANDS = {
  document: 'courseIllustrator.illustrateAll',
  folder: 'courseIllustrator.illustrateAllInFolder',
  workspace: 'courseIllustrator.illustrateAllInWorkspace',
  skip: 'courseIllustrator.skipCurrentStub',
  resume: 'courseIllustrator.resumeIllustrateAll',
  reviewInsert: 'courseIllustrator.review.insert',
  reviewInsertAll: 'courseIllustrator.review.insertAll',
  reviewRegenerate: 'courseIllustrator.review.regenerate',
  reviewVary: 'courseIllustrator.review.vary',
  reviewDrop: 'courseIllustrator.review.drop',
} as const;

/** Last argument scripts and tests may pass: `ask: false` starts without the question. */
export interface IllustrateAllOptions {
  ask?: boolean;
  includeIllustrated?: boolean;
  /** The images wait in the Course Review view until inserted (the question's "Review First"). */
  review?: boolean;
}

export function registerCourse(context: vscode.ExtensionContext, services: Services, generation: GenerationService): vscode.Disposable {
  const state = context.workspaceState;
  const review = new CourseReview(generation, state);
  const runner = new CourseRunner(services, state, generation, review);
  const run = (scope: Scope | undefined, args: unknown[]) => scope && illustrate(services, runner, state, scope, optionsOf(args));
  const disposables = [
    review,
    vscode.window.createTreeView(REVIEW_VIEW_ID, { treeDataProvider: review, showCollapseAll: false }),
    vscode.commands.registerCommand(COURSE_COMMANDS.reviewInsert, (node?: unknown) => review.insert(documentOf(node))),
    vscode.commands.registerCommand(COURSE_COMMANDS.reviewInsertAll, () => review.insert()),
    vscode.commands.registerCommand(COURSE_COMMANDS.reviewRegenerate, (node?: unknown) => imageOf(node) && review.regenerate(imageOf(node)!)),
    vscode.commands.registerCommand(COURSE_COMMANDS.reviewVary, (node?: unknown) => imageOf(node) && review.vary(imageOf(node)!)),
    vscode.commands.registerCommand(COURSE_COMMANDS.reviewDrop, (node?: unknown) => imageOf(node) && review.drop(imageOf(node)!)),
    trackSpeed(services, state),
    vscode.commands.registerCommand(COURSE_COMMANDS.document, async (...args: unknown[]) => run(await documentScope(args[0]), args)),
    vscode.commands.registerCommand(COURSE_COMMANDS.folder, async (...args: unknown[]) => run(await folderScope(args[0]), args)),
    vscode.commands.registerCommand(COURSE_COMMANDS.workspace, async (...args: unknown[]) => run(await workspaceScope(), args)),
    vscode.commands.registerCommand(COURSE_COMMANDS.skip, () => {
      if (!runner.skip()) void vscode.window.showInformationMessage(vscode.l10n.t('No stub is being illustrated.'));
    }),
    vscode.commands.registerCommand(COURSE_COMMANDS.resume, () => resume(services, runner)),
  ];
  offerResume(services, runner);
  return vscode.Disposable.from(...disposables);
}

interface Scope {
  documents: vscode.Uri[];
  /** For messages: a file or folder name, or "the workspace". */
  name: string;
}

function optionsOf(args: unknown[]): IllustrateAllOptions {
  const last = args[args.length - 1];
  return last && typeof last === 'object' && !Array.isArray(last) && !(last instanceof vscode.Uri) && ('ask' in last || 'includeIllustrated' in last || 'review' in last) ? (last as IllustrateAllOptions) : {};
}

/** A tree node or a script's argument: a document's node gives its uri, an image's its id. */
function documentOf(node: unknown): string | undefined {
  if (typeof node === 'string') return node;
  return node && typeof node === 'object' && 'kind' in node && node.kind === 'document' && 'uri' in node && typeof node.uri === 'string' ? node.uri : undefined;
}

function imageOf(node: unknown): string | undefined {
  if (typeof node === 'string') return node;
  if (!node || typeof node !== 'object' || !('item' in node)) return undefined;
  const item = node.item as { id?: unknown };
  return typeof item.id === 'string' ? item.id : undefined;
}

function uriArg(a: unknown): vscode.Uri | undefined {
  return a instanceof vscode.Uri ? a : typeof a === 'string' ? vscode.Uri.parse(a) : undefined;
}

async function documentScope(arg: unknown): Promise<Scope | undefined> {
  const uri = uriArg(arg) ?? vscode.window.activeTextEditor?.document.uri;
  if (!uri) {
    void vscode.window.showInformationMessage(vscode.l10n.t('Open a lesson (a Markdown file) first, or use Illustrate All Stubs in Folder.'));
    return undefined;
  }
  if (uri.scheme === 'untitled') {
    void vscode.window.showWarningMessage(vscode.l10n.t('Save this document first: its images go in a folder next to it.'));
    return undefined;
  }
  return { documents: [uri], name: path.posix.basename(uri.path) };
}

async function folderScope(arg: unknown): Promise<Scope | undefined> {
  let folder = uriArg(arg);
  if (!folder) {
    const picked = await vscode.window.showWorkspaceFolderPick({ placeHolder: vscode.l10n.t('Illustrate the stubs of which folder?') });
    folder = picked?.uri;
  }
  if (!folder) return undefined;
  return { documents: await markdownFilesIn(folder), name: vscode.workspace.asRelativePath(folder, false) || path.posix.basename(folder.path) };
}

async function workspaceScope(): Promise<Scope | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (!folders.length) {
    void vscode.window.showInformationMessage(vscode.l10n.t('Open your course folder first (File > Open Folder…).'));
    return undefined;
  }
  const documents = (await Promise.all(folders.map((f) => markdownFilesIn(f.uri)))).flat();
  return { documents, name: vscode.l10n.t('the workspace') };
}

async function illustrate(services: Services, runner: CourseRunner, state: vscode.Memento, scope: Scope, options: IllustrateAllOptions): Promise<RunSummary | undefined> {
  if (!services.isTrusted()) {
    void vscode.window.showWarningMessage(restrictedMessage());
    return undefined;
  }
  if (runner.running) {
    void vscode.window.showInformationMessage(vscode.l10n.t('Already illustrating: use Skip Current Stub, or Cancel in its notification, first.'));
    return undefined;
  }
  // Read first: a course.json with mistakes is said before the question.
  const styles = await readCourseStyles(scope.documents);
  if (!styles) return undefined;
  let includeIllustrated = options.includeIllustrated === true;
  let review = options.review === true;
  let found = await findCourseStubs(scope.documents, services.config(), includeIllustrated, styles);
  if (options.ask !== false) {
    const answer = await ask(found, scope, readSpeed(state));
    if (!answer) return undefined;
    if (answer === 'review') review = true;
    if (answer === 'redo') {
      includeIllustrated = true;
      found = await findCourseStubs(scope.documents, services.config(), true, styles);
    }
  }
  if (!found.items.length) {
    if (options.ask === false) void vscode.window.showInformationMessage(vscode.l10n.t('No illustration stubs waiting in {0}.', scope.name));
    return undefined;
  }
  // Asked before the run, not at its first stub: the first-run model choice is a question of its own.
  if (!(await services.ensureModel())) return undefined;
  const queue: SavedQueue = { version: 1, total: found.items.length, includeIllustrated, ...(review ? { review: true } : {}), items: found.items };
  const summary = await runner.run(queue);
  if (review && summary?.done) void showReview(summary.done);
  return summary;
}

async function showReview(count: number): Promise<void> {
  const show = vscode.l10n.t('Show Course Review');
  const answer = await vscode.window.showInformationMessage(
    count === 1 ? vscode.l10n.t('1 image waits in Course Review: insert, make again or vary it there.') : vscode.l10n.t('{0} images wait in Course Review: insert, make again or vary them there.', count),
    show,
  );
  if (answer === show) await vscode.commands.executeCommand(`${REVIEW_VIEW_ID}.focus`);
}

/**
 * "Illustrate 23 stubs in 7 documents?" with the estimate; 'redo' also makes illustrated
 * directives again; 'review' keeps the images out of the lessons until accepted.
 */
async function ask(found: FoundStubs, scope: Scope, speed: ReturnType<typeof readSpeed>): Promise<'go' | 'review' | 'redo' | undefined> {
  const redo = found.illustrated ? vscode.l10n.t('Also Redo the {0} Illustrated', found.illustrated) : undefined;
  if (!found.items.length) {
    const message = vscode.l10n.t('No illustration stubs waiting in {0}.', scope.name);
    if (!redo) {
      void vscode.window.showInformationMessage(message);
      return undefined;
    }
    const answer = await vscode.window.showInformationMessage(message, { modal: true, detail: vscode.l10n.t('{0} directives already have an image under them.', found.illustrated) }, redo);
    return answer === redo ? 'redo' : undefined;
  }
  const where = found.documents === 1 ? scope.name : vscode.l10n.t('{0} documents', found.documents);
  const question = found.items.length === 1 ? vscode.l10n.t('Illustrate 1 stub in {0}?', where) : vscode.l10n.t('Illustrate {0} stubs in {1}?', found.items.length, where);
  const time = estimateText(estimateSeconds(found.sizes, speed));
  const lines = [
    speed
      ? vscode.l10n.t("{0} at this machine's speed (measured over {1} images).", capitalised(time), speed.jobs)
      : vscode.l10n.t("{0} at a laptop's speed: a first guess, as no image was made here yet.", capitalised(time)),
    vscode.l10n.t('One image at a time, each inserted as its lens would. You can skip one or cancel in the notification; a reloaded window offers to go on.'),
  ];
  if (found.illustrated) lines.push(vscode.l10n.t('{0} directives already have an image under them and are left as they are.', found.illustrated));
  const go = vscode.l10n.t('Illustrate');
  const reviewFirst = vscode.l10n.t('Review First');
  lines.push(vscode.l10n.t("Review First: the images wait in the Course Review view, and each lesson's go in as one edit when you accept them."));
  const answer = await vscode.window.showInformationMessage(question, { modal: true, detail: lines.join('\n') }, go, reviewFirst, ...(redo ? [redo] : []));
  return answer === go ? 'go' : answer === reviewFirst ? 'review' : answer && answer === redo ? 'redo' : undefined;
}

function capitalised(s: string): string {
  return s.charAt(0).toLocaleUpperCase() + s.slice(1);
}

function resume(services: Services, runner: CourseRunner): Promise<RunSummary | undefined> | undefined {
  const saved = runner.saved();
  if (!saved) {
    void vscode.window.showInformationMessage(vscode.l10n.t('Nothing to resume: no course illustration was left unfinished.'));
    return undefined;
  }
  if (runner.running) return undefined;
  if (!services.isTrusted()) {
    void vscode.window.showWarningMessage(restrictedMessage());
    return undefined;
  }
  return runner.run(saved);
}

/** A window that opens with a run left over (reloaded, VS Code restarted) asks before going on. */
function offerResume(services: Services, runner: CourseRunner): void {
  const saved = runner.saved();
  if (!saved || !services.isTrusted()) return;
  const left = saved.items.length;
  const go = vscode.l10n.t('Resume');
  const discard = vscode.l10n.t('Discard');
  const question = left === 1 ? vscode.l10n.t('Resume illustrating the course (1 stub left)?') : vscode.l10n.t('Resume illustrating the course ({0} stubs left)?', left);
  void vscode.window.showInformationMessage(question, go, discard).then((answer) => {
    if (answer === go) void resume(services, runner);
    else if (answer === discard) void runner.discardSaved();
  });
}
