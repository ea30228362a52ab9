// A ComfyUI server. ComfyUI runs workflows, not requests with settings: each image is a small
// built-in SD 1.5 workflow in ComfyUI's API format (comfyWorkflow.ts) queued with POST /prompt,
// followed by polling /history/{id} (finished?) and /queue (how many ahead?), then its output
// fetched from /view. Without a WebSocket client there are no per-step updates: progress moves
// image by image. Each image is its own prompt with seed + i, so every seed in the infotext
// gives that image again (a ComfyUI batch shares one seed).
//
// Cancelling removes our prompt from the queue, or interrupts it when it is the one running
// (with its prompt_id, which newer ComfyUI checks; the running prompt was ours anyway).

import { promises as fs } from 'fs';
import * as path from 'path';
import type { GenerateParams, GenerateResult } from '../../core/protocol';
import { DEFAULTS, randomSeed } from '../../core/limits';
import { isRecord } from '../../core/validate';
import * as l10n from '@vscode/l10n';
import { EngineError } from '../engine/engineError';
import type { GenerateOptions } from '../services';
import { comfyWorkflow, SAVE_NODE } from './comfyWorkflow';
import type { BackendDeps, GenerationBackend } from './generationBackend';
import { ServerHttp, ServerHttpError, delay } from './serverHttp';
import { type ServerImage, writeServerImages } from './serverImages';
import { comfyNames, jobScheduler } from './serverSamplers';

interface OutputFile {
  filename: string;
  subfolder: string;
  type: string;
}

export class ComfyuiBackend implements GenerationBackend {
  readonly kind = 'comfyui' as const;
  private readonly http: ServerHttp;
  private readonly clientId = `course-illustrator-${Math.random().toString(36).slice(2)}`;

  constructor(private readonly deps: BackendDeps) {
    this.http = new ServerHttp('comfyui', deps.url, deps.credentials);
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
    const sub = options.token?.onCancellationRequested(() => abort.abort());
    try {
      const model = await this.model();
      const init = params.initImage !== undefined ? await this.upload(params.initImage, `${options.jobId}-init`, abort.signal) : undefined;
      const mask = params.mask !== undefined ? await this.upload(params.mask, `${options.jobId}-mask`, abort.signal) : undefined;
      const images: ServerImage[] = [];
      for (let i = 0; i < batch; i++) {
        const seed = seed0 + i;
        const workflow = comfyWorkflow({
          checkpoint: model,
          prompt: params.prompt,
          negativePrompt: params.negativePrompt ?? '',
          seed,
          steps: params.steps ?? DEFAULTS.steps,
          cfg: params.guidance ?? DEFAULTS.guidance,
          sampler: names.sampler_name,
          scheduler: names.scheduler,
          width: params.width ?? DEFAULTS.width,
          height: params.height ?? DEFAULTS.height,
          init,
          mask,
          denoise: init ? (params.strength ?? (mask ? 1 : 0.8)) : 1,
        });
        const id = await this.queue(workflow, abort.signal);
        const file = await this.wait(id, options, i, batch, started, abort.signal);
        const bytes = await this.http.bytes(`/view?${new URLSearchParams({ filename: file.filename, subfolder: file.subfolder, type: file.type })}`, abort.signal);
        images.push({ base64: bytes.toString('base64'), seed });
        options.onProgress?.({
          jobId: options.jobId, image: i, images: batch, step: params.steps ?? DEFAULTS.steps, total: params.steps ?? DEFAULTS.steps,
          elapsedMs: Date.now() - started, etaMs: ((Date.now() - started) / (i + 1)) * (batch - i - 1), stage: 'decode',
        });
      }
      const warnings = names.warning ? [names.warning] : [];
      return await writeServerImages(this.deps, params, options.jobId, { kind: 'comfyui', scheduler: names.used, started, warnings, modelName: model.replace(/\.(safetensors|ckpt)$/i, '') }, images);
    } catch (e) {
      if (abort.signal.aborted) throw new EngineError('cancelled', l10n.t('Generation cancelled.'));
      throw e;
    } finally {
      sub?.dispose();
    }
  }

  /** courseIllustrator.backendModel when the server has it, else the first checkpoint it lists. */
  private async model(): Promise<string> {
    const route = '/object_info/CheckpointLoaderSimple';
    const raw = await this.http.json('GET', route, { timeoutMs: 30_000 });
    const spec = isRecord(raw) && isRecord(raw.CheckpointLoaderSimple) && isRecord(raw.CheckpointLoaderSimple.input) ? raw.CheckpointLoaderSimple.input.required : undefined;
    const choices = isRecord(spec) && Array.isArray(spec.ckpt_name) && Array.isArray(spec.ckpt_name[0]) ? (spec.ckpt_name[0] as unknown[]).filter((n): n is string => typeof n === 'string') : undefined;
    if (!choices) throw this.http.unexpected(route, 'no CheckpointLoaderSimple ckpt_name list');
    const want = this.deps.model;
    if (!want) {
      if (choices.length === 0) throw new EngineError('modelError', l10n.t('The ComfyUI server at {0} has no checkpoint in its models/checkpoints folder. Ask whoever runs it to add a Stable Diffusion 1.5 model.', this.url));
      return choices[0];
    }
    const bare = (s: string) => s.replace(/\.(safetensors|ckpt|pt|bin)$/i, '').toLowerCase();
    const found = choices.find((c) => c === want) ?? choices.find((c) => bare(c) === bare(want) || bare(path.basename(c)) === bare(want));
    if (!found) {
      const list = `${choices.slice(0, 8).join(', ')}${choices.length > 8 ? ', …' : ''}`;
      throw new EngineError(
        'modelError',
        choices.length
          ? l10n.t('The ComfyUI server at {0} has no checkpoint "{1}" (courseIllustrator.backendModel). It has: {2}. Use one of these names, or leave the setting empty for the first one.', this.url, want, list)
          : l10n.t('The ComfyUI server at {0} has no checkpoint "{1}" (courseIllustrator.backendModel). Use one of these names, or leave the setting empty for the first one.', this.url, want),
      );
    }
    return found;
  }

  /** POST /upload/image; the name LoadImage takes. */
  private async upload(file: string, name: string, signal: AbortSignal): Promise<string> {
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(file);
    } catch (e) {
      throw new EngineError('badInput', l10n.t("The image {0} can't be read ({1}).", file, (e as NodeJS.ErrnoException).code ?? String(e)));
    }
    const form = new FormData();
    form.append('image', new Blob([bytes]), `${name}${path.extname(file) || '.png'}`);
    form.append('type', 'input');
    form.append('overwrite', 'true');
    const raw = await this.http.json('POST', '/upload/image', { form, signal, timeoutMs: 120_000 });
    if (!isRecord(raw) || typeof raw.name !== 'string') throw this.http.unexpected('/upload/image', 'no "name"');
    return typeof raw.subfolder === 'string' && raw.subfolder ? `${raw.subfolder}/${raw.name}` : raw.name;
  }

  /** POST /prompt; the prompt_id. A workflow ComfyUI refuses names the node and the field. */
  private async queue(workflow: Record<string, unknown>, signal: AbortSignal): Promise<string> {
    let raw: unknown;
    try {
      raw = await this.http.json('POST', '/prompt', { body: { prompt: workflow, client_id: this.clientId }, signal });
    } catch (e) {
      if (e instanceof ServerHttpError && e.status === 400) {
        const why = e.detail || e.message;
        if (/ckpt_name/.test(e.detail)) throw new EngineError('modelError', l10n.t('The ComfyUI server refused the workflow: {0} Check courseIllustrator.backendModel.', why));
        throw new EngineError('badInput', l10n.t('The ComfyUI server refused the workflow: {0}', why));
      }
      throw e;
    }
    if (!isRecord(raw) || typeof raw.prompt_id !== 'string') throw this.http.unexpected('/prompt', 'no "prompt_id"');
    return raw.prompt_id;
  }

  /** Polls until prompt `id` is done; its SaveImage output. Reports queue positions meanwhile. */
  private async wait(id: string, options: GenerateOptions & { jobId: string }, image: number, images: number, started: number, signal: AbortSignal): Promise<OutputFile> {
    let position = -1;
    const onAbort = () => void this.stop(id);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        if (signal.aborted) throw new EngineError('cancelled', l10n.t('Generation cancelled.'));
        const history = await this.http.json('GET', `/history/${encodeURIComponent(id)}`, { signal, timeoutMs: 30_000 });
        const entry = isRecord(history) ? history[id] : undefined;
        if (isRecord(entry)) return this.output(entry, id);
        const now = await this.position(id, signal);
        if (now !== position) {
          position = now;
          options.onQueue?.({ jobId: options.jobId, position: Math.max(0, now) });
          if (now === 0) options.onProgress?.({ jobId: options.jobId, image, images, step: 0, total: 0, elapsedMs: Date.now() - started, etaMs: 0, stage: 'load' });
        }
        await delay(this.deps.pollMs ?? 500, signal);
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** 0: running; n: n prompts ahead; -1: in neither list (finishing, or just done). */
  private async position(id: string, signal: AbortSignal): Promise<number> {
    const raw = await this.http.json('GET', '/queue', { signal, timeoutMs: 30_000 });
    if (!isRecord(raw)) return -1;
    const ids = (list: unknown): { n: number; id: unknown }[] => (Array.isArray(list) ? list.filter(Array.isArray).map((e) => ({ n: Number(e[0]), id: e[1] })) : []);
    const running = ids(raw.queue_running);
    if (running.some((e) => e.id === id)) return 0;
    const pending = ids(raw.queue_pending).sort((a, b) => a.n - b.n);
    const at = pending.findIndex((e) => e.id === id);
    return at < 0 ? -1 : running.length + at;
  }

  private output(entry: Record<string, unknown>, id: string): OutputFile {
    const status = isRecord(entry.status) ? entry.status : {};
    if (status.status_str === 'error') {
      const messages = Array.isArray(status.messages) ? status.messages : [];
      const failure = messages.find((m) => Array.isArray(m) && (m[0] === 'execution_error' || m[0] === 'execution_interrupted'));
      if (Array.isArray(failure) && failure[0] === 'execution_interrupted') {
        throw new EngineError('internal', l10n.t('The ComfyUI server at {0} stopped the job before it finished (someone interrupted it). Try again.', this.url));
      }
      const info = Array.isArray(failure) && isRecord(failure[1]) ? failure[1] : {};
      const what = typeof info.exception_message === 'string' ? info.exception_message.trim() : l10n.t('no reason given');
      throw new EngineError(
        'internal',
        typeof info.node_type === 'string'
          ? l10n.t('The ComfyUI server failed in {0}: {1}. Its log may say more.', info.node_type, what)
          : l10n.t('The ComfyUI server failed: {0}. Its log may say more.', what),
      );
    }
    const outputs = isRecord(entry.outputs) ? entry.outputs : {};
    const save = outputs[SAVE_NODE];
    const list = isRecord(save) && Array.isArray(save.images) ? save.images : [];
    const first = list.find((f): f is Record<string, unknown> => isRecord(f) && typeof f.filename === 'string');
    if (!first) throw this.http.unexpected(`/history/${id}`, 'no image in the SaveImage output');
    return { filename: String(first.filename), subfolder: typeof first.subfolder === 'string' ? first.subfolder : '', type: typeof first.type === 'string' ? first.type : 'output' };
  }

  /** Drops prompt `id` from the queue, or interrupts it when it runs. Best effort. */
  private async stop(id: string): Promise<void> {
    try {
      if ((await this.position(id, AbortSignal.timeout(10_000))) === 0) await this.http.json('POST', '/interrupt', { body: { prompt_id: id }, timeoutMs: 10_000 });
      else await this.http.json('POST', '/queue', { body: { delete: [id] }, timeoutMs: 10_000 });
    } catch (e) {
      this.deps.log.warn(`could not cancel ComfyUI prompt ${id}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
