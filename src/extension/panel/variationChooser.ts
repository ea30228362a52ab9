// The one place variations made by commands (the "Generate 4 variations" lens, "Variations" on
// an image, Course Review) are chosen: the panel, opened for it when it is closed. One request at
// a time; a newer one replaces an unanswered one; closing the panel answers none.

import * as path from 'node:path';
import { settingsFromEntry } from '../../core/galleryIndex';
import { parseInfotext } from '../../core/infotext';
import type * as vscode from 'vscode';
import type { GeneratedImage } from '../../core/protocol';
import type { ToPanel } from '../../core/webviewMessages';
import type { Services } from '../services';
import { defaultSettings } from './panelState';
import type { PanelView } from './panelView';
import { toResultImage } from './resultImage';

interface Choosing {
  message: ToPanel.Choose;
  images: Map<string, GeneratedImage>;
  resolve: (image: GeneratedImage | undefined) => void;
}

export class VariationChooser {
  private choosing: Choosing | undefined;
  /** Folders of variations shown so far: the webview may load images from them. */
  readonly folders = new Set<string>();

  constructor(
    private readonly services: Services,
    private readonly view: PanelView,
    private readonly updateRoots: () => void,
    /** Opens the panel (or reveals it) without changing what it works for. */
    private readonly show: () => vscode.WebviewPanel,
  ) {}

  /** The ImageChooser the variations commands call (services.chooseImage). */
  choose(images: GeneratedImage[], title: string): Promise<GeneratedImage | undefined> {
    if (images.length <= 1) return Promise.resolve(images[0]);
    this.end(undefined); // a newer request replaces an unanswered one
    // Before the panel opens: a panel made now may load images from these folders from the start.
    for (const image of images) this.folders.add(path.dirname(image.path));
    const panel = this.show();
    const requestId = this.view.nextNumber();
    const map = new Map<string, GeneratedImage>();
    const defaults = defaultSettings(this.services.config());
    const cards = images.map((image, i) => {
      const id = `var-${requestId}-${i}`;
      map.set(id, image);
      const info = parseInfotext(image.infotext);
      const settings = settingsFromEntry({ ...info, width: image.width, height: image.height }, defaults);
      return toResultImage({ id, path: image.path, image, settings }, panel.webview);
    });
    const message: ToPanel.Choose = { type: 'choose', requestId, title, images: cards };
    this.updateRoots();
    return new Promise((resolve) => {
      this.choosing = { message, images: map, resolve };
      this.view.post(message);
    });
  }

  /** The webview's answer; one for an older request is ignored. */
  answer(requestId: number, imageId: string | undefined): void {
    if (this.choosing && this.choosing.message.requestId === requestId) {
      this.end(imageId === undefined ? undefined : this.choosing.images.get(imageId));
    }
  }

  /** Ends the open request (if any) with this image, or none. */
  end(image: GeneratedImage | undefined): void {
    const c = this.choosing;
    if (!c) return;
    this.choosing = undefined;
    c.resolve(image);
    this.view.post({ type: 'chooseEnded', requestId: c.message.requestId });
  }

  /** The unanswered request: it survives the webview being reloaded or hidden. */
  pending(): ToPanel.Choose | undefined {
    return this.choosing?.message;
  }
}
