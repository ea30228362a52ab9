// A SwarmUI server (its docs/API.md): POST /API/GetNewSession for a session id, then
// /API/GenerateText2Image with the generation parameters at the top level, which answers when
// the images are done with their paths under /View/ (or data: URLs) to fetch. An account token,
// when the server requires accounts, goes in the `swarm_user_token` cookie (serverHttp.ts).
// Errors come back as `error` (text for users) or `error_id`; `invalid_session_id` means a new
// session and one more try. The HTTP route gives no step updates: progress moves image by
// image. Each image is its own request with seed + i, so each seed in an infotext is its image's.

import { promises as fs } from 'fs';
import * as path from 'path';
import type { GenerateParams, GenerateResult } from '../../core/protocol';
import { DEFAULTS, randomSeed } from '../../core/limits';
import { isRecord } from '../../core/validate';
import * as l10n from '@vscode/l10n';
import { EngineError } from '../engine/engineError';
import type { GenerateOptions } from '../services';
import type { BackendDeps, GenerationBackend } from './generationBackend';
import { ServerHttp } from './serverHttp';
import { type ServerImage, writeServerImages } from './serverImages';
import { comfyNames, jobScheduler } from './serverSamplers';

class InvalidSession extends Error {}

export class SwarmuiBackend implements GenerationBackend {
  readonly kind = 'swarmui' as const;
  private readonly http: ServerHttp;
  private session: Promise<string> | undefined;

  constructor(private readonly deps: BackendDeps) {
    this.http = new ServerHttp('swarmui', deps.url, deps.credentials);
  }

  get url(): string {
    return this.http.url;
  }

  async generate(params: GenerateParams, options: GenerateOptions & { jobId: string }): Promise<GenerateResult> {
    const started = Date.now();
    const names = comfyNames(jobScheduler(params.scheduler));
    const batch = params.batch ?? 1;
    const seed0 = params.seed ?? randomSeed();
    const abort = new AbortController();
    const sub = options.token?.onCancellationRequested(() => {
      abort.abort();
      // Stops this session's generations only, not other teachers'.
      void this.call('/API/InterruptAll', { other_sessions: false }, undefined, 10_000).catch(() => undefined);
    });
    try {
      const model = await this.model(abort.signal);
      const base: Record<string, unknown> = {
        images: 1,
        prompt: params.prompt,
        negativeprompt: params.negativePrompt ?? '',
        model,
        steps: params.steps ?? DEFAULTS.steps,
        cfgscale: params.guidance ?? DEFAULTS.guidance,
        width: params.width ?? DEFAULTS.width,
        height: params.height ?? DEFAULTS.height,
        sampler: names.sampler_name,
        scheduler: names.scheduler,
      };
      if (params.initImage !== undefined) {
        base.initimage = await dataUrl(params.initImage);
        base.initimagecreativity = params.strength ?? (params.mask ? 1 : 0.8);
        if (params.mask !== undefined) base.maskimage = await dataUrl(params.mask);
      }
      const images: ServerImage[] = [];
      options.onQueue?.({ jobId: options.jobId, position: 0 });
      for (let i = 0; i < batch; i++) {
        const seed = seed0 + i;
        options.onProgress?.({ jobId: options.jobId, image: i, images: batch, step: 0, total: 0, elapsedMs: Date.now() - started, etaMs: 0, stage: 'load' });
        const raw = await this.call('/API/GenerateText2Image', { ...base, seed }, abort.signal);
        const first = isRecord(raw) && Array.isArray(raw.images) ? raw.images[0] : undefined;
        const src = typeof first === 'string' ? first : isRecord(first) && typeof first.image === 'string' ? first.image : undefined;
        if (!src) throw this.http.unexpected('/API/GenerateText2Image', 'no image path in "images"');
        images.push({ base64: await this.fetchImage(src, abort.signal), seed });
        options.onProgress?.({
          jobId: options.jobId, image: i, images: batch, step: base.steps as number, total: base.steps as number,
          elapsedMs: Date.now() - started, etaMs: ((Date.now() - started) / (i + 1)) * (batch - i - 1), stage: 'decode',
        });
      }
      const warnings = names.warning ? [names.warning.replace('ComfyUI', 'SwarmUI')] : [];
      return await writeServerImages(this.deps, params, options.jobId, { kind: 'swarmui', scheduler: names.used, started, warnings, modelName: path.basename(model).replace(/\.(safetensors|ckpt)$/i, '') }, images);
    } catch (e) {
      if (abort.signal.aborted) throw new EngineError('cancelled', l10n.t('Generation cancelled.'));
      throw e;
    } finally {
      sub?.dispose();
    }
  }

  /** POST /API/route with our session; a new session and one more try when it expired. */
  private async call(route: string, body: Record<string, unknown>, signal?: AbortSignal, timeoutMs?: number): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      const session = await this.sessionId(signal);
      try {
        return this.checked(route, await this.http.json('POST', route, { body: { ...body, session_id: session }, signal, timeoutMs }));
      } catch (e) {
        if (!(e instanceof InvalidSession) || attempt > 0) throw e instanceof InvalidSession ? this.http.unexpected(route, 'invalid_session_id twice') : e;
        this.session = undefined;
      }
    }
  }

  private sessionId(signal?: AbortSignal): Promise<string> {
    this.session ??= this.http.json('POST', '/API/GetNewSession', { body: {}, signal, timeoutMs: 30_000 }).then((raw) => {
      const r = this.checked('/API/GetNewSession', raw);
      if (!isRecord(r) || typeof r.session_id !== 'string' || r.session_id === '') throw this.http.unexpected('/API/GetNewSession', 'no "session_id"');
      return r.session_id;
    });
    const s = this.session;
    s.catch(() => {
      if (this.session === s) this.session = undefined;
    });
    return s;
  }

  /** SwarmUI answers errors with status 200 and `error` / `error_id`. */
  private checked(route: string, raw: unknown): unknown {
    if (!isRecord(raw)) throw this.http.unexpected(route, 'not a JSON object');
    if (raw.error_id === 'invalid_session_id') throw new InvalidSession();
    const error = typeof raw.error === 'string' ? raw.error : typeof raw.error_id === 'string' ? raw.error_id : undefined;
    if (error === undefined) return raw;
    if (/model/i.test(error)) {
      throw new EngineError('modelError', l10n.t('The SwarmUI server at {0} could not use the model: {1} Check courseIllustrator.backendModel (empty: the first model the server lists).', this.url, error));
    }
    if (/permission|unauthori[sz]ed|log ?in|logged|token|account/i.test(error)) {
      throw new EngineError('badInput', l10n.t('The SwarmUI server at {0} refused the request: {1} Run "Course Illustrator: Set Server Credentials…" with the token from your SwarmUI account.', this.url, error));
    }
    throw new EngineError('internal', l10n.t('The SwarmUI server at {0} failed: {1}', this.url, error));
  }

  /** courseIllustrator.backendModel when the server lists it, else the first Stable-Diffusion model. */
  private async model(signal: AbortSignal): Promise<string> {
    const raw = await this.call('/API/ListModels', { path: '', depth: 4, subtype: 'Stable-Diffusion' }, signal, 30_000);
    const files = isRecord(raw) && Array.isArray(raw.files) ? raw.files : undefined;
    if (!files) throw this.http.unexpected('/API/ListModels', 'no "files" list');
    const models = files.map((f) => (isRecord(f) && typeof f.name === 'string' ? f.name : typeof f === 'string' ? f : '')).filter((n) => n !== '');
    const want = this.deps.model;
    if (!want) {
      if (models.length === 0) throw new EngineError('modelError', l10n.t('The SwarmUI server at {0} lists no Stable-Diffusion model. Ask whoever runs it to add a Stable Diffusion 1.5 model.', this.url));
      return models[0];
    }
    const bare = (s: string) => s.replace(/\.(safetensors|ckpt)$/i, '').toLowerCase();
    const found = models.find((m) => m === want) ?? models.find((m) => bare(m) === bare(want) || bare(path.basename(m)) === bare(want));
    if (!found) {
      const list = `${models.slice(0, 8).join(', ')}${models.length > 8 ? ', …' : ''}`;
      throw new EngineError(
        'modelError',
        models.length
          ? l10n.t('The SwarmUI server at {0} has no model "{1}" (courseIllustrator.backendModel). It has: {2}. Use one of these names, or leave the setting empty for the first one.', this.url, want, list)
          : l10n.t('The SwarmUI server at {0} has no model "{1}" (courseIllustrator.backendModel). Use one of these names, or leave the setting empty for the first one.', this.url, want),
      );
    }
    return found;
  }

  /** A data: URL's bytes, or the file at the server's View/... path; base64. */
  private async fetchImage(src: string, signal: AbortSignal): Promise<string> {
    if (src.startsWith('data:')) {
      const comma = src.indexOf(',');
      if (comma < 0 || !/;base64$/i.test(src.slice(0, comma))) throw this.http.unexpected('/API/GenerateText2Image', 'an image data: URL without base64');
      return src.slice(comma + 1);
    }
    if (/^[a-z][a-z0-9+.-]*:/i.test(src) || src.startsWith('//')) throw this.http.unexpected('/API/GenerateText2Image', 'an image on another server');
    const route = '/' + src.replace(/^\/+/, '').split('/').map(encodeURIComponent).join('/');
    return (await this.http.bytes(route, signal)).toString('base64');
  }
}

async function dataUrl(file: string): Promise<string> {
  try {
    const ext = path.extname(file).toLowerCase();
    const mime = ext === '.jpg' || ext === '.jpeg' ? 'image/jpeg' : ext === '.webp' ? 'image/webp' : 'image/png';
    return `data:${mime};base64,${(await fs.readFile(file)).toString('base64')}`;
  } catch (e) {
    throw new EngineError('badInput', l10n.t("The image {0} can't be read ({1}).", file, (e as NodeJS.ErrnoException).code ?? String(e)));
  }
}
