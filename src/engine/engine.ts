// The engine as a library: one model kept warm, jobs queued FIFO. The JSON-RPC server, the CLI
// and the tests all drive this class, so there is one code path.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  EngineOptions, GenerateParams, GenerateResult, InfoResult, ProgressEvent, ProviderName,
  StatusResult, ThumbnailParams, ThumbnailResult, TokenizeParams, TokenizeResult, PROTOCOL_VERSION,
} from '../core/protocol';
import { CancelledError, asEngineError, badInput } from './errors';
import { JobQueue } from './jobQueue';
import { LoadedModel, RuntimeOptions } from './pipeline/loadedModel';
import { resolveJob, checkOutputs } from './pipeline/jobParams';
import { JobHooks, txt2img } from './pipeline/txt2img';
import { PreviewDecoder } from './pipeline/previewDecoder';
import { previewPng } from './image/latentPreview';
import { extractLoraTags } from '../core/loraTags';
import { promptChunks } from './pipeline/textEncoding';
import { resolveProvider, physicalCoreCount } from './onnx/backend';
import { inspectModel } from './modelFolder/modelFolder';
import { readPngInfo } from './image/readImageInfo';
import { makeThumbnail } from './image/thumbnail';
import { checkOutputFolder } from './image/writeImage';

export interface GenerateHooks {
  progress?: (e: ProgressEvent) => void;
  queue?: (position: number) => void;
  /** Polled before every UNet call. */
  cancelled?: () => boolean;
  warn?: (message: string) => void;
}

export class Engine {
  private readonly queue = new JobQueue();
  private model: LoadedModel | undefined;
  private loading: Promise<LoadedModel> | undefined;
  /** Tokenizer-only copy (no sessions), so counting tokens never evicts the warm model. */
  private tokenizerModel: LoadedModel | undefined;
  private previewDecoder: PreviewDecoder | undefined;
  /** Preview decoders that would not load, by folder: warned about once, then not tried again. */
  private readonly previewFailures = new Set<string>();
  private readonly cancelledJobs = new Set<string>();
  readonly runtime: RuntimeOptions;
  readonly warnings: string[] = [];
  private jobCounter = 0;

  constructor(options: EngineOptions = {}) {
    const chosen = resolveProvider(options.provider ?? 'cpu');
    if (chosen.warning) this.warnings.push(chosen.warning);
    this.runtime = {
      provider: chosen.provider as ProviderName,
      threads: options.threads ?? physicalCoreCount(),
      lowMemory: options.lowMemory ?? false,
      // On a GPU the weights live in its memory; on the CPU, machines of 32 GB and more have
      // room for every session (about 5 GB for SD v1.5) and skip re-creating them.
      keepSessions: !options.lowMemory && (options.keepSessions ?? (chosen.provider !== 'cpu' || os.totalmem() >= 32 * 2 ** 30)),
      // The 8-bit variants are made for onnxruntime's CPU kernels.
      unetWeights: chosen.provider === 'cpu' ? options.unetWeights ?? 'full' : 'full',
    };
  }

  async generate(params: GenerateParams & { jobId?: string }, hooks: GenerateHooks = {}): Promise<GenerateResult> {
    const jobId = params.jobId ?? `job-${++this.jobCounter}`;
    const modelDir = path.resolve(params.model);
    return this.queue.enqueue({
      id: jobId,
      onPosition: hooks.queue,
      run: async () => {
        const warnings: string[] = [...this.warnings];
        const warn = (m: string) => {
          warnings.push(m);
          hooks.warn?.(m);
        };
        const cancelled = () => this.cancelledJobs.has(jobId) || (hooks.cancelled?.() ?? false);
        try {
          if (cancelled()) throw new CancelledError();
          // Before minutes of computing: an output folder that is a symbolic link is refused
          // (writeGeneratedPng checks again when it writes).
          if (params.outFile) await checkOutputFolder(params.outFile, params.confineTo);
          else if (params.outDir) await checkOutputFolder(path.join(params.outDir, 'image.png'), params.confineTo);
          const t0 = performance.now();
          const wasLoaded = this.model?.dir === modelDir;
          if (!wasLoaded) {
            hooks.progress?.({ jobId, image: 0, images: params.batch ?? 1, step: 0, total: 0, elapsedMs: 0, etaMs: 0, stage: 'load' });
          }
          const model = await this.load(modelDir);
          const job = resolveJob(params, {
            size: model.folder.sampleSize * model.folder.vaeScaleFactor,
            vaeScaleFactor: model.folder.vaeScaleFactor,
            schedulerConfig: model.folder.schedulerConfig,
          });
          checkOutputs(job);
          const folderMs = performance.now() - t0;
          const p0 = performance.now();
          const previewDir = (job.previewEvery > 0 || job.draft) && params.previewDecoder ? path.resolve(params.previewDecoder) : undefined;
          const previewWarm = previewDir !== undefined && this.previewDecoder?.dir === previewDir;
          const previews = previewDir ? await this.loadPreviewDecoder(previewDir, warn) : undefined;
          const previewLoadMs = previews && !previewWarm ? performance.now() - p0 : 0;
          const previewRunBefore = previews?.runMs ?? 0;
          if (job.draft && !previews) warn('The draft decoder could not be loaded, so the image is decoded with the model\'s VAE: full quality, slower.');
          const result = await txt2img(model, job, {
            progress: (e) => hooks.progress?.({ jobId, ...e }),
            cancelled,
            warn,
            preview: previews && job.previewEvery > 0 ? this.previewWithFallback(previews, warn) : undefined,
            draftDecoder: previews && job.draft ? { name: path.basename(previews.dir), decode: (l, h, w) => previews.decode(l, h, w) } : undefined,
          });
          result.timings.loadMs += (wasLoaded ? 0 : folderMs) + previewLoadMs;
          result.timings.totalMs += (wasLoaded ? 0 : folderMs) + previewLoadMs;
          result.timings.sessionRunMs += (previews?.runMs ?? 0) - previewRunBefore;
          return { jobId, images: result.images, timings: result.timings, tokenCount: result.tokenCount, scheduler: result.scheduler, warnings };
        } catch (err) {
          throw asEngineError(err);
        } finally {
          this.cancelledJobs.delete(jobId);
        }
      },
    });
  }

  /** Cancels a queued job at once, or a running one before its next UNet call. */
  cancel(jobId: string): boolean {
    if (this.queue.remove(jobId, new CancelledError())) return true;
    if (this.queue.running === jobId) {
      this.cancelledJobs.add(jobId);
      return true;
    }
    return false;
  }

  async tokenize(params: TokenizeParams): Promise<TokenizeResult> {
    const model = await this.loadTokenizerOnly(path.resolve(params.model));
    const tok = model.tokenizer;
    // Counted as the text encoder reads it: `<lora:...>` tags are taken out first (core/loraTags.ts).
    const { chunks, tokenCount } = promptChunks(tok, extractLoraTags(params.text).text, params.promptWeighting ?? true);
    return { inputIds: chunks[0].ids, count: tokenCount, windows: chunks.length, maxLength: tok.maxLength };
  }

  async info(target: string): Promise<InfoResult> {
    const p = path.resolve(target);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(p);
    } catch {
      throw badInput(`${p} does not exist; give a model folder or a PNG file.`);
    }
    if (stat.isDirectory()) return inspectModel(p);
    try {
      return await readPngInfo(p);
    } catch (err) {
      // Not a PNG, not a regular file, unreadable: an output error with its message, no stack.
      throw asEngineError(err);
    }
  }

  async thumbnail(params: ThumbnailParams): Promise<ThumbnailResult> {
    return makeThumbnail(params.source, params.dest, params.size);
  }

  status(): StatusResult {
    return {
      pid: process.pid,
      protocolVersion: PROTOCOL_VERSION,
      loadedModels: this.model ? [this.model.dir] : [],
      queued: this.queue.length,
      running: this.queue.running,
      provider: this.runtime.provider,
      threads: this.runtime.threads,
    };
  }

  /** How the loaded model's graphs were rewritten before onnxruntime got them, per component. */
  graphNotes(): Record<string, string[]> {
    return Object.fromEntries(this.model?.notes ?? []);
  }

  /** Creates every session now, so the first job pays no load time (used by the benchmark). */
  async warm(modelDir: string): Promise<number> {
    const model = await this.load(path.resolve(modelDir));
    return model.warm();
  }

  async dispose(): Promise<void> {
    const m = this.model;
    this.model = undefined;
    await m?.dispose();
    await this.disposePreviewDecoder();
  }

  private async disposePreviewDecoder(): Promise<void> {
    const d = this.previewDecoder;
    this.previewDecoder = undefined;
    await d?.dispose();
  }

  /** The warm preview decoder for `dir`, loading it if needed; undefined (warned once) when it cannot load. */
  private async loadPreviewDecoder(dirIn: string, warn: (m: string) => void): Promise<PreviewDecoder | undefined> {
    const dir = path.resolve(dirIn);
    if (this.previewDecoder?.dir === dir) return this.previewDecoder;
    if (this.previewFailures.has(dir)) return undefined;
    await this.disposePreviewDecoder();
    try {
      this.previewDecoder = await PreviewDecoder.load(dir, this.runtime);
      if (this.previewDecoder.warning) warn(this.previewDecoder.warning);
      return this.previewDecoder;
    } catch (err) {
      this.previewFailures.add(dir);
      warn(`Live previews use the quick approximation: the preview decoder could not be loaded. ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }

  /** Previews through the decoder; if it fails mid-job, the approximation from then on (said once). */
  private previewWithFallback(decoder: PreviewDecoder, warn: (m: string) => void): NonNullable<JobHooks['preview']> {
    let failed = false;
    return async (latents, h, w) => {
      if (!failed) {
        try {
          return await decoder.preview(latents, h, w);
        } catch (err) {
          failed = true;
          warn(`Live previews switched to the quick approximation: the preview decoder failed (${err instanceof Error ? err.message : String(err)}).`);
        }
      }
      return previewPng(latents, h, w);
    };
  }

  private async load(dir: string): Promise<LoadedModel> {
    if (this.model?.dir === dir) return this.model;
    if (this.loading) await this.loading.catch(() => undefined);
    if (this.model?.dir === dir) return this.model;
    // One model at a time keeps memory bounded: release the previous one first.
    await this.dispose();
    this.loading = LoadedModel.load(dir, this.runtime);
    try {
      this.model = await this.loading;
      return this.model;
    } catch (err) {
      throw asEngineError(err, 'modelError');
    } finally {
      this.loading = undefined;
    }
  }

  private async loadTokenizerOnly(dir: string): Promise<LoadedModel> {
    if (this.model?.dir === dir) return this.model;
    if (this.tokenizerModel?.dir !== dir) {
      try {
        this.tokenizerModel = await LoadedModel.load(dir, { ...this.runtime, lowMemory: true });
      } catch (err) {
        throw asEngineError(err, 'modelError');
      }
    }
    return this.tokenizerModel;
  }
}

