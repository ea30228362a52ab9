// engine/translate (EngineRequests.translate): a prompt with Chinese in it, made English by a
// local Marian (opus-mt) model in the engine. Only the Chinese runs are translated; LoRA tags,
// `(word:1.3)` weights and the English words around them come back as they were. The request is
// defined in protocol.ts; its shapes and validators live here so protocol.ts stays small.

import { ValidationError, isRecord, optInteger, reqString } from './validate';

/** The longest text translated in one request: a prompt, not a document (a long one takes minutes). */
export const TRANSLATE_MAX_CHARS = 2000;

/** The catalogue id of the zh→en model the extension downloads on first use. */
export const TRANSLATION_MODEL_ID = 'opus-mt-zh-en-onnx';

export interface TranslateParams {
  /** A model folder in the transformers.js layout (config.json, tokenizer.json, onnx/...). */
  model: string;
  text: string;
}

export interface TranslateResult {
  /** The prompt with its Chinese runs in English; the same text when it had none. */
  text: string;
  /** How many distinct Chinese runs the model translated (0: nothing to do). */
  runs: number;
  /** Time spent, loading the model included. */
  ms: number;
}

export function validateTranslateParams(x: unknown): TranslateParams {
  if (!isRecord(x)) throw new ValidationError('translate parameters must be an object');
  const text = reqString(x, 'text');
  if (text.length > TRANSLATE_MAX_CHARS) {
    throw new ValidationError(`"text" is ${text.length} characters; translate at most ${TRANSLATE_MAX_CHARS} at a time (a prompt, not a page)`);
  }
  return { model: reqString(x, 'model'), text };
}

export function validateTranslateResult(x: unknown): TranslateResult {
  if (!isRecord(x)) throw new ValidationError('translate result must be an object');
  if (typeof x.text !== 'string') throw new ValidationError('translate result: "text" must be a string');
  return { text: x.text, runs: optInteger(x, 'runs', 0, 1e6) ?? 0, ms: typeof x.ms === 'number' && Number.isFinite(x.ms) ? x.ms : 0 };
}
