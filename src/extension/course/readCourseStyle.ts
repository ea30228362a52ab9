// Reads each workspace folder's .course-illustrator/course.json for a run. A file with mistakes
// stops the run before it starts, with every problem and an Open File button: a course half
// made in the wrong style is worse than a message.

import * as vscode from 'vscode';
import { COURSE_FILE, type CourseStyle, parseCourseStyle } from './courseStyle';

const MAX_FILE_BYTES = 64 * 1024;

/** The style of the workspace folder each document is in (no file: no style). */
export type CourseStyles = (document: vscode.Uri) => CourseStyle | undefined;

/** The styles of the documents' folders; undefined (the user told why) when a file is wrong. */
export async function readCourseStyles(documents: readonly vscode.Uri[]): Promise<CourseStyles | undefined> {
  const byFolder = new Map<string, CourseStyle>();
  for (const uri of documents) {
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    if (!folder || byFolder.has(folder.uri.toString())) continue;
    const file = vscode.Uri.joinPath(folder.uri, COURSE_FILE);
    let bytes: Uint8Array;
    try {
      bytes = await vscode.workspace.fs.readFile(file);
    } catch {
      byFolder.set(folder.uri.toString(), {});
      continue;
    }
    const { style, problems } = bytes.byteLength > MAX_FILE_BYTES ? { style: {}, problems: [vscode.l10n.t('It is larger than 64 KB.')] } : parseCourseStyle(new TextDecoder().decode(bytes));
    if (problems.length) {
      const open = vscode.l10n.t('Open File');
      void vscode.window
        .showErrorMessage(vscode.l10n.t('{0} has mistakes, so nothing was illustrated: {1}', vscode.workspace.asRelativePath(file), problems.join(' ')), open)
        .then((a) => {
          if (a === open) void vscode.window.showTextDocument(file);
        });
      return undefined;
    }
    byFolder.set(folder.uri.toString(), style);
  }
  return (document) => {
    const folder = vscode.workspace.getWorkspaceFolder(document);
    return folder && byFolder.get(folder.uri.toString());
  };
}
