// `course-illustrator serve` in process over real HTTP on 127.0.0.1 (an ephemeral port), with the
// project's tiny model: A1111's request and response shapes, limits, the shared queue,
// cancellation and security. The client (a1111Client.ts) knows A1111's API, not our types.

import * as assert from 'assert';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { ensureFixture } from '../../fixtures/tinyPipeline';
import { ServeServer, startHttpServer } from '../../../src/engine/serve/httpServer';
import { Answer, call, img2img, pngPixelsChunks, pngText, progress, txt2img } from './a1111Client';

const quiet = () => undefined;

async function serve(model: string, extra: Partial<Parameters<typeof startHttpServer>[0]> = {}): Promise<ServeServer> {
  return startHttpServer({
    model, host: '127.0.0.1', port: 0, maxQueue: 2, requestTimeoutMs: 60_000, threads: 1,
    lowMemory: false, log: quiet, ...extra,
  });
}

/** A job that runs for seconds on the tiny model (16 images of 150 steps at 512x512), to cancel. */
const LONG = { prompt: 'a long job', seed: 5, steps: 150, width: 512, height: 512, batch_size: 16, sampler_name: 'Euler' };
const SMALL = { prompt: 'a plant cell', negative_prompt: 'blurry', seed: 42, steps: 4, width: 64, height: 48, sampler_name: 'Euler a', cfg_scale: 6.5 };

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits until the running job has done at least one sampling step. */
const running = (base: string) => until('a sampling step', async () => {
  const p = await progress(base);
  return p.json.state.sampling_step > 0 ? p.json : undefined;
});

describe('serve: A1111 web API over HTTP (tiny model, in process)', function () {
  this.timeout(120_000);
  let model: string;
  let server: ServeServer;
  let base: string;

  before(async () => {
    model = await ensureFixture('tiny-a');
    server = await serve(model);
    base = server.url;
  });
  after(async () => server?.close());

  it('txt2img answers base64 PNGs whose infotext (tEXt "parameters") matches the request, with A1111\'s parameters and info', async () => {
    const r = await txt2img(base, SMALL);
    assert.strictEqual(r.status, 200, JSON.stringify(r.json));
    assert.deepStrictEqual(Object.keys(r.json).sort(), ['images', 'info', 'parameters']);
    assert.strictEqual(r.json.images.length, 1);
    const png = Buffer.from(r.json.images[0], 'base64');
    const meta = await sharp(png).metadata();
    assert.deepStrictEqual([meta.format, meta.width, meta.height], ['png', 64, 48]);
    const text = pngText(png).parameters;
    assert.ok(text.startsWith('a plant cell\nNegative prompt: blurry\n'), text);
    for (const pair of ['Steps: 4', 'Sampler: Euler a', 'CFG scale: 6.5', 'Seed: 42', 'Size: 64x48']) assert.ok(text.includes(pair), `${pair} in ${text}`);
    const info = JSON.parse(r.json.info);
    assert.strictEqual(info.seed, 42);
    assert.deepStrictEqual(info.all_seeds, [42]);
    assert.deepStrictEqual(info.infotexts, [text]);
    assert.deepStrictEqual([info.prompt, info.negative_prompt, info.width, info.height, info.sampler_name, info.cfg_scale, info.steps],
      ['a plant cell', 'blurry', 64, 48, 'Euler a', 6.5, 4]);
    for (const k of ['all_prompts', 'all_negative_prompts', 'batch_size', 'sd_model_name', 'job_timestamp', 'index_of_first_image', 'version']) assert.ok(k in info, k);
    // The request echoed, defaults filled as A1111's models give them.
    assert.strictEqual(r.json.parameters.prompt, 'a plant cell');
    assert.strictEqual(r.json.parameters.seed, 42);
    assert.strictEqual(r.json.parameters.n_iter, 1);
    assert.strictEqual(r.json.parameters.send_images, true);
    assert.strictEqual(r.json.parameters.sampler_index, 'Euler');
  });

  it('gives the same pixels for the same seed, a random seed for -1 (reported), and seed+i for each image of batch_size x n_iter', async () => {
    const a = await txt2img(base, SMALL);
    const b = await txt2img(base, { ...SMALL, unknown_field: 'ignored', enable_hr: false, restore_faces: true });
    assert.strictEqual(b.status, 200);
    assert.ok(pngPixelsChunks(Buffer.from(a.json.images[0], 'base64')).equals(pngPixelsChunks(Buffer.from(b.json.images[0], 'base64'))));
    const r = await txt2img(base, { ...SMALL, seed: -1 });
    const seed = JSON.parse(r.json.info).seed;
    assert.ok(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32, String(seed));
    assert.ok(pngText(Buffer.from(r.json.images[0], 'base64')).parameters.includes(`Seed: ${seed}`));
    const batch = await txt2img(base, { ...SMALL, seed: 7, batch_size: 2, n_iter: 2 });
    assert.strictEqual(batch.status, 200);
    assert.strictEqual(batch.json.images.length, 4);
    assert.deepStrictEqual(JSON.parse(batch.json.info).all_seeds, [7, 8, 9, 10]);
    const none = await txt2img(base, { ...SMALL, send_images: false });
    assert.deepStrictEqual(none.json.images, []);
  });

  it('img2img starts from init_images[0] (denoising_strength in the infotext), and inpaints with a mask (inverted with inpainting_mask_invert)', async () => {
    const init = (await txt2img(base, { ...SMALL, width: 64, height: 64 })).json.images[0];
    const r = await img2img(base, { prompt: 'a plant cell, watercolour', init_images: [`data:image/png;base64,${init}`], denoising_strength: 0.5, steps: 8, seed: 3, width: 64, height: 64 });
    assert.strictEqual(r.status, 200, JSON.stringify(r.json));
    const text = pngText(Buffer.from(r.json.images[0], 'base64')).parameters;
    assert.ok(text.includes('Denoising strength: 0.5'), text);
    assert.strictEqual(r.json.parameters.init_images, null, 'A1111 leaves the images out of the echo');
    assert.strictEqual(JSON.parse(r.json.info).denoising_strength, 0.5);

    // A mask of another size is resized to the image, as A1111 does.
    const mask = (await sharp({ create: { width: 32, height: 32, channels: 3, background: '#000' } })
      .composite([{ input: await sharp({ create: { width: 16, height: 32, channels: 3, background: '#fff' } }).png().toBuffer(), left: 0, top: 0 }])
      .png().toBuffer()).toString('base64');
    const body = { prompt: 'a nucleus', init_images: [init], mask, denoising_strength: 0.75, steps: 8, seed: 3, width: 64, height: 64, mask_blur: 4 };
    const inpaint = await img2img(base, body);
    assert.strictEqual(inpaint.status, 200, JSON.stringify(inpaint.json));
    const inverted = await img2img(base, { ...body, inpainting_mask_invert: 1 });
    assert.strictEqual(inverted.status, 200);
    const px = async (b64: string) => sharp(Buffer.from(b64, 'base64')).raw().toBuffer();
    assert.ok(!(await px(inpaint.json.images[0])).equals(await px(inverted.json.images[0])), 'the inverted mask repaints the other half');

    const missing = await img2img(base, { prompt: 'x', steps: 4 });
    assert.strictEqual(missing.status, 404);
    assert.strictEqual(missing.json.detail, 'Init image not found');
    const notImage = await img2img(base, { prompt: 'x', init_images: [Buffer.from('not an image').toString('base64')] });
    assert.strictEqual(notImage.status, 422);
    assert.deepStrictEqual(notImage.json.detail[0].loc, ['body', 'init_images', 0]);
    const url = await img2img(base, { prompt: 'x', init_images: ['http://169.254.169.254/latest'] });
    assert.strictEqual(url.status, 422, 'URLs are never fetched');
  });

  it('refuses values outside the limits with FastAPI\'s 422 body, and unknown samplers with A1111\'s 404', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ steps: 0 }, 'steps'], [{ steps: 151 }, 'steps'], [{ steps: 'many' }, 'steps'], [{ cfg_scale: 31 }, 'cfg_scale'],
      [{ width: 4096 }, 'width'], [{ height: 65 }, 'height'], [{ batch_size: 17 }, 'batch_size'], [{ batch_size: 8, n_iter: 3 }, 'n_iter'],
      [{ seed: -2 }, 'seed'], [{ prompt: 'x'.repeat(20001) }, 'prompt'], [{ prompt: 7 }, 'prompt'],
      [{ sampler_name: 'Euler', scheduler: 'Karras' }, 'scheduler'], [{ scheduler: 'exponential' }, 'scheduler'],
    ];
    for (const [extra, field] of cases) {
      const r = await txt2img(base, { ...SMALL, ...extra });
      assert.strictEqual(r.status, 422, `${JSON.stringify(extra)}: ${JSON.stringify(r.json)}`);
      assert.deepStrictEqual(r.json.detail[0].loc, ['body', field], JSON.stringify(r.json));
      assert.strictEqual(typeof r.json.detail[0].msg, 'string');
    }
    const strength = await img2img(base, { prompt: 'x', init_images: ['iVBORw0KGgo='], denoising_strength: 1.5 });
    assert.deepStrictEqual([strength.status, strength.json.detail[0].loc], [422, ['body', 'denoising_strength']]);
    const sampler = await txt2img(base, { ...SMALL, sampler_name: 'Heun' });
    assert.strictEqual(sampler.status, 404);
    assert.deepStrictEqual(Object.keys(sampler.json).sort(), ['body', 'detail', 'error', 'errors']);
    const legacy = await txt2img(base, { ...SMALL, sampler_name: 'DPM++ 2M Karras' });
    assert.strictEqual(legacy.status, 200);
    assert.ok(pngText(Buffer.from(legacy.json.images[0], 'base64')).parameters.includes('Schedule type: Karras'));
    const bad = await call(base, 'POST', '/sdapi/v1/txt2img', '{"prompt": ');
    assert.deepStrictEqual([bad.status, bad.json.detail[0].type], [422, 'json_invalid']);
    const list = await call(base, 'POST', '/sdapi/v1/txt2img', '[]');
    assert.strictEqual(list.status, 422);
    const wrongModel = await txt2img(base, { ...SMALL, override_settings: { sd_model_checkpoint: 'sdxl.safetensors' } });
    assert.strictEqual(wrongModel.status, 404);
    assert.strictEqual((await call(base, 'GET', '/sdapi/v1/txt2img')).status, 405);
    assert.strictEqual((await call(base, 'GET', '/sdapi/v1/nothing')).status, 404);
  });

  it('lists samplers, schedulers, the served model, LoRAs (none yet) and options; POST options accepts only the served model', async () => {
    const samplers = (await call(base, 'GET', '/sdapi/v1/samplers')).json;
    assert.ok(samplers.some((s: { name: string; aliases: string[]; options: object }) => s.name === 'Euler a' && Array.isArray(s.aliases) && typeof s.options === 'object'));
    const schedulers = (await call(base, 'GET', '/sdapi/v1/schedulers')).json;
    assert.deepStrictEqual(schedulers.map((s: { label: string }) => s.label), ['Automatic', 'Uniform', 'Karras']);
    const models = (await call(base, 'GET', '/sdapi/v1/sd-models')).json;
    assert.strictEqual(models.length, 1);
    assert.strictEqual(models[0].title, path.basename(model));
    assert.ok(!JSON.stringify(models).includes(path.dirname(model)), 'no server paths');
    assert.deepStrictEqual((await call(base, 'GET', '/sdapi/v1/loras')).json, [], 'no --lora-dir: none');
    const options = (await call(base, 'GET', '/sdapi/v1/options')).json;
    assert.strictEqual(options.sd_model_checkpoint, models[0].title);
    const set = await call(base, 'POST', '/sdapi/v1/options', { sd_model_checkpoint: models[0].title, CLIP_stop_at_last_layers: 2 });
    assert.deepStrictEqual([set.status, set.json], [200, null]);
    assert.strictEqual((await call(base, 'POST', '/sdapi/v1/options', { sd_model_checkpoint: 'other.safetensors' })).status, 404);
  });

  it('progress reports the running job\'s steps, images and a preview, then idles; interrupt stops it with an answer and no images', async () => {
    const t0 = Date.now();
    const job = txt2img(base, LONG);
    const p = await running(base);
    assert.strictEqual(p.state.job, 'scripts_txt2img');
    assert.strictEqual(p.state.sampling_steps, 150);
    assert.strictEqual(p.state.job_count, 16);
    assert.ok(p.progress > 0 && p.progress <= 1 && p.eta_relative >= 0, JSON.stringify(p));
    assert.match(p.state.job_timestamp, /^\d{14}$/);
    const withPreview = await until('a preview', async () => {
      const q = (await progress(base)).json;
      return q.current_image ? q : undefined;
    });
    assert.strictEqual(Buffer.from(withPreview.current_image, 'base64').subarray(1, 4).toString(), 'PNG');
    assert.strictEqual((await call(base, 'GET', '/sdapi/v1/progress?skip_current_image=true')).json.current_image, null);
    assert.deepStrictEqual((await call(base, 'POST', '/sdapi/v1/interrupt')).json, {});
    const r = await job;
    assert.strictEqual(r.status, 200);
    assert.deepStrictEqual(r.json.images, []);
    assert.ok(Date.now() - t0 < 30_000);
    const idle = (await progress(base)).json;
    assert.deepStrictEqual([idle.progress, idle.state.job_count, idle.current_image], [0, 0, null]);
  });

  it('skip stops the running job as interrupt does (the engine has no per-image skip), and answers null as A1111', async () => {
    const job = txt2img(base, LONG);
    await running(base);
    const skip = await call(base, 'POST', '/sdapi/v1/skip');
    assert.deepStrictEqual([skip.status, skip.json], [200, null]);
    const r = await job;
    assert.deepStrictEqual([r.status, r.json.images], [200, []]);
    assert.deepStrictEqual(JSON.parse(r.json.info).all_seeds.slice(0, 2), [5, 6]);
  });

  it('answers 429 with Retry-After when the queue is full, drops queued jobs whose client went away, and cancels a running one', async () => {
    const long = new AbortController();
    const first = txt2img(base, LONG, { signal: long.signal }).catch((e: Error) => e);
    await running(base);
    const aborts = [new AbortController(), new AbortController()];
    const queued = aborts.map((a, i) => txt2img(base, { ...SMALL, seed: 100 + i }, { signal: a.signal }).catch((e: Error) => e));
    await until('two queued jobs', async () => (server.queue.status().waiting === 2 ? true : undefined));
    const full = await txt2img(base, SMALL);
    assert.strictEqual(full.status, 429);
    assert.ok(Number(full.headers.get('retry-after')) >= 1);
    assert.strictEqual(full.json.error, 'HTTPException');
    // Queued clients hang up: their jobs leave the queue.
    aborts.forEach((a) => a.abort());
    await Promise.all(queued);
    await until('the queue to empty', async () => (server.queue.status().waiting === 0 ? true : undefined), 5000);
    // The running job's client hangs up: it stops before its next step.
    const t0 = Date.now();
    long.abort();
    assert.ok((await first) instanceof Error);
    await until('the running job to stop', async () => (server.queue.status().running === undefined ? true : undefined), 10_000);
    assert.ok(Date.now() - t0 < 10_000);
    assert.strictEqual((await txt2img(base, SMALL)).status, 200, 'the server goes on');
  });

  it('answers 413 to a body over 32 MiB, declared or chunked, before reading it all', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${base}/sdapi/v1/img2img`);
      const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': 33 * 2 ** 20 } });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('{"init_images": ["');
      req.write(Buffer.alloc(2 ** 20, 'A'));
    });
    assert.strictEqual(status, 413);
    // Without a Content-Length (chunked), counted as it comes.
    const chunked = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${base}/sdapi/v1/txt2img`);
      const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'Content-Type': 'application/json' } });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      const chunk = Buffer.alloc(4 * 2 ** 20, 'A');
      let sent = 0;
      const pump = () => {
        while (sent < 40 * 2 ** 20) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    assert.strictEqual(chunked, 413);
  });

  it('sends no CORS headers unless --cors-origin is given', async () => {
    const r = await call(base, 'GET', '/sdapi/v1/samplers', undefined, { headers: { Origin: 'https://evil.example' } });
    assert.strictEqual(r.headers.get('access-control-allow-origin'), null);
  });
});

describe('serve: Basic auth, CORS and the request timeout', function () {
  this.timeout(120_000);
  let model: string;
  let dir: string;
  let server: ServeServer;

  before(async () => {
    model = await ensureFixture('tiny-a');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-serve-'));
    fs.writeFileSync(path.join(dir, 'auth.txt'), '# teachers\nteacher:s3cret:with-colon\nstudent:pw1,other:pw2\n');
    server = await serve(model, { authFile: path.join(dir, 'auth.txt'), corsOrigin: 'https://school.example' });
  });
  after(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers 401 with WWW-Authenticate without or with wrong credentials, 200 with right ones', async () => {
    const none = await call(server.url, 'GET', '/sdapi/v1/sd-models');
    assert.strictEqual(none.status, 401);
    assert.strictEqual(none.headers.get('www-authenticate'), 'Basic');
    assert.strictEqual(none.json.detail, 'Not authenticated');
    for (const auth of ['teacher:wrong', 'nobody:s3cret:with-colon', 'student:pw2', 'teacher:']) {
      const r = await call(server.url, 'POST', '/sdapi/v1/txt2img', SMALL, { auth });
      assert.strictEqual(r.status, 401, auth);
      assert.strictEqual(r.json.detail, 'Incorrect username or password');
    }
    for (const auth of ['teacher:s3cret:with-colon', 'student:pw1', 'other:pw2']) {
      assert.strictEqual((await call(server.url, 'GET', '/sdapi/v1/sd-models', undefined, { auth })).status, 200, auth);
    }
    assert.strictEqual((await txt2img(server.url, SMALL, { auth: 'student:pw1' })).status, 200);
  });

  it('allows the --cors-origin origin (preflight without credentials), no other', async () => {
    const pre = await call(server.url, 'GET', '/sdapi/v1/samplers', undefined, { headers: { Origin: 'https://school.example' } });
    assert.strictEqual(pre.headers.get('access-control-allow-origin'), 'https://school.example');
    const preflight = await fetch(`${server.url}/sdapi/v1/txt2img`, { method: 'OPTIONS', headers: { Origin: 'https://school.example', 'Access-Control-Request-Method': 'POST' } });
    assert.strictEqual(preflight.status, 204);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /Authorization/);
    const other = await call(server.url, 'GET', '/sdapi/v1/samplers', undefined, { headers: { Origin: 'https://evil.example' } });
    assert.strictEqual(other.headers.get('access-control-allow-origin'), null);
  });

  it('cancels a request that takes longer than --request-timeout, with 503', async () => {
    const timed = await serve(model, { requestTimeoutMs: 300 });
    try {
      const r: Answer = await txt2img(timed.url, LONG);
      assert.strictEqual(r.status, 503, JSON.stringify(r.json));
      assert.match(r.json.detail, /request-timeout/);
      await until('the job to stop', async () => (timed.queue.status().running === undefined ? true : undefined), 10_000);
    } finally {
      await timed.close();
    }
  });
});
