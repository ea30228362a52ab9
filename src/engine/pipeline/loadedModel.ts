// One model folder with its tokenizer and ONNX sessions.
//
// Memory: on the CPU, one model session is alive at a time (unless keepSessions). At full size the UNet's weights alone are 3.4 GB
// and the VAE decoder needs about 1.2 GB of activations for a 512x512 image, so keeping both
// would put a school laptop over its memory; a session is released when another stage needs
// its own, and the VAE decoder goes right after each decode. The weights are mapped from the
// model's files, so the OS page cache keeps them and a released UNet comes back in about 1.5 s.
// Low-memory mode releases every session right after its stage, denoises all images of a batch
// before decoding them (one UNet load per job), and on the CPU runs the UNet in parts of about
// 1.2 GB of weights, one loaded at a time (onnx/partedSession.ts); where it cannot, it runs the
// two halves of classifier-free guidance as two batch-1 UNet calls (bit for bit the same output,
// fewer activations).

import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ModelFolder, readModelFolder } from '../modelFolder/modelFolder';
import { ModelSession } from '../onnx/session';
import { ClipTokenizer } from '../tokenizer/clipTokenizer';
import { ProviderName, UnetWeights } from '../../core/protocol';
import { EngineError } from '../errors';
import { vaeEncoderGraph } from './vaeEncoder';
import { LoraRequest, LoraSet, loraSet } from '../lora/loraSet';
import type { CompactOptions } from '../onnx/graph/compactGraph';
import { ConvolutionPlanName, unetPlan, vaeDecoderPlan } from '../onnx/graph/prepareGraph';
import { CalibrationReport, unetCalibration } from './unetCalibration';

export interface RuntimeOptions {
  provider: ProviderName;
  threads: number;
  lowMemory: boolean;
  /** Keep every session between stages and jobs (GPU providers; more memory on the CPU). */
  keepSessions?: boolean;
  /** The UNet's weights: 'compact' and 'int8' are 8-bit variants (CPU only; images differ). */
  unetWeights?: UnetWeights;
  /** Low memory on the CPU: the UNet's weights per part (UNET_PART_BYTES unless given). */
  unetPartBytes?: number;
}

export type Component = 'textEncoder' | 'unet' | 'vaeDecoder' | 'vaeEncoder';

/**
 * Low memory: the UNet's weights per part. SD v1.5's 3.44 GB run in three parts (1.18 + 1.13 +
 * 1.13 GB). Measured on the full-size graph (2 cores): the bench's peak fell from 3614 MiB to
 * 1729-1822 and a step took about 12 % longer (unpacked MatMul weights; each part's session made
 * in 0.1 s and its activations mapped afresh); two parts were 2357 MiB and 7 % longer.
 */
const UNET_PART_BYTES = 1.25e9;

export class LoadedModel {
  private readonly sessions = new Map<Component, ModelSession>();
  /** The convolution plan each live session was made with (the UNet's and the VAE decoder's depend on the image size). */
  private readonly plans = new Map<Component, ConvolutionPlanName | undefined>();
  /** session.run time of sessions already released (low-memory mode). */
  private releasedRunMs = 0;
  private hash: string | undefined | null = null;
  private readonly warned = new Set<string>();
  private pending: string[] = [];
  /** How each component's graph was rewritten (graph/prepareGraph), for the benchmark. */
  readonly notes = new Map<Component, string[]>();
  /**
   * While a job runs, where news of preparing a model for this computer (the int8 UNet's
   * measuring, the Winograd weights of the first load) goes at once, not after the stage as drainWarnings.
   */
  preparing: CalibrationReport | undefined;
  /** The LoRAs the UNet and text encoder sessions run with (lora/loraSet.ts); undefined: none. */
  private loras: LoraSet | undefined;

  private constructor(
    readonly folder: ModelFolder,
    readonly tokenizer: ClipTokenizer,
    private readonly runtime: RuntimeOptions,
  ) {}

  static async load(dir: string, runtime: RuntimeOptions): Promise<LoadedModel> {
    const folder = await readModelFolder(dir);
    let tokenizer: ClipTokenizer;
    try {
      tokenizer = await ClipTokenizer.fromFolder(folder.tokenizerDir);
    } catch (err) {
      throw new EngineError('modelError', err instanceof Error ? err.message : String(err));
    }
    return new LoadedModel(folder, tokenizer, runtime);
  }

  get dir(): string {
    return this.folder.dir;
  }

  get lowMemory(): boolean {
    return this.runtime.lowMemory;
  }

  /**
   * Runs `fn` with the component's session, creating it if needed; returns the load time too.
   * `latents`: their height and width, for the UNet's and the VAE decoder's plans (graph/prepareGraph.ts).
   */
  async use<T>(component: Component, fn: (s: ModelSession) => Promise<T>, latents?: { height: number; width: number }): Promise<{ value: T; loadMs: number }> {
    if (!this.runtime.keepSessions) for (const other of [...this.sessions.keys()]) if (other !== component) await this.release(other);
    const plan = this.plan(component, latents);
    if (this.sessions.has(component) && this.plans.get(component) !== plan) await this.release(component);
    let session = this.sessions.get(component);
    let loadMs = 0;
    if (!session) {
      const t0 = performance.now();
      session = await this.create(component, plan);
      loadMs = performance.now() - t0;
      this.sessions.set(component, session);
      this.plans.set(component, plan);
    }
    try {
      return { value: await fn(session), loadMs };
    } finally {
      // The VAE decoder's arena keeps the decode's activations (about 1.2 GB at 512x512) until
      // the session goes; it comes back in a fraction of a second.
      if (this.runtime.lowMemory || ((component === 'vaeDecoder' || component === 'vaeEncoder') && !this.runtime.keepSessions)) await this.release(component);
    }
  }

  /**
   * Makes the next sessions run with these LoRAs. A set other than the current one releases the
   * UNet and text encoder sessions (they come back with the new graphs); the weights stay mapped.
   */
  async useLoras(requests: LoraRequest[]): Promise<LoraSet | undefined> {
    const set = requests.length
      ? await loraSet({ unet: this.folder.unet, textEncoder: this.folder.textEncoder }, this.runtime.provider, requests)
      : undefined;
    if (set?.key !== this.loras?.key) {
      await this.release('unet');
      await this.release('textEncoder');
      // The 8-bit variant is made from the file's graph; the LoRA graph runs at full precision.
      if (set?.graphs.unet && (this.runtime.unetWeights ?? 'full') !== 'full') this.pending.push('The 8-bit UNet is not used with LoRAs: this job runs the UNet at full precision.');
    }
    this.loras = set;
    return set;
  }

  /** Creates the sessions a job will find alive: all with keepSessions, else the first stage's (none in low-memory mode). */
  async warm(): Promise<number> {
    if (this.runtime.lowMemory) return 0;
    const stages: Component[] = this.runtime.keepSessions ? ['textEncoder', 'unet', 'vaeDecoder'] : ['textEncoder'];
    let ms = 0;
    // The decoder for the model's default image size, the one most jobs ask for.
    for (const c of stages) ms += (await this.use(c, async () => undefined, { height: this.folder.sampleSize, width: this.folder.sampleSize })).loadMs;
    return ms;
  }

  /** The component whose session is alive now, if any (tests and the benchmark). */
  get alive(): Component[] {
    return [...this.sessions.keys()];
  }

  get sessionRunMs(): number {
    let ms = this.releasedRunMs;
    for (const s of this.sessions.values()) ms += s.runMs;
    return ms;
  }

  /** First 10 hex digits of the UNet graph's sha256 (A1111's short "Model hash"), when cheap to compute. */
  modelHash(): string | undefined {
    if (this.hash !== null) return this.hash;
    const file = this.folder.unet;
    try {
      const size = fs.statSync(file).size;
      this.hash = size <= 256 * 1024 * 1024
        ? crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex').slice(0, 10)
        : undefined;
    } catch {
      this.hash = undefined;
    }
    return this.hash;
  }

  get name(): string {
    return path.basename(this.folder.dir);
  }

  private async create(component: Component, plan: ConvolutionPlanName | undefined): Promise<ModelSession> {
    // The VAE encoder runs rewritten to output its latent distribution (pipeline/vaeEncoder.ts).
    // The UNet and text encoder run with their LoRA branches when a LoRA changes them.
    const graph = component === 'vaeEncoder' ? await vaeEncoderGraph(this.folder)
      : component === 'unet' || component === 'textEncoder' ? this.loras?.graphs[component] : undefined;
    const file = component === 'vaeEncoder' ? this.folder.vaeEncoder! : this.folder[component];
    const session = await ModelSession.create(file, {
      graph,
      provider: this.runtime.provider,
      threads: this.runtime.threads,
      label: component,
      compact: component === 'unet' ? this.unetVariant() : undefined,
      smallWeights: component === 'vaeDecoder' || component === 'vaeEncoder',
      convolutions: plan,
      preparing: (done, total) => this.preparing?.progress(done, total),
      partBytes: component === 'unet' && this.runtime.lowMemory && (this.runtime.unetWeights ?? 'full') === 'full' ? (this.runtime.unetPartBytes ?? UNET_PART_BYTES) : undefined,
    });
    this.notes.set(component, session.notes);
    // E.g. "WebGPU could not start (no adapter); using the CPU": said once per model, not per job.
    if (session.warning && !this.warned.has(session.warning)) {
      this.warned.add(session.warning);
      this.pending.push(session.warning);
    }
    return session;
  }

  /**
   * Faster convolutions on the CPU, for the fp32 UNet in every mode and the VAE decoder in the
   * default and compact modes. The 8-bit UNets do without (their convolutions stay the model's,
   * or 8-bit). The compact UNet's phase stays that mode's peak with the decoder's plan (3256-3262
   * MiB against 3234-3239, a decode 7.9-8.3 s instead of 9.6-9.8 at full size); the int8 one's
   * decode would become its peak, and that mode is half the default's memory.
   * In low-memory mode the UNet's Winograd weights take the place of the model's own in its parts,
   * which are cut by weights read: four parts of about 1 GB instead of three of 1.15, a lower peak
   * (1642-1663 MiB against 1738-1774) and a step 7-12 % shorter (8.6-9.7 s against 10.0-10.3 at
   * full size, 2 cores). Its VAE decoder stays as exported: Winograd there took the decode from 10.9-11.4 s to
   * 9.9 s but that phase to 2292 MiB, the mode's peak.
   */
  private plan(component: Component, latents: { height: number; width: number } | undefined): ConvolutionPlanName | undefined {
    if (this.runtime.provider !== 'cpu') return undefined;
    const weights = this.runtime.unetWeights ?? 'full';
    if (component === 'unet') return weights === 'full' ? unetPlan(latents) : undefined;
    return component === 'vaeDecoder' && !this.runtime.lowMemory && weights !== 'int8' ? vaeDecoderPlan(latents) : undefined;
  }

  private unetVariant(): CompactOptions | undefined {
    const level = this.runtime.unetWeights ?? 'full';
    if (level === 'full') return undefined;
    const report: CalibrationReport = {
      notice: (m) => (this.preparing ? this.preparing.notice(m) : this.pending.push(m)),
      progress: (done, total) => this.preparing?.progress(done, total),
      cancelled: () => this.preparing?.cancelled() ?? false,
    };
    return { level, calibration: level === 'int8' ? unetCalibration(this, this.runtime.threads, report) : undefined };
  }

  /** Warnings from session creation not yet passed on to a job. */
  drainWarnings(): string[] {
    const w = this.pending;
    this.pending = [];
    return w;
  }

  private async release(component: Component): Promise<void> {
    const s = this.sessions.get(component);
    if (!s) return;
    this.sessions.delete(component);
    this.plans.delete(component);
    this.releasedRunMs += s.runMs;
    await s.dispose();
  }

  async dispose(): Promise<void> {
    for (const c of [...this.sessions.keys()]) await this.release(c);
  }
}
