// The open webview as the panel's parts see it: the one place messages go out. Until the
// webview says 'ready' (after opening, a reload or being shown again) messages wait in an outbox.

import type * as vscode from 'vscode';
import type { ToPanel } from '../../core/webviewMessages';

export class PanelView {
  panel: vscode.WebviewPanel | undefined;
  ready = false;
  private outbox: ToPanel.Type[] = [];
  private counter = 0;

  post(message: ToPanel.Type): void {
    if (!this.panel) return;
    if (!this.ready) {
      // Progress is only worth showing live; everything else waits for the webview.
      if (message.type !== 'progress' && message.type !== 'tokens') this.outbox.push(message);
      return;
    }
    void this.panel.webview.postMessage(message);
  }

  /** Sends at once, ready or not: the init message and what the outbox held, right after 'ready'. */
  send(message: ToPanel.Type): void {
    void this.panel?.webview.postMessage(message);
  }

  takeOutbox(): ToPanel.Type[] {
    return this.outbox.splice(0);
  }

  /** The panel was closed: nothing queued for it is worth keeping. */
  detach(): void {
    this.panel = undefined;
    this.ready = false;
    this.outbox = [];
  }

  /** One sequence for job, image and request ids, so no two ever meet. */
  nextNumber(): number {
    return ++this.counter;
  }
}
