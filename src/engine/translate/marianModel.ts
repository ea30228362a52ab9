// A Marian (opus-mt) translation model folder in the transformers.js layout, run by
// @huggingface/transformers on our onnxruntime-node: config.json, generation_config.json,
// tokenizer.json, tokenizer_config.json, onnx/encoder_model*.onnx, onnx/decoder_model_merged*.onnx.
// Local files only: transformers.js is told never to fetch anything (downloads go through the
// project's own downloader, engine/hub, with resume and sha256 checks). The library is loaded on
// first use, so an engine that never translates never pays for it.

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { PreTrainedModel, PreTrainedTokenizer } from '@huggingface/transformers';
import { TRANSLATION_MODEL_ID } from '../../core/translateProtocol';
import { EngineError } from '../errors';

/** transformers.js's dtype names: q8 is the "_quantized" file (4x smaller, what we download). */
export type MarianDtype = 'q8' | 'fp32';

const FIX = `Download it with "course-illustrator models pull ${TRANSLATION_MODEL_ID}" (in VS Code: "Translate Prompt to English" offers it), or give a folder in the transformers.js layout.`;

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then((s) => s.isFile(), () => false);
}

/** Which variant `dir` holds (quantized preferred); throws a modelError naming the missing files. */
export async function marianDtype(dir: string): Promise<MarianDtype> {
  const onnx = (name: string) => path.join(dir, 'onnx', name);
  if ((await exists(onnx('encoder_model_quantized.onnx'))) && (await exists(onnx('decoder_model_merged_quantized.onnx')))) return 'q8';
  if ((await exists(onnx('encoder_model.onnx'))) && (await exists(onnx('decoder_model_merged.onnx')))) return 'fp32';
  const missing: string[] = [];
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) if (!(await exists(path.join(dir, f)))) missing.push(f);
  missing.push('onnx/encoder_model_quantized.onnx and onnx/decoder_model_merged_quantized.onnx (or their fp32 forms without "_quantized")');
  throw new EngineError('modelError', `${dir} is not a translation model folder: it lacks ${missing.join(', ')}. ${FIX}`);
}

type Transformers = typeof import('@huggingface/transformers');
let library: Promise<Transformers> | undefined;

/** transformers.js, set up once: local files only, no cache folder of its own, quiet on stdout. */
function transformers(): Promise<Transformers> {
  library ??= import('@huggingface/transformers').then((t) => {
    t.env.allowRemoteModels = false;
    t.env.allowLocalModels = true;
    t.env.useFSCache = false;
    t.env.useBrowserCache = false;
    // Its info level writes to stdout, which carries JSON-RPC in the engine process.
    t.env.logLevel = t.LogLevel.ERROR;
    return t;
  });
  return library;
}

export class MarianModel {
  private constructor(
    readonly dir: string,
    readonly dtype: MarianDtype,
    private readonly tokenizer: PreTrainedTokenizer,
    private readonly model: PreTrainedModel,
  ) {}

  static async load(dirIn: string, opts: { threads?: number } = {}): Promise<MarianModel> {
    const dir = path.resolve(dirIn);
    const dtype = await marianDtype(dir);
    const t = await transformers();
    try {
      const tokenizer = await t.AutoTokenizer.from_pretrained(dir, { local_files_only: true });
      const model = await t.AutoModelForSeq2SeqLM.from_pretrained(dir, {
        local_files_only: true,
        dtype,
        device: 'cpu',
        session_options: opts.threads ? { intraOpNumThreads: opts.threads } : undefined,
      });
      return new MarianModel(dir, dtype, tokenizer, model);
    } catch (err) {
      if (err instanceof EngineError) throw err;
      throw new EngineError('modelError', `Cannot load the translation model in ${dir}: ${err instanceof Error ? err.message : String(err)}. ${FIX}`);
    }
  }

  /** Each text in English, one at a time (prompts have few runs; no padding to get wrong). */
  async translate(texts: readonly string[]): Promise<string[]> {
    const out: string[] = [];
    for (const text of texts) {
      const inputs = this.tokenizer(text);
      // A Chinese character gives one to three English tokens; the bound stops a model that never ends.
      const generated = await this.model.generate({ ...inputs, max_new_tokens: Math.min(256, 16 + 3 * text.length), num_beams: 1, do_sample: false });
      const [english] = this.tokenizer.batch_decode(generated as Parameters<PreTrainedTokenizer['batch_decode']>[0], { skip_special_tokens: true });
      out.push(english ?? '');
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}
