// A server with AUTOMATIC1111's web API (/sdapi/v1): stable-diffusion-webui started with --api,
// Forge, or our own `course-illustrator serve`. One POST to txt2img or img2img runs the job;
// meanwhile /sdapi/v1/progress is polled for steps and previews (`current_image`).
//
// The server is shared: /progress describes whichever job runs now, and /interrupt stops it. A
// job is taken for ours once a job starts after our request was sent (a new job_timestamp);
// before that we report "waiting". Cancelling closes our request (our `serve` then drops the job,
// queued or running) and interrupts only a job we took for ours.

import { promises as fs } from 'fs';
import type { GenerateParams, GenerateResult, ProgressEvent } from '../../core/protocol';
import { DEFAULTS } from '../../core/limits';
import { isRecord } from '../../core/validate';
import * as l10n from '@vscode/l10n';
import { EngineError } from '../engine/engineError';
import type { GenerateOptions } from '../services';
import type { BackendDeps, GenerationBackend } from './generationBackend';
import { ServerHttp, ServerHttpError, delay } from './serverHttp';
import { type ServerImage, imageSize, writeServerImages } from './serverImages';
import { A1111_NAMES, jobScheduler } from './serverSamplers';

interface ProgressState {
  job: string;
  timestamp: string;
  step: number;
  steps: number;
  jobNo: number;
  eta: number;
  image?: string;
}

export class A1111Backend implements GenerationBackend {
  readonly kind = 'a1111' as const;
  private readonly http: ServerHttp;
  private checkedModel: string | undefined;

  constructor(private readonly deps: BackendDeps) {
    this.http = new ServerHttp('a1111', deps.url, deps.credentials);
  }

  get url(): string {
    return this.http.url;
  }

  async generate(params: GenerateParams, options: GenerateOptions & { jobId: string }): Promise<GenerateResult> {
    const started = Date.now();
    const scheduler = jobScheduler(params.scheduler);
    const batch = params.batch ?? 1;
    const abort = new AbortController();
    if (options.token?.isCancellationRequested) throw new EngineError('cancelled', 'Generation cancelled.');
    const body = await this.requestBody(params, scheduler, batch);
    // Fails early, with the clearest message, when the server is not there or refuses us.
    const before = await this.progress(false);
    await this.checkModel();

    let ours = false;
    let current: ProgressState | undefined;
    const sub = options.token?.onCancellationRequested(() => {
      abort.abort();
      if (ours && current?.job) void this.http.json('POST', '/sdapi/v1/interrupt', { timeoutMs: 10_000 }).catch(() => undefined);
    });
    const route = params.initImage !== undefined ? '/sdapi/v1/img2img' : '/sdapi/v1/txt2img';
    let finished = false;
    const post = this.http.json('POST', route, { body, signal: abort.signal }).finally(() => (finished = true));
    post.catch(() => undefined);
    try {
      let last = '';
      let queued = false;
      while (!finished) {
        await Promise.race([delay(this.deps.pollMs ?? 500, abort.signal), post.catch(() => undefined)]);
        if (finished || abort.signal.aborted) break;
        const p = await this.progress(params.previewEvery !== undefined && params.previewEvery > 0).catch(() => undefined);
        if (!p || finished) continue;
        current = p;
        // A job that started after we asked (or the first one, on a server that was idle) is ours.
        if (p.job !== '' && (before.job === '' || p.timestamp !== before.timestamp)) ours = true;
        if (!ours) {
          if (p.job !== '' && !queued) {
            queued = true;
            options.onQueue?.({ jobId: options.jobId, position: 1 });
          }
          continue;
        }
        if (queued) {
          queued = false;
          options.onQueue?.({ jobId: options.jobId, position: 0 });
        }
        const event = this.progressEvent(options.jobId, p, batch, started, params);
        const key = `${event.image}/${event.step}/${event.total}/${p.image?.length ?? 0}`;
        if (key !== last) {
          last = key;
          options.onProgress?.(event);
        }
      }
      const raw = await post;
      if (options.token?.isCancellationRequested) throw new EngineError('cancelled', l10n.t('Generation cancelled.'));
      const images = this.images(raw, route, params);
      if (images.length === 0) {
        throw new EngineError('internal', l10n.t('The A1111 server at {0} stopped the job before it finished (someone interrupted it, or it was skipped). Try again.', this.url));
      }
      options.onProgress?.({ jobId: options.jobId, image: images.length - 1, images: images.length, step: params.steps ?? DEFAULTS.steps, total: params.steps ?? DEFAULTS.steps, elapsedMs: Date.now() - started, etaMs: 0, stage: 'save' });
      return await writeServerImages(this.deps, params, options.jobId, { kind: 'a1111', scheduler, started, warnings: [], modelName: this.deps.model || undefined }, images);
    } catch (e) {
      throw this.refine(e);
    } finally {
      sub?.dispose();
      abort.abort();
    }
  }

  private async requestBody(params: GenerateParams, scheduler: ReturnType<typeof jobScheduler>, batch: number): Promise<Record<string, unknown>> {
    const names = A1111_NAMES[scheduler];
    const body: Record<string, unknown> = {
      prompt: params.prompt,
      negative_prompt: params.negativePrompt ?? '',
      seed: params.seed ?? -1,
      steps: params.steps ?? DEFAULTS.steps,
      cfg_scale: params.guidance ?? DEFAULTS.guidance,
      width: params.width ?? DEFAULTS.width,
      height: params.height ?? DEFAULTS.height,
      sampler_name: names.sampler_name,
      scheduler: names.scheduler,
      batch_size: batch,
      n_iter: 1,
      send_images: true,
      // The course keeps the image; the server's own output folder need not.
      save_images: false,
    };
    if (this.deps.model) body.override_settings = { sd_model_checkpoint: this.deps.model };
    if (params.initImage !== undefined) {
      const init = await readImage(params.initImage, 'init');
      body.init_images = [init.toString('base64')];
      body.denoising_strength = params.strength ?? (params.mask ? 1 : 0.8);
      // As the engine: without a size the output takes the init image's, rounded down to 8.
      const size = imageSize(init);
      if (params.width === undefined && size) body.width = Math.max(64, size.width - (size.width % 8));
      if (params.height === undefined && size) body.height = Math.max(64, size.height - (size.height % 8));
      if (params.mask !== undefined) {
        body.mask = (await readImage(params.mask, 'mask')).toString('base64');
        // Keep the original pixels under the mask as the start (the engine's inpainting does).
        body.inpainting_fill = 1;
        body.inpaint_full_res = false;
      }
    }
    return body;
  }

  /** GET /sdapi/v1/progress, validated. */
  private async progress(withImage: boolean): Promise<ProgressState> {
    const route = `/sdapi/v1/progress?skip_current_image=${withImage ? 'false' : 'true'}`;
    const raw = await this.http.json('GET', route, { timeoutMs: 15_000 });
    if (!isRecord(raw) || !isRecord(raw.state)) throw this.http.unexpected('/sdapi/v1/progress', 'no "state" object');
    const s = raw.state;
    const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
    return {
      job: typeof s.job === 'string' ? s.job : '',
      timestamp: typeof s.job_timestamp === 'string' ? s.job_timestamp : '',
      step: num(s.sampling_step),
      steps: num(s.sampling_steps),
      jobNo: num(s.job_no),
      eta: num(raw.eta_relative),
      image: typeof raw.current_image === 'string' && raw.current_image !== '' ? raw.current_image : undefined,
    };
  }

  private progressEvent(jobId: string, p: ProgressState, batch: number, started: number, params: GenerateParams): ProgressEvent {
    const preview = p.image ? stripDataUrl(p.image) : undefined;
    const size = preview ? imageSize(Buffer.from(preview.slice(0, 64), 'base64')) : undefined;
    return {
      jobId,
      image: Math.min(Math.max(0, Math.round(p.jobNo)), batch - 1),
      images: batch,
      step: Math.max(0, Math.round(p.step)),
      total: Math.max(0, Math.round(p.steps)),
      elapsedMs: Date.now() - started,
      etaMs: Math.max(0, p.eta * 1000),
      stage: p.step > 0 ? 'denoise' : 'load',
      preview: preview ? { width: size?.width ?? params.width ?? DEFAULTS.width, height: size?.height ?? params.height ?? DEFAULTS.height, pngBase64: preview } : undefined,
    };
  }

  /** The images and, from `info`, each one's seed and infotext. */
  private images(raw: unknown, route: string, params: GenerateParams): ServerImage[] {
    if (!isRecord(raw) || !Array.isArray(raw.images) || raw.images.some((i) => typeof i !== 'string')) throw this.http.unexpected(route, 'no "images" list');
    let info: Record<string, unknown> = {};
    if (typeof raw.info === 'string') {
      try {
        const parsed: unknown = JSON.parse(raw.info);
        if (isRecord(parsed)) info = parsed;
      } catch {
        // Some forks send no JSON here; the seeds then come from the request.
      }
    }
    const seeds = Array.isArray(info.all_seeds) ? info.all_seeds : [];
    const texts = Array.isArray(info.infotexts) ? info.infotexts : [];
    const first = typeof info.seed === 'number' ? info.seed : (params.seed ?? 0);
    // A1111 may append extra images (grids, ControlNet maps); the generated ones come first.
    const count = Math.min(raw.images.length, params.batch ?? 1);
    return (raw.images as string[]).slice(0, count).map((b64, i) => {
      const seed = seeds[i];
      const text = texts[i];
      return {
        base64: stripDataUrl(b64),
        seed: typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0 ? seed : first + i,
        infotext: typeof text === 'string' && text.trim() !== '' ? text : undefined,
      };
    });
  }

  /** Checks courseIllustrator.backendModel against the server's list once (per model name). */
  private async checkModel(): Promise<void> {
    const want = this.deps.model;
    if (!want || this.checkedModel === want) return;
    const raw = await this.http.json('GET', '/sdapi/v1/sd-models', { timeoutMs: 30_000 });
    if (!Array.isArray(raw)) throw this.http.unexpected('/sdapi/v1/sd-models', 'not a list');
    const names = raw.filter(isRecord).map((m) => ({ title: String(m.title ?? ''), name: String(m.model_name ?? '') }));
    const bare = (s: string) => s.replace(/\s*\[[0-9a-f]+\]$/i, '').replace(/\.(safetensors|ckpt)$/i, '').trim().toLowerCase();
    if (!names.some((n) => bare(n.title) === bare(want) || bare(n.name) === bare(want))) {
      throw new EngineError('modelError', modelMissing(want, this.url, names.map((n) => n.title)));
    }
    this.checkedModel = want;
  }

  /** Server answers that mean a setting of ours is wrong get a message naming it. */
  private refine(e: unknown): unknown {
    if (!(e instanceof ServerHttpError)) return e;
    if (e.status === 404 && /model/i.test(e.detail)) return new EngineError('modelError', modelMissing(this.deps.model, this.url, []));
    return e;
  }
}

function modelMissing(want: string, url: string, titles: string[]): string {
  if (titles.length === 0) return l10n.t("The server at {0} has no model \"{1}\" (courseIllustrator.backendModel). Use one of its names, or leave the setting empty for the server's current model.", url, want);
  const list = `${titles.slice(0, 8).join(', ')}${titles.length > 8 ? ', …' : ''}`;
  return l10n.t("The server at {0} has no model \"{1}\" (courseIllustrator.backendModel). It has: {2}. Use one of its names, or leave the setting empty for the server's current model.", url, want, list);
}

function stripDataUrl(b64: string): string {
  const comma = b64.startsWith('data:') ? b64.indexOf(',') : -1;
  return comma >= 0 ? b64.slice(comma + 1) : b64;
}

async function readImage(file: string, what: 'init' | 'mask'): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new EngineError('badInput', what === 'init' ? l10n.t("The init image {0} can't be read ({1}).", file, code) : l10n.t("The mask {0} can't be read ({1}).", file, code));
  }
}
