// All setup in one place: services, commands, CodeLenses, diagnostics, and the panel, gallery
// and model parts built by other files on top of `services`. Nothing here starts the engine:
// it starts on the first request (onnxruntime and sharp live only in the engine process).

import * as l10n from '@vscode/l10n';
import * as vscode from 'vscode';
import { CancelCommand } from './commands/cancel';
import { CommandManager } from './commands/commandManager';
import { GenerateCommand } from './commands/generate';
import { GenerateStubCommand } from './commands/generateStub';
import { GenerateVariationsCommand } from './commands/generateVariations';
import { InsertLastCommand } from './commands/insertLast';
import { RedrawImageCommand } from './commands/redrawImage';
import { RegenerateCommand } from './commands/regenerate';
import { ShowLogCommand } from './commands/showLog';
import { ShowParametersCommand } from './commands/showParameters';
import { createLog } from './log';
import { registerBackends } from './backends';
import { registerCourse } from './course/illustrateAll';
import { registerGallery } from './gallery';
import { registerModelCommands } from './models';
import { registerResultsPanel } from './panel';
import type { Services } from './services';
import { ServicesImpl } from './servicesImpl';
import { ImageMetadataStore } from './images/imageMetadata';
import { StubCodeLensProvider } from './stubs/stubCodeLens';
import { forgetAllDocuments } from './stubs/documentStubs';
import { UserTemplateStore } from './generation/userTemplateStore';
import { DirectiveCompletionProvider } from './stubs/directiveCompletion';
import { GenerationService } from './generation/generationService';
import { LoraCompletionProvider } from './stubs/loraCompletion';
import { DirectiveQuickFixes } from './stubs/directiveQuickFixes';
import { StubDiagnostics } from './stubs/stubDiagnostics';
import { registerTranslation } from './translate';

/** What activate() returns: used by the in-host tests (and usable by other extensions). */
export interface CourseIllustratorApi {
  readonly services: Services;
  /** Milliseconds activate() took. */
  readonly activationMs: number;
}

export function activateShared(context: vscode.ExtensionContext): CourseIllustratorApi {
  const started = performance.now();
  // First: the modules without `vscode` (src/core, the pure parts of src/extension, which unit
  // tests load in plain Node) translate with @vscode/l10n, from the bundle VS Code loaded for us.
  // Without one (English) they keep their English text, as vscode.l10n.t does.
  if (vscode.l10n.bundle) l10n.config({ contents: vscode.l10n.bundle });
  const log = createLog();
  context.subscriptions.push(log);
  const services = new ServicesImpl(context, log);
  context.subscriptions.push(services);
  // The one way images are made (commands, lenses, panel, gallery, course queue).
  const generation = new GenerationService(services, context.globalStorageUri);

  // What each PNG says about how it was made, for lenses, commands and the gallery alike.
  const images = new ImageMetadataStore(services, vscode.Uri.joinPath(context.storageUri ?? context.globalStorageUri, 'image-metadata.json').fsPath);
  context.subscriptions.push(images);

  const commands = new CommandManager();
  context.subscriptions.push(commands);
  commands.register(new GenerateCommand(services, generation));
  commands.register(new InsertLastCommand(services));
  commands.register(new CancelCommand(services));
  commands.register(new GenerateStubCommand(services, images, generation));
  commands.register(new GenerateVariationsCommand(services, images, generation));
  commands.register(new RegenerateCommand(services, images, generation));
  commands.register(new ShowParametersCommand(services, images));
  commands.register(new RedrawImageCommand(services, images));
  commands.register(new ShowLogCommand(services));

  // The teacher's own templates: stubs are parsed again and lenses redrawn when they change.
  const userTemplateStore = new UserTemplateStore(log);
  context.subscriptions.push(userTemplateStore);
  const lenses = new StubCodeLensProvider(services, images);
  context.subscriptions.push(userTemplateStore.onDidChange(() => {
    forgetAllDocuments();
    lenses.refresh();
  }));
  context.subscriptions.push(lenses, vscode.languages.registerCodeLensProvider({ language: 'markdown' }, lenses));
  context.subscriptions.push(new StubDiagnostics());
  context.subscriptions.push(vscode.languages.registerCodeActionsProvider({ language: 'markdown' }, new DirectiveQuickFixes(), DirectiveQuickFixes.metadata));
  context.subscriptions.push(vscode.languages.registerCompletionItemProvider({ language: 'markdown' }, new LoraCompletionProvider(services), ':'));
  context.subscriptions.push(vscode.languages.registerCompletionItemProvider({ language: 'markdown' }, new DirectiveCompletionProvider(), '|', ':', ' '));
  context.subscriptions.push(
    // The store enters new images from their results; the lenses of their documents are redrawn.
    services.onDidWriteImages(() => lenses.refresh()),
  );

  // Before anything can generate: it hooks services.ensureModel to the first-run choice.
  context.subscriptions.push(registerModelCommands(context, services));
  // Chinese prompts to English; downloads its model through the model commands' store.
  context.subscriptions.push(registerTranslation(services));
  context.subscriptions.push(registerResultsPanel(context, services, generation));
  context.subscriptions.push(registerGallery(context, services, images));
  context.subscriptions.push(registerBackends(context, services));
  context.subscriptions.push(registerCourse(context, services, generation));

  const activationMs = performance.now() - started;
  log.info(`activated in ${activationMs.toFixed(1)} ms${vscode.workspace.isTrusted ? '' : ' (Restricted Mode: generation is off)'}`);
  return { services, activationMs };
}
