// A small ComfyUI on 127.0.0.1 following the shapes of ComfyUI's server.py for the routes the
// backend uses: GET /object_info/CheckpointLoaderSimple, POST /upload/image (multipart), POST
// /prompt ({prompt, client_id} -> {prompt_id, number, node_errors}; 400 {error, node_errors} for
// a bad workflow), GET /history/{id} ({} until done), GET /queue, GET /view, POST /interrupt and
// POST /queue {delete}. It "runs" one prompt at a time for `runMs`, making a flat PNG of the
// EmptyLatentImage's (or the uploaded image's) size.

import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';

export interface FakeComfyui {
  url: string;
  /** Every workflow queued, in order. */
  prompts: Record<string, { class_type: string; inputs: Record<string, unknown> }>[];
  uploads: { name: string; bytes: number }[];
  deleted: string[];
  interrupts: unknown[];
  /** How long each prompt runs. */
  runMs: number;
  /** Prompts queued by "another teacher" ahead of ours. */
  othersAhead: number;
  /** The next prompt fails with this exception message. */
  failNext?: string;
  close(): Promise<void>;
}

interface Job {
  id: string;
  number: number;
  workflow: Record<string, { class_type: string; inputs: Record<string, unknown> }>;
  state: 'pending' | 'running' | 'done' | 'error' | 'interrupted';
  output?: string;
  error?: string;
}

export const CHECKPOINTS = ['v1-5-pruned-emaonly.safetensors', 'sd15/dreamshaper_8.safetensors'];

export async function startFakeComfyui(): Promise<FakeComfyui> {
  const jobs: Job[] = [];
  const files = new Map<string, Buffer>();
  const uploadsSize = new Map<string, { width: number; height: number }>();
  let counter = 0;
  let runner: Promise<void> = Promise.resolve();

  const run = (job: Job) => {
    runner = runner.then(async () => {
      if (job.state !== 'pending') return;
      job.state = 'running';
      await new Promise((r) => setTimeout(r, fake.runMs));
      if ((job.state as Job['state']) === 'interrupted') return;
      if (fake.failNext) {
        job.state = 'error';
        job.error = fake.failNext;
        fake.failNext = undefined;
        return;
      }
      const latent = Object.values(job.workflow).find((n) => n.class_type === 'EmptyLatentImage');
      const load = Object.values(job.workflow).find((n) => n.class_type === 'LoadImage');
      const size = latent ? { width: Number(latent.inputs.width), height: Number(latent.inputs.height) } : (uploadsSize.get(String(load?.inputs.image)) ?? { width: 64, height: 64 });
      const name = `course-illustrator_${String(++counter).padStart(5, '0')}_.png`;
      files.set(name, await sharp({ create: { ...size, channels: 3, background: '#6a9' } }).png().toBuffer());
      job.output = name;
      job.state = 'done';
    });
  };

  const send = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const body = async (req: http.IncomingMessage): Promise<Buffer> => {
    const parts: Buffer[] = [];
    for await (const c of req) parts.push(c as Buffer);
    return Buffer.concat(parts);
  };

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /object_info/CheckpointLoaderSimple') {
      return send(res, 200, { CheckpointLoaderSimple: { input: { required: { ckpt_name: [CHECKPOINTS, { tooltip: 'The name of the checkpoint (model) to load.' }] } }, output: ['MODEL', 'CLIP', 'VAE'], name: 'CheckpointLoaderSimple' } });
    }
    if (route === 'POST /upload/image') {
      const form = await new Request('http://x', { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? '' }, body: await body(req) }).formData();
      const image = form.get('image');
      if (!(image instanceof Blob) || form.get('type') !== 'input') return send(res, 400, { error: 'no image' });
      const name = (image as File).name;
      const bytes = Buffer.from(await image.arrayBuffer());
      const meta = await sharp(bytes).metadata();
      uploadsSize.set(name, { width: meta.width ?? 64, height: meta.height ?? 64 });
      fake.uploads.push({ name, bytes: bytes.length });
      return send(res, 200, { name, subfolder: '', type: 'input' });
    }
    if (route === 'POST /prompt') {
      const b = JSON.parse((await body(req)).toString('utf8')) as { prompt: Job['workflow']; client_id?: string };
      const ckpt = Object.entries(b.prompt).find(([, n]) => n.class_type === 'CheckpointLoaderSimple');
      if (!ckpt || !CHECKPOINTS.includes(String(ckpt[1].inputs.ckpt_name))) {
        const details = `ckpt_name: '${String(ckpt?.[1].inputs.ckpt_name)}' not in ${JSON.stringify(CHECKPOINTS)}`;
        return send(res, 400, {
          error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: '', extra_info: {} },
          node_errors: { [ckpt?.[0] ?? '4']: { errors: [{ type: 'value_not_in_list', message: 'Value not in list', details, extra_info: {} }], dependent_outputs: ['9'], class_type: 'CheckpointLoaderSimple' } },
        });
      }
      fake.prompts.push(b.prompt);
      for (let i = 0; i < fake.othersAhead; i++) {
        const other: Job = { id: `other-${++counter}`, number: counter, workflow: b.prompt, state: 'pending' };
        jobs.push(other);
        run(other);
      }
      fake.othersAhead = 0;
      const job: Job = { id: `p-${++counter}-${Math.random().toString(36).slice(2)}`, number: counter, workflow: b.prompt, state: 'pending' };
      jobs.push(job);
      run(job);
      return send(res, 200, { prompt_id: job.id, number: job.number, node_errors: {} });
    }
    if (req.method === 'GET' && url.pathname.startsWith('/history/')) {
      const id = decodeURIComponent(url.pathname.slice('/history/'.length));
      const job = jobs.find((j) => j.id === id);
      if (!job || job.state === 'pending' || job.state === 'running') return send(res, 200, {});
      const entry = job.state === 'done'
        ? { prompt: [job.number, id, job.workflow, {}, ['9']], outputs: { '9': { images: [{ filename: job.output, subfolder: '', type: 'output' }] } }, status: { status_str: 'success', completed: true, messages: [] } }
        : {
            prompt: [job.number, id, job.workflow, {}, ['9']], outputs: {},
            status: {
              status_str: 'error', completed: false,
              messages: [['execution_start', { prompt_id: id }], job.state === 'interrupted'
                ? ['execution_interrupted', { prompt_id: id, node_id: '3', node_type: 'KSampler', executed: [] }]
                : ['execution_error', { prompt_id: id, node_id: '3', node_type: 'KSampler', exception_message: job.error, exception_type: 'RuntimeError', traceback: [] }]],
            },
          };
      return send(res, 200, { [id]: entry });
    }
    if (route === 'GET /queue') {
      const item = (j: Job) => [j.number, j.id, j.workflow, {}, ['9']];
      return send(res, 200, { queue_running: jobs.filter((j) => j.state === 'running').map(item), queue_pending: jobs.filter((j) => j.state === 'pending').map(item) });
    }
    if (route === 'POST /queue') {
      const b = JSON.parse((await body(req)).toString('utf8')) as { delete?: string[] };
      for (const id of b.delete ?? []) {
        const job = jobs.find((j) => j.id === id && j.state === 'pending');
        if (job) {
          job.state = 'interrupted';
          fake.deleted.push(id);
        }
      }
      return send(res, 200, {});
    }
    if (route === 'POST /interrupt') {
      const text = (await body(req)).toString('utf8');
      fake.interrupts.push(text ? JSON.parse(text) : null);
      for (const j of jobs) if (j.state === 'running') j.state = 'interrupted';
      return send(res, 200, {});
    }
    if (route === 'GET /view') {
      const file = files.get(url.searchParams.get('filename') ?? '');
      if (!file || url.searchParams.get('type') !== 'output') return send(res, 404, {});
      res.writeHead(200, { 'Content-Type': 'image/png' });
      return res.end(file);
    }
    send(res, 404, {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const fake: FakeComfyui = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    prompts: [],
    uploads: [],
    deleted: [],
    interrupts: [],
    runMs: 30,
    othersAhead: 0,
    close: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
  return fake;
}
