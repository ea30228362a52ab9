// Entry point of the gallery view for the extension's setup code.

import * as vscode from 'vscode';
import type { ImageMetadataStore } from '../images/imageMetadata';
import type { Services } from '../services';
import { GALLERY_VIEW_ID, GalleryViewProvider } from './galleryView';

export { GALLERY_VIEW_ID } from './galleryView';

/** Registers the gallery webview view and its commands (refreshGallery, cleanUpUnlinkedImages). Call once from activate(). */
export function registerGallery(context: vscode.ExtensionContext, services: Services, metadata: ImageMetadataStore): vscode.Disposable {
  const provider = new GalleryViewProvider(context, services, metadata);
  return vscode.Disposable.from(
    provider,
    vscode.window.registerWebviewViewProvider(GALLERY_VIEW_ID, provider),
    vscode.commands.registerCommand('courseIllustrator.refreshGallery', () => provider.rescan()),
    vscode.commands.registerCommand('courseIllustrator.cleanUpUnlinkedImages', () => provider.cleanUpUnlinked()),
  );
}
