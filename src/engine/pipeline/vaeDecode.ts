// One VAE decoder call: latents [1,c,h,w] in, image [1,3,H,W] out, names and dtypes from the
// session's metadata. Shared by the final decode and the TAESD live preview.

import { ModelSession } from '../onnx/session';
import { floatTensor, toFloat32 } from './tensors';

export async function decodeLatents(session: ModelSession, latents: Float32Array, h: number, w: number): Promise<{ data: Float32Array; height: number; width: number }> {
  const input = session.inputs.find((i) => i.name === 'latent_sample') ?? session.inputs[0];
  const output = session.outputs.find((o) => o.name === 'sample') ?? session.outputs[0];
  const channels = latents.length / (h * w);
  const out = (await session.run({ [input.name]: floatTensor(input.type, latents, [1, channels, h, w]) }))[output.name];
  const [, , height, width] = out.dims.map(Number);
  return { data: toFloat32(out), height, width };
}
