// Live previews through a tiny VAE decoder (TAESD), as A1111's "TAESD" live preview method: the
// scheduler's predicted clean latents decoded to a small image, close to the final picture at a
// few ms per preview. Without one, previews use the linear latent-to-RGB approximation.
//
// The folder is an AutoencoderTiny export in the diffusers ONNX layout (deinferno/taesd-onnx:
// vae_decoder/model.onnx + config.json, input latent_sample, output sample in [-1, 1]) or just
// that vae_decoder folder. Its config's scaling_factor (1.0 for AutoencoderTiny) divides the
// latents, as a pipeline using it as its VAE would.

import { existsSync, promises as fs } from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import type { ProgressEvent } from '../../core/protocol';
import { EngineError } from '../errors';
import { decodedToRgb } from '../image/latentPreview';
import { parsePythonJson } from '../modelFolder/pythonJson';
import { ModelSession } from '../onnx/session';
import type { RuntimeOptions } from './loadedModel';
import { decodeLatents } from './vaeDecode';

export type PreviewImage = NonNullable<ProgressEvent['preview']>;

/** Previews are thumbnails: a 512x768 image previews at 171x256. */
export const PREVIEW_MAX_SIDE = 256;

export class PreviewDecoder {
  private constructor(
    readonly dir: string,
    private readonly session: ModelSession,
    private readonly scalingFactor: number,
    /** Set when the requested provider could not start for it. */
    readonly warning: string | undefined,
  ) {}

  static async load(dirIn: string, runtime: RuntimeOptions): Promise<PreviewDecoder> {
    const dir = path.resolve(dirIn);
    const decoderDir = existsSync(path.join(dir, 'vae_decoder', 'model.onnx')) ? path.join(dir, 'vae_decoder') : dir;
    const file = path.join(decoderDir, 'model.onnx');
    if (!existsSync(file)) {
      throw new EngineError('badInput', `${dir} holds no preview decoder: expected vae_decoder/model.onnx (a TAESD export such as deinferno/taesd-onnx) or model.onnx.`);
    }
    const scalingFactor = await readScalingFactor(path.join(decoderDir, 'config.json'));
    const session = await ModelSession.create(file, { provider: runtime.provider, threads: runtime.threads, label: 'preview decoder', smallWeights: true });
    const decoder = new PreviewDecoder(dir, session, scalingFactor, session.warning);
    const input = session.inputs.find((i) => i.name === 'latent_sample') ?? session.inputs[0];
    if (!input || !['float32', 'float16'].includes(input.type)) {
      await session.dispose();
      throw new EngineError('modelError', `${file} is not a VAE decoder: its first input is ${input ? `${input.name} (${input.type})` : 'missing'}, a float latent_sample is needed.`);
    }
    return decoder;
  }

  /** session.run time so far, for the benchmark's overhead ratio. */
  get runMs(): number {
    return this.session.runMs;
  }

  /** Full-size decode of [c,h,w] latents as the UNet sees them: the final image of a draft. */
  async decode(latents: Float32Array, h: number, w: number): Promise<{ data: Float32Array; height: number; width: number }> {
    const sf = Math.fround(this.scalingFactor);
    const scaled = sf === 1 ? latents : latents.map((v) => v / sf);
    return decodeLatents(this.session, scaled, h, w);
  }

  /** `latents`: [c,h,w] as the UNet sees them (the scheduler's predicted clean sample). */
  async preview(latents: Float32Array, h: number, w: number): Promise<PreviewImage> {
    const out = await this.decode(latents, h, w);
    const rgb = decodedToRgb(out.data, out.height, out.width);
    const k = Math.min(1, PREVIEW_MAX_SIDE / Math.max(out.width, out.height));
    const width = Math.max(1, Math.round(out.width * k));
    const height = Math.max(1, Math.round(out.height * k));
    let img = sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.length), { raw: { width: out.width, height: out.height, channels: 3 } });
    if (k < 1) img = img.resize(width, height);
    const png = await img.png({ compressionLevel: 1 }).toBuffer();
    return { width, height, pngBase64: png.toString('base64') };
  }

  async dispose(): Promise<void> {
    await this.session.dispose();
  }
}

async function readScalingFactor(configFile: string): Promise<number> {
  if (!existsSync(configFile)) return 1; // AutoencoderTiny's
  let config: unknown;
  try {
    config = parsePythonJson(await fs.readFile(configFile, 'utf8'));
  } catch (err) {
    throw new EngineError('modelError', `${configFile} is not valid JSON (${(err as Error).message}); download the preview decoder again.`);
  }
  const record = typeof config === 'object' && config !== null ? (config as Record<string, unknown>) : {};
  const v = record.scaling_factor;
  if (v === undefined) return record._class_name === 'AutoencoderKL' ? 0.18215 : 1;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new EngineError('modelError', `${configFile}: scaling_factor must be a positive number, got ${JSON.stringify(v)}.`);
  }
  return v;
}
