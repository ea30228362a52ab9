// The `course-illustrator` command line. Progress goes to stderr, one JSON summary to stdout.

import { formatDurationClock } from '../core/format';
import type { GenerateResult } from '../core/protocol';
import { type Io, engineFromArgs } from './cliEngine';
import { Engine } from './engine';
import { EngineError, badInput, exitCode } from './errors';
import { ParsedArgs, loraArgs, numberArg, onOffArg, parseArgs } from './cliArgs';
import { VERSION } from './version';


const USAGE = `course-illustrator ${VERSION}: Stable Diffusion v1.5 on onnxruntime-node

  course-illustrator generate --model DIR --prompt TEXT [--negative-prompt TEXT] [--seed N]
      [--steps N] [--guidance F] [--width N] [--height N] [--scheduler NAME] [--batch N]
      [--prompt-weighting on|off] [--out FILE.png | --out-dir DIR] [--overwrite] [--threads N]
      [--provider cpu|webgpu|cuda|dml|coreml] [--low-memory | --keep-sessions] [--compact | --int8] [--save-latents FILE.npy] [--domain medical [--label-language en|zh]]
      [--preview-decoder TAESD_DIR [--draft]]
      [--init-image FILE [--strength F] [--mask FILE]]   (img2img; with a mask, inpainting: white repaints, black keeps)
      [--lora FILE.safetensors[:MULT]]... [--lora-dir DIR]...   (LoRAs; <lora:NAME:MULT> in the prompt finds NAME.safetensors in a --lora-dir)
  course-illustrator tokenize --model DIR [--prompt-weighting on|off] TEXT
  course-illustrator info PATH            (a model folder or an image: PNG, JPEG, WebP)
  course-illustrator convert SOURCE DEST.{png,jpg,webp} [--quality N] [--lossless] [--overwrite]
                                         (another format, the parameters and AI label kept)
  course-illustrator translate TEXT [--model DIR]   (Chinese in a prompt to English; default model: the store's opus-mt-zh-en-onnx)
  course-illustrator models list | pull <id-or-repo[@revision]> | verify <id> | remove <id>
  course-illustrator bench --model DIR [--steps N] [--width N] [--height N] [--threads N] [--provider NAME]
                           [--baseline] [--fast] [--low-memory | --keep-sessions] [--compact | --int8] [--draft]
                           [--preview-every N [--preview-decoder TAESD_DIR]]
  course-illustrator serve --model DIR [--listen 127.0.0.1:7860] [--api-auth FILE] [--max-queue N]
      [--cors-origin ORIGIN] [--request-timeout S] [--lora-dir DIR]... [--provider NAME] [--threads N] [--low-memory] [--compact | --int8]
                                         (AUTOMATIC1111's web API, /sdapi/v1/, for a school's machine)
  course-illustrator serve --stdio       (JSON-RPC over stdio, used by the VS Code extension)
`;

const RUNTIME_VALUES = ['threads', 'provider'];

export async function runCli(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'generate':
        return await generateCommand(rest, io);
      case 'tokenize':
        return await tokenizeCommand(rest, io);
      case 'info':
        return await infoCommand(rest, io);
      case 'convert': {
        const { runConvertCommand } = await import('./image/convertCommand');
        return await runConvertCommand(rest, io);
      }
      case 'translate': {
        const { runTranslateCommand } = await import('./translate/translateCommand');
        return await runTranslateCommand(rest, io);
      }
      case 'models': {
        const { runModelsCommand } = await import('./hub/cli');
        return await runModelsCommand(rest, io);
      }
      case 'bench': {
        const { runBench } = await import('./bench');
        return await runBench(rest, io);
      }
      case 'serve': {
        const { runServeCommand } = await import('./serve/serveCommand');
        return await runServeCommand(rest, io);
      }
      case 'bench-baseline': {
        const { runBaseline } = await import('./benchBaseline');
        return await runBaseline(rest, io);
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      case '--version':
        io.stdout.write(`${VERSION}\n`);
        return 0;
      default:
        throw badInput(`Unknown command "${command}". Commands: generate, tokenize, info, convert, translate, models, bench, serve.`);
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    io.stderr.write(`course-illustrator: ${message}\n`);
    if (!(err instanceof EngineError) && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
    return exitCode(err);
  }
}

function requireModel(args: ParsedArgs): string {
  const model = args.values.get('model');
  if (!model) throw badInput('--model DIR is required: a Stable Diffusion folder in the diffusers ONNX layout.');
  return model;
}

async function generateCommand(argv: string[], io: Io): Promise<number> {
  const args = parseArgs(argv, {
    values: ['model', 'prompt', 'negative-prompt', 'seed', 'steps', 'guidance', 'width', 'height', 'scheduler', 'batch',
      'prompt-weighting', 'out', 'out-dir', 'save-latents', 'domain', 'preview-every', 'preview-decoder', 'init-image', 'strength', 'mask', 'lora', 'lora-dir', 'label-language', ...RUNTIME_VALUES],
    flags: ['low-memory', 'keep-sessions', 'compact', 'int8', 'draft', 'overwrite'],
  }, 'generate');
  const model = requireModel(args);
  const prompt = args.values.get('prompt');
  if (prompt === undefined) throw badInput('--prompt TEXT is required.');
  if (args.values.has('out') && args.values.has('out-dir')) throw badInput('Give either --out FILE.png or --out-dir DIR, not both.');
  const domain = args.values.get('domain');
  if (domain !== undefined && !['general', 'education', 'medical'].includes(domain)) {
    throw badInput(`--domain must be general, education or medical, got "${domain}".`);
  }
  const labelLanguage = args.values.get('label-language');
  if (labelLanguage !== undefined && labelLanguage !== 'en' && labelLanguage !== 'zh') {
    throw badInput(`--label-language must be en or zh (the language of the medical label), got "${labelLanguage}".`);
  }
  const engine = engineFromArgs(args);
  for (const w of engine.warnings) io.stderr.write(`warning: ${w}\n`);
  let cancelled = false;
  const onSigint = () => {
    cancelled = true;
    io.stderr.write('\ncancelling before the next step…\n');
  };
  process.on('SIGINT', onSigint);
  try {
    const result = await engine.generate({
      model,
      prompt,
      negativePrompt: args.values.get('negative-prompt'),
      seed: numberArg(args, 'seed', true),
      steps: numberArg(args, 'steps', true),
      guidance: numberArg(args, 'guidance', false),
      width: numberArg(args, 'width', true),
      height: numberArg(args, 'height', true),
      scheduler: args.values.get('scheduler'),
      batch: numberArg(args, 'batch', true),
      promptWeighting: onOffArg(args, 'prompt-weighting'),
      outFile: args.values.get('out'),
      outDir: args.values.get('out-dir'),
      overwrite: args.flags.has('overwrite'),
      saveLatents: args.values.get('save-latents'),
      previewEvery: numberArg(args, 'preview-every', true),
      previewDecoder: args.values.get('preview-decoder'),
      draft: args.flags.has('draft'),
      domain: domain as 'general' | 'education' | 'medical' | undefined,
      labelLanguage: labelLanguage as 'en' | 'zh' | undefined,
      initImage: args.values.get('init-image'),
      strength: numberArg(args, 'strength', false),
      mask: args.values.get('mask'),
      loras: loraArgs(args),
      loraDirs: args.lists.get('lora-dir'),
    }, {
      cancelled: () => cancelled,
      warn: (m) => io.stderr.write(`warning: ${m}\n`),
      progress: (e) => {
        if (e.stage === 'denoise') {
          const img = e.images > 1 ? `image ${e.image + 1}/${e.images} · ` : '';
          io.stderr.write(`${img}step ${e.step}/${e.total} · ETA ${formatDurationClock(e.etaMs)}\n`);
        } else if (e.stage === 'load') io.stderr.write(e.total > 0 ? `preparing the model for this computer… ${e.step}/${e.total}\n` : 'loading model…\n');
        else if (e.stage === 'decode') io.stderr.write('decoding…\n');
      },
    });
    io.stdout.write(JSON.stringify(summary(result), null, 2) + '\n');
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    await engine.dispose();
  }
}

function summary(r: GenerateResult) {
  const s = (ms: number) => Math.round(ms) / 1000;
  const t = r.timings;
  return {
    images: r.images.map((i) => ({ path: i.path, seed: i.seed, width: i.width, height: i.height })),
    paths: r.images.map((i) => i.path),
    seeds: r.images.map((i) => i.seed),
    scheduler: r.scheduler,
    tokenCount: r.tokenCount,
    seconds: {
      load: s(t.loadMs),
      textEncoder: s(t.textEncoderMs),
      unet: s(t.unetStepMs.reduce((a, b) => a + b, 0)),
      unetPerStep: t.unetStepMs.length ? s(t.unetStepMs.reduce((a, b) => a + b, 0) / t.unetStepMs.length) : 0,
      ...(t.vaeEncodeMs ? { vaeEncode: s(t.vaeEncodeMs) } : {}),
      vaeDecode: s(t.vaeMs),
      save: s(t.saveMs),
      total: s(t.totalMs),
    },
    warnings: r.warnings,
  };
}

async function tokenizeCommand(argv: string[], io: Io): Promise<number> {
  const args = parseArgs(argv, { values: ['model', 'prompt-weighting', 'prompt'], flags: [] }, 'tokenize');
  const model = requireModel(args);
  const text = args.values.get('prompt') ?? args.positionals.join(' ');
  const engine = new Engine({ threads: 1 });
  try {
    const r = await engine.tokenize({ model, text, promptWeighting: onOffArg(args, 'prompt-weighting') });
    io.stdout.write(JSON.stringify({ input_ids: r.inputIds, count: r.count, windows: r.windows }) + '\n');
    return 0;
  } finally {
    await engine.dispose();
  }
}

async function infoCommand(argv: string[], io: Io): Promise<number> {
  const args = parseArgs(argv, { values: [], flags: [] }, 'info');
  const target = args.positionals[0];
  if (!target) throw badInput('info needs a PATH: a model folder or a PNG file.');
  const engine = new Engine({ threads: 1 });
  try {
    const info = await engine.info(target);
    io.stdout.write(JSON.stringify(info, null, 2) + '\n');
    return info.kind === 'model' && info.problems.length > 0 ? 3 : 0;
  } finally {
    await engine.dispose();
  }
}
