// `npm run bench -- --model DIR`: where the time goes in one generation, first (cold) and warm.
// Overhead = (job time - time inside session.run) / job time; peak RSS from the OS.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GenerateResult } from '../core/protocol';
import { Io, engineFromArgs } from './cli';
import { numberArg, parseArgs } from './cliArgs';
import { badInput } from './errors';

export async function runBench(argv: string[], io: Io): Promise<number> {
  const args = parseArgs(argv, {
    values: ['model', 'steps', 'width', 'height', 'scheduler', 'guidance', 'threads', 'provider', 'runs', 'prompt', 'preview-every', 'preview-decoder'],
    flags: ['low-memory', 'json'],
  }, 'bench');
  const model = args.values.get('model');
  if (!model) throw badInput('--model DIR is required (for example a folder made by `npm run fixtures -- DIR --preset bench-large`).');
  const runs = numberArg(args, 'runs', true) ?? 2;
  const engine = engineFromArgs(args);
  for (const w of engine.warnings) io.stderr.write(`warning: ${w}\n`);
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-bench-'));
  const results: { wallMs: number; result: GenerateResult }[] = [];
  try {
    for (let i = 0; i < Math.max(2, runs); i++) {
      const t0 = performance.now();
      const result = await engine.generate({
        model,
        prompt: args.values.get('prompt') ?? 'labelled diagram of a plant cell, textbook illustration',
        seed: 42 + i,
        steps: numberArg(args, 'steps', true) ?? 20,
        guidance: numberArg(args, 'guidance', false),
        width: numberArg(args, 'width', true),
        height: numberArg(args, 'height', true),
        scheduler: args.values.get('scheduler'),
        // Live previews as the panel asks for them: their cost shows in wall time and overhead.
        previewEvery: numberArg(args, 'preview-every', true) ?? 0,
        previewDecoder: args.values.get('preview-decoder'),
        outDir,
      }, { warn: (m) => io.stderr.write(`warning: ${m}\n`) });
      results.push({ wallMs: performance.now() - t0, result });
    }
  } finally {
    await engine.dispose();
    fs.rmSync(outDir, { recursive: true, force: true });
  }
  const previewEvery = numberArg(args, 'preview-every', true) ?? 0;
  const previews = previewEvery > 0 ? `every ${previewEvery} steps, ${args.values.get('preview-decoder') ? 'decoded by the preview decoder' : 'approximate'}` : 'none';
  const report = { ...summarise(results, engine.runtime), previews };
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

function summarise(results: { wallMs: number; result: GenerateResult }[], runtime: object) {
  const [first, ...warm] = results.map((r) => figures(r.wallMs, r.result));
  const best = warm.reduce((a, b) => (b.wallSeconds < a.wallSeconds ? b : a));
  return {
    runtime,
    node: process.version,
    cpus: os.cpus().length,
    firstJob: first,
    warmJob: best,
    warmJobHadNoLoad: warm.every((w) => w.loadSeconds === 0),
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

function render(r: ReturnType<typeof summarise> & { previews: string }): string {
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
    `peak RSS ${r.peakRssMiB.toFixed(0)} MiB\n`;
}
