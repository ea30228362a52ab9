// Feeds one denoising step to the UNet with the names, dtypes and shapes its metadata declares,
// and applies classifier-free guidance exactly as diffusers does (float32 arithmetic).

import { ModelSession, IoInfo } from '../onnx/session';
import { EngineError } from '../errors';
import { Embeddings } from './textEncoding';
import { floatTensor, toFloat32, fixedDim } from './tensors';

export class UnetRunner {
  private readonly sample: IoInfo;
  private readonly timestep: IoInfo;
  private readonly hidden: IoInfo;
  private readonly timeCond?: IoInfo;
  private readonly output: string;
  private warnedIntTimestep = false;

  constructor(
    private readonly session: ModelSession,
    private readonly warn: (m: string) => void,
    /** Run the two halves of classifier-free guidance as two calls (low-memory mode). */
    private readonly splitBatch = false,
  ) {
    const byName = (n: string) => session.inputs.find((i) => i.name === n);
    const byRank = (r: number[]) => session.inputs.find((i) => r.includes(i.dims.length));
    const sample = byName('sample') ?? byRank([4]);
    const timestep = byName('timestep') ?? byRank([0, 1]);
    const hidden = byName('encoder_hidden_states') ?? byRank([3]);
    if (!sample || !timestep || !hidden) {
      const seen = session.inputs.map((i) => `${i.name} ${i.type}[${i.dims.join(',')}]`).join('; ');
      throw new EngineError('modelError',
        `The UNet's inputs are not those of a Stable Diffusion export (sample, timestep, encoder_hidden_states); it has: ${seen}.`);
    }
    this.sample = sample;
    this.timestep = timestep;
    this.hidden = hidden;
    this.timeCond = byName('timestep_cond');
    this.output = (session.outputs.find((o) => o.name === 'out_sample') ?? session.outputs[0]).name;
  }

  /** Channels of the latent space, from the UNet's declared sample shape (4 for SD v1.x). */
  get latentChannels(): number {
    return fixedDim(this.sample.dims, 1) ?? 4;
  }

  /** The sample's channels when the export fixes them (9 for an inpainting UNet); undefined when dynamic. */
  get inputChannels(): number | undefined {
    return fixedDim(this.sample.dims, 1);
  }

  /** The sequence length the UNet accepts, when the export fixed it (often 77). */
  get fixedSequence(): number | undefined {
    return fixedDim(this.hidden.dims, 1);
  }

  /** LCM-distilled UNets take a guidance embedding instead of classifier-free guidance. */
  get timeCondDim(): number | undefined {
    return this.timeCond ? fixedDim(this.timeCond.dims, 1) ?? 256 : undefined;
  }

  async predict(opts: {
    latents: Float32Array; // already scaled by the scheduler, shape [1, c, h, w]
    /** The UNet input's [channels, h, w]: the latents' channels plus those of `extra`. */
    dims: [number, number, number];
    timestep: number;
    cond: Embeddings;
    uncond?: Embeddings; // present: classifier-free guidance
    guidance: number;
    timeCond?: Float32Array;
    /**
     * Channels concatenated after the scaled latents (an inpainting UNet's mask and masked-image
     * latents, torch.cat(..., dim=1)); the same for both halves of classifier-free guidance.
     */
    extra?: Float32Array;
  }): Promise<Float32Array> {
    const { timestep, cond, uncond } = opts;
    // The prediction has the latents' shape; the input may carry extra channels.
    const n = opts.latents.length;
    const latents = opts.extra ? concatChannels(opts.latents, opts.extra) : opts.latents;
    opts = { ...opts, latents };
    if (!this.warnedIntTimestep && this.timestep.type.startsWith('int') && !Number.isInteger(timestep)) {
      this.warnedIntTimestep = true;
      this.warn(`This UNet takes integer timesteps, so this scheduler's fractional timesteps (e.g. ${timestep}) are rounded down, ` +
        `as diffusers' ONNX pipeline does; results differ slightly from a float-timestep export.`);
    }
    let out: Float32Array;
    if (uncond && this.splitBatch) {
      // Two batch-1 calls give bit for bit the rows of one batch-2 call (measured on SD v1.5's UNet).
      out = new Float32Array(2 * n);
      out.set((await this.run(opts, [uncond])).subarray(0, n), 0);
      out.set((await this.run(opts, [cond])).subarray(0, n), n);
    } else {
      out = await this.run(opts, uncond ? [uncond, cond] : [cond]);
    }
    if (!uncond) return out.length === n ? out : out.slice(0, n);
    // noise_pred_uncond + guidance * (noise_pred_text - noise_pred_uncond), each op rounded to float32 as torch does.
    const g = Math.fround(opts.guidance);
    const result = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const u = out[i];
      const diff = Math.fround(out[n + i] - u);
      result[i] = u + Math.fround(g * diff);
    }
    return result;
  }

  /** One UNet call: the latents once per entry of `texts`, batched in that order. */
  private async run(
    opts: { latents: Float32Array; dims: [number, number, number]; timestep: number; timeCond?: Float32Array },
    texts: Embeddings[],
  ): Promise<Float32Array> {
    const { latents, dims, timestep } = opts;
    const batch = texts.length;
    const n = latents.length;
    const sample = new Float32Array(n * batch);
    const hidden = new Float32Array(texts[0].data.length * batch);
    texts.forEach((t, b) => {
      sample.set(latents, b * n);
      hidden.set(t.data, b * t.data.length);
    });
    const feeds: Record<string, import('onnxruntime-node').Tensor> = {
      [this.sample.name]: floatTensor(this.sample.type, sample, [batch, ...dims]),
      [this.timestep.name]: this.timestepTensor(timestep, batch),
      [this.hidden.name]: floatTensor(this.hidden.type, hidden, [batch, texts[0].seq, texts[0].hidden]),
    };
    if (this.timeCond && opts.timeCond) {
      const tc = new Float32Array(opts.timeCond.length * batch);
      for (let b = 0; b < batch; b++) tc.set(opts.timeCond, b * opts.timeCond.length);
      feeds[this.timeCond.name] = floatTensor(this.timeCond.type, tc, [batch, opts.timeCond.length]);
    }
    return toFloat32((await this.session.run(feeds))[this.output]);
  }

  private timestepTensor(t: number, batch: number) {
    const dims = this.timestep.dims;
    if (dims.length === 0) return floatTensor(this.timestep.type, Float32Array.of(t), []);
    const size = fixedDim(dims, 0) ?? batch;
    return floatTensor(this.timestep.type, new Float32Array(size).fill(t), [size]);
  }
}

function concatChannels(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** diffusers' get_guidance_scale_embedding for LCM-distilled UNets (w = guidance - 1). */
export function guidanceEmbedding(guidance: number, dim: number): Float32Array {
  const w = (guidance - 1) * 1000;
  const half = Math.floor(dim / 2);
  const scale = Math.log(10000) / (half - 1);
  const out = new Float32Array(dim);
  for (let i = 0; i < half; i++) {
    const e = w * Math.exp(-scale * i);
    out[i] = Math.sin(e);
    out[half + i] = Math.cos(e);
  }
  return out;
}
