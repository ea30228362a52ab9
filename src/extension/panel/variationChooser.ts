// While the panel is open, the variations commands let the user choose among their images here
// instead of in a quick pick. One request at a time; a newer one replaces an unanswered one.

import * as path from 'node:path';
import { settingsFromEntry } from '../../core/galleryIndex';
import { parseInfotext } from '../../core/infotext';
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
  ) {}

  /** The ImageChooser the variations commands call while the panel is open. */
  choose(images: GeneratedImage[], title: string): Promise<GeneratedImage | undefined> {
    const panel = this.view.panel;
    if (images.length <= 1 || !panel) return Promise.resolve(images[0]);
    this.end(undefined); // a newer request replaces an unanswered one
    const requestId = this.view.nextNumber();
    const map = new Map<string, GeneratedImage>();
    const defaults = defaultSettings(this.services.config());
    const cards = images.map((image, i) => {
      const id = `var-${requestId}-${i}`;
      map.set(id, image);
      this.folders.add(path.dirname(image.path));
      const info = parseInfotext(image.infotext);
      const settings = settingsFromEntry({ ...info, width: image.width, height: image.height }, defaults);
      return toResultImage({ id, path: image.path, image, settings }, panel.webview);
    });
    const message: ToPanel.Choose = { type: 'choose', requestId, title, images: cards };
    this.updateRoots();
    panel.reveal(undefined, false);
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
