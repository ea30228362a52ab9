// The /sdapi/v1/ endpoints this server answers, with A1111's request and response shapes.

import { promises as fs } from 'fs';
import * as http from 'http';
import * as path from 'path';
import { GenerateParams, GenerateResult } from '../../core/protocol';
import { parseInfotext } from '../../core/infotext';
import { EngineError } from '../errors';
import { VERSION } from '../version';
import { A1111Job, RequestKind, parseA1111Request } from './a1111Request';
import { ServedModel, infoJson } from './a1111Response';
import { SAMPLERS, SCHEDULE_TYPES } from './a1111Samplers';
import { HttpError, a1111Error } from './httpError';
import { RequestQueue, Submitted } from './requestQueue';
import { writeUploads } from './uploads';

export interface RouteContext {
  modelDir: string;
  model: ServedModel;
  queue: RequestQueue;
  /** Private folder (mode 0700) for uploads and the engine's output, one subfolder a job. */
  tempRoot: string;
  requestTimeoutMs: number;
  /** The server's LoRA folders (--lora-dir), searched for `<lora:NAME>`. */
  loraDirs: string[];
  readJson(req: http.IncomingMessage): Promise<unknown>;
  log(line: string): void;
}

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

type Handler = (ctx: RouteContext, req: http.IncomingMessage, res: http.ServerResponse, url: URL) => Promise<Reply | undefined>;

const ok = (body: unknown): Reply => ({ status: 200, body });

export const ROUTES: Record<string, Partial<Record<'GET' | 'POST', Handler>>> = {
  '/sdapi/v1/txt2img': { POST: (ctx, req, res) => generate('txt2img', ctx, req, res) },
  '/sdapi/v1/img2img': { POST: (ctx, req, res) => generate('img2img', ctx, req, res) },
  '/sdapi/v1/progress': {
    GET: async (ctx, _req, _res, url) => ok(ctx.queue.progress(['true', '1'].includes(url.searchParams.get('skip_current_image') ?? ''))),
  },
  // A1111 answers {} for interrupt and null for skip.
  '/sdapi/v1/interrupt': { POST: async (ctx) => (ctx.queue.interrupt(), ok({})) },
  '/sdapi/v1/skip': { POST: async (ctx) => (ctx.queue.skip(), ok(null)) },
  '/sdapi/v1/samplers': { GET: async () => ok(SAMPLERS.map(({ name, aliases, options }) => ({ name, aliases, options }))) },
  '/sdapi/v1/schedulers': { GET: async () => ok(SCHEDULE_TYPES) },
  '/sdapi/v1/sd-models': { GET: async (ctx) => ok([modelItem(ctx.model)]) },
  // A1111's shape; `path` is the file name only: clients have no use for the server's folders.
  '/sdapi/v1/loras': { GET: async (ctx) => ok(await listLoras(ctx.loraDirs)) },
  '/sdapi/v1/options': {
    GET: async (ctx) => ok(options(ctx.model)),
    POST: async (ctx, req) => {
      const body = await ctx.readJson(req);
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw a1111Error(422, 'Options must be a JSON object.');
      const checkpoint = (body as Record<string, unknown>).sd_model_checkpoint;
      if (checkpoint !== undefined && checkpoint !== null && !matchesModel(String(checkpoint), ctx.model)) {
        throw a1111Error(404, `model ${JSON.stringify(String(checkpoint))} not found; this server serves "${ctx.model.title}" only.`);
      }
      // Other options are accepted and not kept: every client shares this server's settings.
      return ok(null);
    },
  },
};

function modelItem(m: ServedModel) {
  // `filename` is the folder's name, not its path: clients have no use for the server's folders.
  return { title: m.title, model_name: m.title, hash: m.hash, sha256: null, filename: m.title, config: null };
}

function options(m: ServedModel) {
  return {
    sd_model_checkpoint: m.title,
    sd_checkpoint_hash: m.hash,
    sd_vae: 'Automatic',
    samples_format: 'png',
    CLIP_stop_at_last_layers: 1,
    eta_noise_seed_delta: 0,
    randn_source: 'CPU',
    sd_lora: 'None',
  };
}

/** A1111's check (validate_model): the title, with or without ".safetensors" or a "[hash]". */
export function matchesModel(name: string, m: ServedModel): boolean {
  const n = name.replace(/\.(safetensors|ckpt)$/i, '').replace(/\s*\[[0-9a-f]+\]$/i, '').trim();
  return n === m.title;
}

async function generate(kind: RequestKind, ctx: RouteContext, req: http.IncomingMessage, res: http.ServerResponse): Promise<Reply | undefined> {
  const job = parseA1111Request(kind, await ctx.readJson(req));
  if (job.checkpoint !== undefined && !matchesModel(job.checkpoint, ctx.model)) throw a1111Error(404, 'Model not found');
  // Before decoding uploads: a full queue is answered at once (submit checks again).
  ctx.queue.admit();
  const dir = await fs.mkdtemp(path.join(ctx.tempRoot, 'job-'));
  try {
    const outDir = path.join(dir, 'out');
    await fs.mkdir(outDir);
    const uploads = job.initImage !== undefined ? await writeUploads(dir, job.initImage, job.mask, job.maskInvert) : undefined;
    const params: GenerateParams = {
      model: ctx.modelDir,
      prompt: job.prompt,
      negativePrompt: job.negativePrompt,
      seed: job.seed,
      steps: job.steps,
      guidance: job.cfgScale,
      width: job.width,
      height: job.height,
      scheduler: job.scheduler,
      batch: job.batchSize * job.nIter,
      outDir,
      confineTo: dir,
      // About ten previews an image, as A1111's show_progress_every_n_steps would give.
      previewEvery: Math.max(1, Math.round(job.steps / 10)),
      initImage: uploads?.initImage,
      mask: uploads?.mask,
      strength: uploads ? job.denoisingStrength : undefined,
      ...(ctx.loraDirs.length ? { loraDirs: ctx.loraDirs } : {}),
    };
    const sub = ctx.queue.submit(params, kind);
    res.setHeader('X-Queue-Ticket', String(sub.ticket));
    return await runJob(ctx, job, sub, res, dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function runJob(ctx: RouteContext, job: A1111Job, sub: Submitted, res: http.ServerResponse, dir: string): Promise<Reply | undefined> {
  // A client that goes away before its answer no longer needs the job: queued, it is dropped;
  // running, it stops before its next step.
  const onClose = () => {
    if (!res.writableFinished) sub.cancel('disconnect');
  };
  res.on('close', onClose);
  const timer = setTimeout(() => sub.cancel('timeout'), ctx.requestTimeoutMs);
  let result: GenerateResult;
  try {
    result = await sub.result;
  } catch (err) {
    return failed(ctx, job, sub, err, dir);
  } finally {
    clearTimeout(timer);
    res.off('close', onClose);
  }
  const images = job.sendImages ? await Promise.all(result.images.map(async (i) => (await fs.readFile(i.path)).toString('base64'))) : [];
  const hash = result.images[0] ? parseInfotext(result.images[0].infotext).fields['Model hash'] : undefined;
  if (hash) ctx.model.hash = hash;
  const info = infoJson({
    job, seeds: result.images.map((i) => i.seed), infotexts: result.images.map((i) => i.infotext),
    model: ctx.model, jobTimestamp: sub.timestamp, version: `course-illustrator ${VERSION}`,
  });
  ctx.log(`job ${sub.ticket} done: ${result.images.length} image(s), ${Math.round(result.timings.totalMs)} ms`);
  return ok({ images, parameters: job.parameters, info });
}

function failed(ctx: RouteContext, job: A1111Job, sub: Submitted, err: unknown, dir: string): Reply | undefined {
  if (err instanceof HttpError) throw err;
  const kind = err instanceof EngineError ? err.kind : 'internal';
  if (kind === 'cancelled') {
    ctx.log(`job ${sub.ticket} cancelled (${sub.reason ?? 'unknown'})`);
    switch (sub.reason) {
      case 'disconnect':
        return undefined;
      case 'timeout':
        throw a1111Error(503, `The request took longer than this server's --request-timeout (${Math.round(ctx.requestTimeoutMs / 1000)} s), waiting included; try again later, or with fewer steps or images.`);
      case 'shutdown':
        throw a1111Error(503, 'The server is shutting down; try again when it is back.');
      default:
        // Interrupted or skipped, as A1111: a normal answer, without the unfinished images
        // (the engine keeps none).
        return ok({
          images: [], parameters: job.parameters,
          info: infoJson({ job, seeds: [], infotexts: [], model: ctx.model, jobTimestamp: sub.timestamp, version: `course-illustrator ${VERSION}` }),
        });
    }
  }
  const message = clientMessage(err instanceof Error ? err.message : String(err), dir, ctx);
  if (kind === 'badInput') throw a1111Error(422, message);
  ctx.log(`job ${sub.ticket} failed (${kind}): ${message}`);
  if (kind === 'modelError') throw a1111Error(500, 'The model could not be run; the server\'s log says why. Ask whoever runs the server.');
  throw a1111Error(500, `Generation failed: ${message}`);
}

/** The engine speaks of CLI flags and file paths; clients sent A1111 fields and no paths. */
function clientMessage(message: string, dir: string, ctx: Pick<RouteContext, 'loraDirs' | 'modelDir'>): string {
  const flags: [string, string][] = [
    ['--init-image', 'init_images'], ['--mask', 'mask'], ['--strength', 'denoising_strength'], ['--steps', 'steps'],
    ['--guidance', 'cfg_scale'], ['--width', 'width'], ['--height', 'height'], ['--seed', 'seed'], ['--batch', 'batch_size × n_iter'],
    ['--negative-prompt', 'negative_prompt'], ['--prompt', 'prompt'], ['--scheduler', 'sampler_name'],
  ];
  let m = message.split(path.join(dir, 'init.png')).join('(the uploaded image)').split(path.join(dir, 'mask.png')).join('(the uploaded mask)');
  m = m.split(dir).join('(job folder)');
  // The server's own folders are nobody else's business.
  for (const d of ctx.loraDirs) m = m.split(d).join("(the server's LoRA folder)");
  m = m.split(ctx.modelDir).join('(the served model)');
  for (const [flag, field] of flags) m = m.split(flag).join(field);
  return m;
}

/** The .safetensors files of the LoRA folders, as A1111 lists them (the first folder wins a name). */
async function listLoras(dirs: string[]): Promise<{ name: string; alias: string; path: string; metadata: Record<string, never> }[]> {
  const seen = new Map<string, { name: string; alias: string; path: string; metadata: Record<string, never> }>();
  for (const dir of dirs) {
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    for (const n of names.sort()) {
      const name = n.replace(/\.safetensors$/i, '');
      if (name === n || /[<>:]/.test(name) || seen.has(name)) continue;
      seen.set(name, { name, alias: name, path: n, metadata: {} });
    }
  }
  return [...seen.values()].slice(0, 1000);
}
