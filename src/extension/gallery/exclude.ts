// The folders the gallery never searches, for images and for the Markdown documents that link
// them alike: an image counts as unlinked only by the documents the gallery itself would see.

const FOLDERS = ['node_modules', '.git', 'out', '.vscode-test'];

/** The glob for workspace.findFiles. */
export const GALLERY_EXCLUDE = `{${FOLDERS.map((f) => `**/${f}/**`).join(',')}}`;

/** True when a workspace-relative path lies in one of those folders (events are not filtered by the glob). */
export function isExcluded(relativePath: string): boolean {
  return relativePath.split(/[\\/]/).slice(0, -1).some((part) => FOLDERS.includes(part));
}
