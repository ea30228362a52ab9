// Builds the Services object (see services.ts) from the extension context.

import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { GeneratedImage } from '../core/protocol';
import { engineOptionsChanged, readConfig, type ConfigSnapshot } from './config';
import { EngineClient } from './engine/engineClient';
import { BackendFactory } from './backends/createBackend';
import { RoutedEngineClient, importViaEngine } from './backends/routedEngine';
import { insertImage } from './insert/insertImage';
import { resolveImageDestination } from './insert/destinationFs';
import type { EngineClient as EngineClientApi, ImageChooser, ImageDestination, ImageName, LastImage, Log, Services, WrittenImages } from './services';
import { Disposable } from './util/dispose';

/** workspaceState key: the last image survives a reload (Insert Last Illustration Again). */
const LAST_IMAGE_KEY = 'courseIllustrator.lastImage';

export class ServicesImpl extends Disposable implements Services {
  /** Generation goes to courseIllustrator.backend's server when one is set; the rest to localEngine. */
  readonly engine: EngineClientApi;
  private readonly localEngine: EngineClient;
  private snapshot: ConfigSnapshot | undefined;
  private readonly _onDidChangeConfig = this._register(new vscode.EventEmitter<ConfigSnapshot>());
  readonly onDidChangeConfig = this._onDidChangeConfig.event;
  private readonly _onDidWriteImages = this._register(new vscode.EventEmitter<WrittenImages>());
  readonly onDidWriteImages = this._onDidWriteImages.event;
  private last: LastImage | undefined;
  /** Who chooses among variations, the latest last: the results panel, or a test's stand-in in front of it. */
  private readonly choosers: ImageChooser[] = [];
  private modelProvider: (() => Promise<string | undefined>) | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly log: Log,
  ) {
    super();
    this.localEngine = this._register(
      new EngineClient({
        enginePath: path.join(context.extensionPath, 'dist', 'engine.js'),
        engineOptions: () => {
          const c = this.config();
          if (c.lowMemoryAuto) log.info(`low memory on: this computer has ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB of memory and courseIllustrator.lowMemory is not set`);
          return { provider: c.provider, threads: c.threads > 0 ? c.threads : undefined, lowMemory: c.lowMemory, unetWeights: c.unetWeights };
        },
        idleTimeoutMs: () => this.config().engineIdleTimeout * 1000,
        log,
        refuse: () => (vscode.workspace.isTrusted ? undefined : vscode.l10n.t('Course Illustrator does not run its engine in Restricted Mode. Trust this workspace to generate images.')),
        timeouts: testTimeouts(),
      }),
    );
    const backends = new BackendFactory({ secrets: context.secrets, importImage: (p) => importViaEngine(this.localEngine, p), log });
    this.engine = this._register(
      new RoutedEngineClient({
        local: this.localEngine,
        backend: () => backends.forConfig(this.config()),
        refuse: () => (vscode.workspace.isTrusted ? undefined : vscode.l10n.t('Course Illustrator does not generate images in Restricted Mode. Trust this workspace to generate images.')),
        log,
      }),
    );
    this.last = context.workspaceState.get<LastImage>(LAST_IMAGE_KEY);
    this._register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration('courseIllustrator') && !e.affectsConfiguration('markdown.copyFiles')) return;
        const before = this.config();
        this.snapshot = undefined;
        const after = this.config();
        if (engineOptionsChanged(before, after)) {
          log.info(`engine settings changed (provider ${after.provider}, threads ${after.threads || 'auto'}, lowMemory ${after.lowMemory}, UNet weights ${after.unetWeights})`);
          this.localEngine.restartWhenIdleAgain();
        }
        this._onDidChangeConfig.fire(after);
      }),
    );
  }

  config(): ConfigSnapshot {
    return (this.snapshot ??= readConfig(vscode.workspace.getConfiguration('courseIllustrator'), vscode.workspace.getConfiguration('markdown')));
  }

  isTrusted(): boolean {
    return vscode.workspace.isTrusted;
  }

  async ensureModel(): Promise<string | undefined> {
    // A server has its own models (courseIllustrator.backendModel): nothing to download or choose here.
    const c = this.config();
    if (c.backend !== 'local') return c.modelPath || `${c.backend}:${c.backendUrl}`;
    if (this.modelProvider) return this.modelProvider();
    const configured = this.config().modelPath;
    if (configured) return configured;
    const pick = await vscode.window.showErrorMessage(
      vscode.l10n.t('No model is set up. Choose a folder with a Stable Diffusion v1.5 model in the diffusers ONNX layout (setting courseIllustrator.modelPath).'),
      vscode.l10n.t('Open Settings'),
    );
    if (pick) void vscode.commands.executeCommand('workbench.action.openSettings', 'courseIllustrator.modelPath');
    return undefined;
  }

  setModelProvider(provider: () => Promise<string | undefined>): void {
    this.modelProvider = provider;
  }

  insertImage = insertImage;

  /**
   * Names handed out and maybe not written yet (lowercase fsPath -> expiry): two jobs queued
   * with the same prompt and seed must not be given the same free name.
   */
  private readonly reserved = new Map<string, number>();
  /** Destinations are chosen one at a time: a name is read as free and reserved in one turn. */
  private destinationTurn: Promise<unknown> = Promise.resolve();

  resolveImageDestination(document: vscode.Uri, name: ImageName): Promise<ImageDestination> {
    const turn = this.destinationTurn.then(() => this.chooseDestination(document, name));
    this.destinationTurn = turn.catch(() => undefined);
    return turn;
  }

  private async chooseDestination(document: vscode.Uri, name: ImageName): Promise<ImageDestination> {
    const now = Date.now();
    for (const [p, until] of this.reserved) if (until < now) this.reserved.delete(p);
    const withReserved: Pick<vscode.FileSystem, 'readDirectory'> = {
      readDirectory: async (folder) => {
        let entries: [string, vscode.FileType][] = [];
        try {
          entries = await vscode.workspace.fs.readDirectory(folder);
        } catch {
          // not created yet
        }
        const dir = folder.fsPath.toLowerCase();
        for (const p of this.reserved.keys()) if (path.dirname(p) === dir) entries.push([path.basename(p), vscode.FileType.File]);
        return entries;
      },
    };
    const dest = await resolveImageDestination(document, name, this.config(), withReserved);
    this.reserved.set(dest.file.fsPath.toLowerCase(), now + 30 * 60_000);
    return dest;
  }

  lastImage(): LastImage | undefined {
    return this.last;
  }

  setLastImage(image: LastImage): void {
    this.last = image;
    void this.context.workspaceState.update(LAST_IMAGE_KEY, image);
  }

  fireImagesWritten(document: vscode.Uri | undefined, images: GeneratedImage[]): void {
    this._onDidWriteImages.fire({ document, images });
  }

  setImageChooser(chooser: ImageChooser): vscode.Disposable {
    this.choosers.push(chooser);
    return new vscode.Disposable(() => {
      const i = this.choosers.lastIndexOf(chooser);
      if (i >= 0) this.choosers.splice(i, 1);
    });
  }

  chooseImage: ImageChooser = async (images, title) => {
    if (images.length <= 1) return images[0];
    const chooser = this.choosers[this.choosers.length - 1];
    if (chooser) return chooser(images, title);
    // Only before the panel registers or after it is gone: nothing is chosen for the user.
    this.log.warn(`No one to choose among ${images.length} variations ("${title}"): none is kept.`);
    return undefined;
  };
}

/** Tests shorten the timeouts through the environment of the extension host. */
function testTimeouts(): Partial<Record<'start' | 'request' | 'generateStall' | 'cancelGrace', number>> | undefined {
  const raw = process.env.COURSE_ILLUSTRATOR_TEST_TIMEOUTS;
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as Record<string, number>;
  } catch {
    return undefined;
  }
}
