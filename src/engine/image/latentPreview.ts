// Pixels from the model's tensors: a cheap latent preview (no VAE) and the exact diffusers
// post-processing of the VAE output.

import sharp from 'sharp';

/**
 * SD 1.x latent -> RGB linear map (rows: latent channels, columns: R, G, B), the approximation
 * ComfyUI uses for SD15 previews (comfy/latent_formats.py); A1111's "Approx cheap" is a close
 * variant. It applies to the latents the UNet sees (already multiplied by scaling_factor), and
 * gives values in about [-1, 1].
 */
export const SD15_LATENT_RGB_FACTORS: readonly (readonly [number, number, number])[] = [
  [0.3512, 0.2297, 0.3227],
  [0.325, 0.4974, 0.235],
  [-0.2829, 0.1762, 0.2721],
  [-0.212, -0.2616, -0.7177],
];

/** [1,4,h,w] (or [4,h,w]) latents -> h x w x 3 RGB bytes. */
export function latentsToRgb(latents: Float32Array, channels: 4, h: number, w: number): Uint8Array {
  const plane = h * w;
  if (channels !== 4 || latents.length < channels * plane) {
    throw new Error(`latents have ${latents.length} values; 4x${h}x${w} needs ${4 * plane}`);
  }
  const out = new Uint8Array(plane * 3);
  const f = SD15_LATENT_RGB_FACTORS;
  for (let i = 0; i < plane; i++) {
    const l0 = latents[i];
    const l1 = latents[plane + i];
    const l2 = latents[2 * plane + i];
    const l3 = latents[3 * plane + i];
    for (let c = 0; c < 3; c++) {
      const v = l0 * f[0][c] + l1 * f[1][c] + l2 * f[2][c] + l3 * f[3][c];
      // ComfyUI: ((x + 1) / 2).clamp(0, 1) * 255.
      const u = Math.min(1, Math.max(0, (v + 1) / 2));
      out[i * 3 + c] = Math.round(u * 255);
    }
  }
  return out;
}

/**
 * A small PNG preview of the latents (h x w latent pixels, upscaled x2 when tiny so it is
 * visible; 64x64 latents give a 64x64 image, as cheap as it gets).
 */
export async function previewPng(latents: Float32Array, h: number, w: number): Promise<{ width: number; height: number; pngBase64: string }> {
  const rgb = latentsToRgb(latents, 4, h, w);
  let img = sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.length), { raw: { width: w, height: h, channels: 3 } });
  let width = w;
  let height = h;
  if (Math.max(w, h) < 64) {
    width = w * 2;
    height = h * 2;
    img = img.resize(width, height, { kernel: 'nearest' });
  }
  const png = await img.png({ compressionLevel: 1 }).toBuffer();
  return { width, height, pngBase64: png.toString('base64') };
}

/** NumPy's round(): half to even, as (image * 255).round() in diffusers' numpy_to_pil. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round rounds .5 up; on an exact tie pick the even neighbour.
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The VAE decoder output [1,3,h,w] in [-1,1] -> h x w x 3 RGB bytes, exactly as diffusers'
 * VaeImageProcessor.postprocess + numpy_to_pil: (x / 2 + 0.5).clamp(0, 1) in float32, then
 * (x * 255).round() half to even, CHW -> HWC.
 */
export function decodedToRgb(sample: Float32Array, h: number, w: number): Uint8Array {
  const plane = h * w;
  if (sample.length < 3 * plane) throw new Error(`decoded sample has ${sample.length} values; 3x${h}x${w} needs ${3 * plane}`);
  const out = new Uint8Array(plane * 3);
  // Each step rounds to float32 as torch/numpy do on float32 tensors.
  const f = Math.fround;
  for (let c = 0; c < 3; c++) {
    const base = c * plane;
    for (let i = 0; i < plane; i++) {
      let v = f(f(sample[base + i] / 2) + 0.5);
      if (!(v >= 0)) v = 0; // NaN -> 0 as clamp + uint8 cast would give garbage; keep it defined
      else if (v > 1) v = 1;
      out[i * 3 + c] = roundHalfEven(f(v * 255));
    }
  }
  return out;
}
