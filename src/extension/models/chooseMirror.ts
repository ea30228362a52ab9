// "Use a Hugging Face Mirror…" after a failed or slow download: where the hub cannot be reached
// (from inside China, or behind a school's firewall) a mirror with the same API serves the same
// files. The choice goes into courseIllustrator.hubEndpoint and the download resumes from there;
// the sha256 of every file is still checked, so a mirror cannot change what is installed.

import * as vscode from 'vscode';

/** Public mirrors with the hub's API. */
export const KNOWN_MIRRORS = [{ url: 'https://hf-mirror.com', description: () => vscode.l10n.t('public mirror, reachable from mainland China') }] as const;

/** Asks for a mirror and saves it; true when one was set (the caller retries). */
export async function chooseMirror(current: string): Promise<boolean> {
  type Item = vscode.QuickPickItem & { url?: string };
  const items: Item[] = [
    ...KNOWN_MIRRORS.map((m) => ({ label: m.url, description: m.description(), url: m.url })),
    { label: vscode.l10n.t('Another address…'), description: vscode.l10n.t("your school's or company's mirror") },
    ...(current ? [{ label: vscode.l10n.t('Hugging Face itself'), description: vscode.l10n.t('https://huggingface.co, without a mirror'), url: '' }] : []),
  ];
  const pick = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Download models through a Hugging Face mirror'), placeHolder: vscode.l10n.t('Now: {0}', current || 'huggingface.co') });
  if (!pick) return false;
  let url = pick.url;
  if (url === undefined) {
    url = await vscode.window.showInputBox({
      title: vscode.l10n.t('Mirror address'),
      prompt: vscode.l10n.t('The address of a server with the Hugging Face hub API, e.g. https://hf-mirror.com'),
      validateInput: (v) => (/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(v.trim()) ? undefined : vscode.l10n.t('An http(s) address, e.g. https://hf-mirror.com')),
      ignoreFocusOut: true,
    });
    if (!url) return false;
  }
  await vscode.workspace.getConfiguration('courseIllustrator').update('hubEndpoint', url.trim().replace(/\/+$/, ''), vscode.ConfigurationTarget.Global);
  return true;
}
