// "Course Illustrator: Set Server Credentials…": asks for the user and password (A1111's
// --api-auth, or a proxy's Basic auth in front of any server) or a SwarmUI account token, and
// keeps them in VS Code's SecretStorage for the server now set in courseIllustrator.backendUrl.

import * as vscode from 'vscode';
import type { Services } from '../services';
import type { Credentials } from './generationBackend';
import { readCredentials, saveCredentials, serverOrigin } from './serverCredentials';

export const SET_CREDENTIALS_COMMAND = 'courseIllustrator.setServerCredentials';

type Choice = 'basic' | 'token' | 'forget';

export async function setServerCredentials(secrets: vscode.SecretStorage, services: Services): Promise<void> {
  const config = services.config();
  const origin = serverOrigin(config.backendUrl);
  if (config.backend === 'local' || !origin) {
    const pick = await vscode.window.showWarningMessage(
      vscode.l10n.t('Set the server first: courseIllustrator.backend (a1111, comfyui or swarmui) and courseIllustrator.backendUrl (its http:// or https:// address).'),
      vscode.l10n.t('Open Settings'),
    );
    if (pick) void vscode.commands.executeCommand('workbench.action.openSettings', 'courseIllustrator.backend');
    return;
  }
  const saved = await readCredentials(secrets, config.backendUrl);
  const items: (vscode.QuickPickItem & { choice: Choice })[] = [
    { label: vscode.l10n.t('User and password'), description: vscode.l10n.t('A1111 --api-auth, or a login in front of the server'), choice: 'basic' },
    { label: vscode.l10n.t('Token'), description: vscode.l10n.t('SwarmUI account token'), choice: 'token' },
  ];
  if (saved) items.push({ label: vscode.l10n.t('Forget the saved credentials'), description: origin, choice: 'forget' });
  const pick = await vscode.window.showQuickPick(items, {
    title: vscode.l10n.t('Credentials for {0}', origin),
    placeHolder: config.backend === 'swarmui' ? vscode.l10n.t('SwarmUI servers that require accounts take a token') : vscode.l10n.t('What the server asks for'),
  });
  if (!pick) return;
  let credentials: Credentials | undefined;
  if (pick.choice === 'basic') {
    const user = await vscode.window.showInputBox({
      title: vscode.l10n.t('User for {0}', origin),
      value: saved?.user ?? '',
      prompt: vscode.l10n.t("The user name the server's administrator gave you"),
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() === '' || v.includes(':') ? vscode.l10n.t('A user name, without ":"') : undefined),
    });
    if (user === undefined) return;
    const password = await vscode.window.showInputBox({
      title: vscode.l10n.t('Password for {0} at {1}', user, origin),
      password: true,
      prompt: vscode.l10n.t("Kept in VS Code's secret storage, never in settings"),
      ignoreFocusOut: true,
      validateInput: (v) => (v === '' ? vscode.l10n.t('The password') : undefined),
    });
    if (password === undefined) return;
    credentials = { user: user.trim(), password };
  } else if (pick.choice === 'token') {
    const token = await vscode.window.showInputBox({
      title: vscode.l10n.t('Token for {0}', origin),
      password: true,
      prompt: vscode.l10n.t("From your SwarmUI account (User → API keys / token); kept in VS Code's secret storage"),
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() === '' ? vscode.l10n.t('The token') : undefined),
    });
    if (token === undefined) return;
    credentials = { token: token.trim() };
  }
  await saveCredentials(secrets, config.backendUrl, credentials);
  services.log.info(credentials ? `credentials saved for ${origin}` : `credentials removed for ${origin}`);
  void vscode.window.showInformationMessage(credentials ? vscode.l10n.t('Credentials saved for {0}.', origin) : vscode.l10n.t('Credentials for {0} removed.', origin));
}
