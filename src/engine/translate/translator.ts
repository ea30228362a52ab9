// The one owner of the translation model's sessions in an engine process: loaded on the first
// request, kept warm for the next (a teacher translates several prompts in a row), released
// after a quiet spell or at shutdown. Requests run one at a time, so a second never loads a
// second copy. A prompt without Chinese is answered without loading anything.

import * as path from 'node:path';
import type { TranslateParams, TranslateResult } from '../../core/translateProtocol';
import { asEngineError } from '../errors';
import { chineseRuns, joinPrompt, splitPrompt } from './chineseRuns';
import { MarianModel } from './marianModel';

export interface TranslatorOptions {
  /** Release the model after this long without a request; default 2 minutes. */
  idleMs?: number;
  threads?: number;
}

export class Translator {
  private model: MarianModel | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: TranslatorOptions = {}) {}

  /** The folder of the model now loaded, if any. */
  get loaded(): string | undefined {
    return this.model?.dir;
  }

  translate(params: TranslateParams): Promise<TranslateResult> {
    const run = this.queue.then(() => this.run(params));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async dispose(): Promise<void> {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const m = this.model;
    this.model = undefined;
    await m?.dispose();
  }

  private async run(params: TranslateParams): Promise<TranslateResult> {
    const t0 = performance.now();
    const parts = splitPrompt(params.text);
    const runs = chineseRuns(parts);
    if (runs.length === 0) return { text: params.text, runs: 0, ms: performance.now() - t0 };
    clearTimeout(this.idleTimer);
    try {
      const model = await this.load(params.model);
      const english = await model.translate(runs);
      const byRun = new Map(runs.map((r, i) => [r, english[i]]));
      return { text: joinPrompt(parts, (r) => byRun.get(r)), runs: runs.length, ms: performance.now() - t0 };
    } catch (err) {
      throw asEngineError(err, 'modelError');
    } finally {
      this.scheduleRelease();
    }
  }

  private async load(dirIn: string): Promise<MarianModel> {
    const dir = path.resolve(dirIn);
    if (this.model?.dir === dir) return this.model;
    await this.dispose();
    this.model = await MarianModel.load(dir, { threads: this.opts.threads });
    return this.model;
  }

  private scheduleRelease(): void {
    clearTimeout(this.idleTimer);
    if (!this.model) return;
    this.idleTimer = setTimeout(() => void this.dispose(), this.opts.idleMs ?? 120_000);
    // A waiting release must not keep a CLI run alive.
    this.idleTimer.unref();
  }
}
