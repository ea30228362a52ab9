// `course-illustrator translate "植物细胞, (高清:1.2)" [--model DIR]`: the prompt with its Chinese
// runs in English, as one JSON line on stdout ({ text, runs, seconds }). Without --model, the
// catalogue's zh→en model in the model store (what `models pull opus-mt-zh-en-onnx` installs).

import { TRANSLATION_MODEL_ID, validateTranslateParams } from '../../core/translateProtocol';
import { ValidationError } from '../../core/validate';
import { numberArg, parseArgs } from '../cliArgs';
import { badInput } from '../errors';
import { defaultStoreDir, modelDir } from '../hub/store';
import { Translator } from './translator';

interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export async function runTranslateCommand(argv: string[], io: Io): Promise<number> {
  const args = parseArgs(argv, { values: ['model', 'threads'], flags: [] }, 'translate');
  const text = args.positionals.join(' ');
  if (!text.trim()) throw badInput('translate needs the text: course-illustrator translate "植物细胞结构图" [--model DIR].');
  const model = args.values.get('model') ?? modelDir(defaultStoreDir(), TRANSLATION_MODEL_ID);
  let params;
  try {
    params = validateTranslateParams({ model, text });
  } catch (err) {
    throw badInput(err instanceof ValidationError ? `${err.message}.` : String(err));
  }
  const threads = numberArg(args, 'threads', true);
  if (threads !== undefined && (threads < 1 || threads > 1024)) throw badInput(`--threads must be from 1 to 1024, got ${threads}.`);
  const translator = new Translator({ threads });
  try {
    const r = await translator.translate(params);
    io.stdout.write(JSON.stringify({ text: r.text, runs: r.runs, seconds: Math.round(r.ms) / 1000 }) + '\n');
    return 0;
  } finally {
    await translator.dispose();
  }
}
