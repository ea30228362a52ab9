// `npm run bench -- --model DIR`: where the time goes in one generation, first (cold) and warm.
// Overhead = (job time - time inside session.run) / job time; peak RSS from the OS.
// --baseline: raw onnxruntime (default session options, the model's own graphs) in a child
// process, and the ratios of the engine's UNet step, VAE decode and whole image to it.
// --fast: the 4-step LCM setup (lcm scheduler, 4 steps, guidance 1: one UNet call per step).

import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GenerateResult } from '../core/protocol';
import { type Io, engineFromArgs } from './cliEngine';
import { loraArgs, numberArg, parseArgs } from './cliArgs';
import { badInput } from './errors';
import { RAW_WARMUP_RUNS, type BaselineReport } from './benchBaseline';

export async function runBench(argv: string[], io: Io): Promise<number> {
  const args = parseArgs(argv, {
    values: ['model', 'steps', 'width', 'height', 'scheduler', 'guidance', 'threads', 'provider', 'runs', 'prompt', 'preview-every', 'preview-decoder', 'lora'],
    flags: ['low-memory', 'keep-sessions', 'compact', 'int8', 'json', 'baseline', 'fast', 'draft'],
  }, 'bench');
  const fast = args.flags.has('fast');
  const model = args.values.get('model');
  if (!model) throw badInput('--model DIR is required (for example a folder made by `npm run fixtures -- DIR --preset bench-large`).');
  const runs = numberArg(args, 'runs', true) ?? 2;
  const engine = engineFromArgs(args);
  for (const w of engine.warnings) io.stderr.write(`warning: ${w}\n`);
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-bench-'));
  const results: { wallMs: number; result: GenerateResult }[] = [];
  let graphs: Record<string, string[]> = {};
  try {
    for (let i = 0; i < Math.max(2, runs); i++) {
      const t0 = performance.now();
      const result = await engine.generate({
        model,
        prompt: args.values.get('prompt') ?? 'labelled diagram of a plant cell, textbook illustration',
        seed: 42 + i,
        steps: numberArg(args, 'steps', true) ?? (fast ? 4 : 20),
        guidance: numberArg(args, 'guidance', false) ?? (fast ? 1 : undefined),
        width: numberArg(args, 'width', true),
        height: numberArg(args, 'height', true),
        scheduler: args.values.get('scheduler') ?? (fast ? 'lcm' : undefined),
        // Live previews as the panel asks for them: their cost shows in wall time and overhead.
        previewEvery: numberArg(args, 'preview-every', true) ?? 0,
        previewDecoder: args.values.get('preview-decoder'),
        // --draft: the final image through the preview decoder too (TAESD), as the fast mode offers.
        draft: args.flags.has('draft'),
        // --lora FILE[:MULT]: the cost of LoRA branches (with --fast: the LCM-LoRA fast mode).
        loras: loraArgs(args),
        outDir,
      }, { warn: (m) => io.stderr.write(`warning: ${m}\n`) });
      results.push({ wallMs: performance.now() - t0, result });
    }
    graphs = engine.graphNotes();
  } finally {
    await engine.dispose();
    fs.rmSync(outDir, { recursive: true, force: true });
  }
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  const guidance = numberArg(args, 'guidance', false) ?? (fast ? 1 : 7.5);
  const baseline = args.flags.has('baseline')
    ? await runBaselineChild(model, {
      steps: RAW_WARMUP_RUNS + 2, width: numberArg(args, 'width', true), height: numberArg(args, 'height', true),
      threads: engine.runtime.threads, batch: guidance > 1 ? 2 : 1, unetWeights: engine.runtime.unetWeights,
    }, io)
    : undefined;
  const previewEvery = numberArg(args, 'preview-every', true) ?? 0;
  const previews = previewEvery > 0 ? `every ${previewEvery} steps, ${args.values.get('preview-decoder') ? 'decoded by the preview decoder' : 'approximate'}` : 'none';
  const summary = summarise(results, engine.runtime, peakRssMiB);
  const report = { ...summary, mode: fast ? 'fast (lcm, 4 steps, guidance 1)' : engine.runtime.lowMemory ? 'low memory' : 'default', previews, graphs, baseline: baseline && withRatios(summary.warmJob, baseline) };
  if (args.flags.has('json')) io.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else io.stdout.write(render(report));
  return 0;
}

interface JobFigures {
  wallSeconds: number;
  loadSeconds: number;
  textEncoderSeconds: number;
  unetStepSeconds: { mean: number; min: number; max: number; count: number };
  vaeDecodeSeconds: number;
  saveSeconds: number;
  sessionRunSeconds: number;
  /** (job time - session.run time) / job time, load time excluded. */
  overheadRatio: number;
}

function figures(wallMs: number, r: GenerateResult): JobFigures {
  const t = r.timings;
  const steps = t.unetStepMs;
  const sum = steps.reduce((a, b) => a + b, 0);
  const computeMs = t.totalMs - t.loadMs;
  return {
    wallSeconds: wallMs / 1000,
    loadSeconds: t.loadMs / 1000,
    textEncoderSeconds: t.textEncoderMs / 1000,
    unetStepSeconds: { mean: sum / steps.length / 1000, min: Math.min(...steps) / 1000, max: Math.max(...steps) / 1000, count: steps.length },
    vaeDecodeSeconds: t.vaeMs / 1000,
    saveSeconds: t.saveMs / 1000,
    sessionRunSeconds: t.sessionRunMs / 1000,
    overheadRatio: (computeMs - t.sessionRunMs) / computeMs,
  };
}

function summarise(results: { wallMs: number; result: GenerateResult }[], runtime: object, peakRssMiB: number) {
  const [first, ...warm] = results.map((r) => figures(r.wallMs, r.result));
  const best = warm.reduce((a, b) => (b.wallSeconds < a.wallSeconds ? b : a));
  return {
    runtime,
    node: process.version,
    cpus: os.cpus().length,
    firstJob: first,
    warmJob: best,
    warmJobHadNoLoad: warm.every((w) => w.loadSeconds === 0),
    peakRssMiB,
  };
}

async function runBaselineChild(model: string, o: { steps: number; width?: number; height?: number; threads: number; batch: number; unetWeights?: string }, io: Io): Promise<BaselineReport> {
  const argv = [process.argv[1], 'bench-baseline', '--model', model, '--steps', String(o.steps), '--threads', String(o.threads), '--batch', String(o.batch)];
  if (o.unetWeights) argv.push('--unet-weights', o.unetWeights);
  if (o.width) argv.push('--width', String(o.width));
  if (o.height) argv.push('--height', String(o.height));
  io.stderr.write(`baseline: raw onnxruntime in a child process (${o.steps} UNet steps, ${RAW_WARMUP_RUNS + 1} VAE decodes)...\n`);
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`the baseline run failed (exit ${code})`);
  return JSON.parse(out.trim().split('\n').pop()!) as BaselineReport;
}

/** The engine's warm job against raw onnxruntime: warm figures (raw's first runs left out, RAW_WARMUP_RUNS). */
function withRatios(job: JobFigures, b: BaselineReport) {
  const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
  const warm = (xs: number[]) => mean(xs.length > RAW_WARMUP_RUNS ? xs.slice(RAW_WARMUP_RUNS) : xs.slice(-1));
  const rawStep = warm(b.unet.stepSeconds);
  const rawVae = warm(b.vaeDecode.runSeconds);
  // A raw image: the engine's text encoder time (tiny either way) + its steps at the raw step time + the raw decode.
  const rawImage = job.textEncoderSeconds + job.unetStepSeconds.count * rawStep + rawVae;
  const engineImage = job.wallSeconds;
  return {
    ...b,
    rawUnetStepSeconds: rawStep,
    rawVaeDecodeSeconds: rawVae,
    rawImageSeconds: rawImage,
    ratios: {
      unetStep: job.unetStepSeconds.mean / rawStep,
      vaeDecode: job.vaeDecodeSeconds / rawVae,
      image: engineImage / rawImage,
    },
  };
}

function render(r: ReturnType<typeof summarise> & { previews: string; mode: string; graphs: Record<string, string[]>; baseline?: ReturnType<typeof withRatios> }): string {
  const f = (s: number) => s.toFixed(3);
  const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
  const line = (name: string, j: JobFigures) =>
    `${name.padEnd(10)} wall ${f(j.wallSeconds)} s | load ${f(j.loadSeconds)} | text encoder ${f(j.textEncoderSeconds)} | ` +
    `UNet ${j.unetStepSeconds.count} steps × ${f(j.unetStepSeconds.mean)} (min ${f(j.unetStepSeconds.min)}, max ${f(j.unetStepSeconds.max)}) | ` +
    `VAE decode ${f(j.vaeDecodeSeconds)} | save ${f(j.saveSeconds)} | overhead ${pct(j.overheadRatio)}\n`;
  return `runtime ${JSON.stringify(r.runtime)}, ${r.cpus} CPUs, node ${r.node}; live previews: ${r.previews}\n` +
    line('first job', r.firstJob) +
    line('warm job', r.warmJob) +
    `warm job loaded nothing: ${r.warmJobHadNoLoad ? 'yes' : 'NO'}\n` +
    `peak RSS ${r.peakRssMiB.toFixed(0)} MiB\n` +
    `mode: ${r.mode}; graphs: ${Object.entries(r.graphs).map(([c, n]) => `${c}: ${n.length ? n.join(', ') : 'as exported'}`).join('; ') || 'none'}\n` +
    (r.baseline ? renderBaseline(r.baseline) : '');
}

function renderBaseline(b: ReturnType<typeof withRatios>): string {
  const f = (s: number) => s.toFixed(3);
  return `raw onnxruntime (default options, ${b.threads || 'default'} threads): UNet create ${f(b.unet.createSeconds)} s, ` +
    `steps (batch ${b.unet.batch}) ${b.unet.stepSeconds.map(f).join(', ')} s; VAE decode create ${f(b.vaeDecode.createSeconds)} s, ` +
    `runs ${b.vaeDecode.runSeconds.map(f).join(', ')} s; peak RSS ${b.peakRssMiB.toFixed(0)} MiB\n` +
    `engine / raw (warm: raw's first ${RAW_WARMUP_RUNS} runs left out): UNet step ${b.ratios.unetStep.toFixed(2)}, VAE decode ${b.ratios.vaeDecode.toFixed(2)}, ` +
    `whole image ${b.ratios.image.toFixed(2)} (raw image = ${f(b.rawImageSeconds)} s); ` +
    `engine UNet${b.unetWeights && b.unetWeights !== 'full' ? ` (${b.unetWeights})` : ''} vs raw on the same inputs: ` +
    `max relative error ${b.unetRelativeError.toExponential(2)}, relative L2 ${b.unetRelativeL2?.toExponential(2)}\n`;
}
