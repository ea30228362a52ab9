// The pixel inputs of img2img and inpainting, prepared as diffusers 0.30's pipelines prepare them:
//
//   image: VaeImageProcessor.preprocess -> the size (the request's, else the image's own rounded
//     down to a multiple of the VAE factor), PIL LANCZOS resize when the size differs (none when
//     it already fits: PIL returns a copy), 8-bit / 255 in float32, then 2x - 1 into [-1, 1].
//   mask: the mask processor (do_normalize=False, do_binarize=True, do_convert_grayscale=True):
//     the same resize of the RGB mask, then PIL's convert("L"), / 255, binarised at 0.5 (white
//     repaints, black keeps); masked image = image * (mask < 0.5); the mask at the latent size
//     for the UNet as prepare_mask_latents does it (torch.nn.functional.interpolate, mode
//     "nearest", its float32 index arithmetic).

import { SIZE } from '../../core/limits';
import { badInput } from '../errors';
import { RgbImage, readRgbImage, rgbToLuma } from '../image/initImage';
import { pilResizeLanczos } from '../image/pilResize';

const f32 = Math.fround;

export interface ImageRequest {
  /** Absolute paths. */
  image: string;
  mask?: string;
  /** The size the request asked for; a side left out comes from the init image. */
  width?: number;
  height?: number;
}

export interface ImageInputs {
  width: number;
  height: number;
  /** [3, height, width], float32 in [-1, 1]. */
  image: Float32Array;
  mask?: MaskInputs;
  /** Set when the init image (and mask) were resized, e.g. "640x480 -> 512x384". */
  resized?: string;
}

export interface MaskInputs {
  /** [height, width]: 1 repaints, 0 keeps (the binarised mask_condition). */
  full: Float32Array;
  /** [3, height, width]: image * (mask < 0.5). */
  maskedImage: Float32Array;
  /** [height / f, width / f]: the mask as the UNet sees it. */
  latent: Float32Array;
}

/**
 * Reads the init image (and mask), fixes the size and prepares the pipeline's inputs.
 * `multiple` is the size step the engine accepts (8 for SD, a multiple of `vaeFactor`).
 */
export async function prepareImageInputs(req: ImageRequest, vaeFactor: number, multiple: number): Promise<ImageInputs> {
  const init = await readRgbImage(req.image, '--init-image');
  const maskImage = req.mask !== undefined ? await readRgbImage(req.mask, '--mask') : undefined;
  if (maskImage && (maskImage.width !== init.width || maskImage.height !== init.height)) {
    throw badInput(
      `--mask ${req.mask} is ${maskImage.width}x${maskImage.height} but --init-image ${req.image} is ${init.width}x${init.height}: ` +
        'the mask must be the same size as the image (white where the image is repainted, black where it is kept).',
    );
  }
  const { width, height } = outputSize(init, req, multiple);
  const image = normalizedImage(pilResizeLanczos(init.rgb, init.width, init.height, 3, width, height));
  const resized = width !== init.width || height !== init.height ? `${init.width}x${init.height} -> ${width}x${height}` : undefined;
  if (!maskImage) return { width, height, image, resized };
  const full = binarizedMask(pilResizeLanczos(maskImage.rgb, maskImage.width, maskImage.height, 3, width, height));
  return {
    width,
    height,
    image,
    resized,
    mask: {
      full,
      maskedImage: maskedImage(image, full),
      latent: interpolateNearest(full, height, width, height / vaeFactor, width / vaeFactor),
    },
  };
}

/** VaeImageProcessor.get_default_height_width, within the engine's limits. */
function outputSize(init: RgbImage, req: ImageRequest, multiple: number): { width: number; height: number } {
  const down = (v: number) => Math.floor(v / multiple) * multiple;
  const width = req.width ?? down(init.width);
  const height = req.height ?? down(init.height);
  if (width < multiple || height < multiple) {
    throw badInput(`--init-image ${req.image} is ${init.width}x${init.height}; images are made in blocks of ${multiple} pixels, so it must be at least ${multiple}x${multiple}.`);
  }
  if (width > SIZE.max || height > SIZE.max) {
    const scale = SIZE.max / Math.max(init.width, init.height);
    const w = Math.max(multiple, down(init.width * scale));
    const h = Math.max(multiple, down(init.height * scale));
    throw badInput(
      `--init-image ${req.image} is ${init.width}x${init.height}; the largest side made is ${SIZE.max} pixels. ` +
        `Pass --width ${req.width ?? w} --height ${req.height ?? h} to scale it (or use a smaller image).`,
    );
  }
  return { width, height };
}

/** pil_to_numpy (/ 255, float32) then normalize (2x - 1), as [3, H, W]. */
export function normalizedImage(rgb: Uint8Array): Float32Array {
  const n = rgb.length / 3;
  const out = new Float32Array(rgb.length);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) out[c * n + i] = f32(2 * f32(rgb[i * 3 + c] / 255)) - 1;
  }
  return out;
}

/** convert("L"), / 255 in float32, then binarize: values < 0.5 -> 0, >= 0.5 -> 1. */
export function binarizedMask(rgb: Uint8Array): Float32Array {
  const luma = rgbToLuma(rgb);
  return Float32Array.from(luma, (v) => (f32(v / 255) < 0.5 ? 0 : 1));
}

/** init_image * (mask_condition < 0.5): kept pixels stay, repainted ones become 0 (mid grey). */
export function maskedImage(image: Float32Array, mask: Float32Array): Float32Array {
  const n = mask.length;
  const out = new Float32Array(image.length);
  for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) out[c * n + i] = image[c * n + i] * (mask[i] < 0.5 ? 1 : 0);
  return out;
}

/**
 * torch.nn.functional.interpolate(x, size=(outH, outW)) with the default mode "nearest" on one
 * [inH, inW] plane: source index min(floor(dst * scale), in - 1) with scale = in / out in float32
 * (ATen's nearest_idx; the same size copies, twice the size halves the index).
 */
export function interpolateNearest(src: Float32Array, inH: number, inW: number, outH: number, outW: number): Float32Array {
  const ys = Array.from({ length: outH }, (_, y) => nearestIndex(y, inH, outH));
  const xs = Array.from({ length: outW }, (_, x) => nearestIndex(x, inW, outW));
  const out = new Float32Array(outH * outW);
  for (let y = 0; y < outH; y++) for (let x = 0; x < outW; x++) out[y * outW + x] = src[ys[y] * inW + xs[x]];
  return out;
}

export function nearestIndex(dst: number, inSize: number, outSize: number): number {
  if (outSize === inSize) return dst;
  if (outSize === 2 * inSize) return dst >> 1;
  const scale = f32(inSize / outSize);
  return Math.min(Math.floor(f32(dst * scale)), inSize - 1);
}
