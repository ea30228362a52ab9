// Pillow's Image.resize(size, Image.LANCZOS) for 8-bit images, ported from its C resampler
// (libImaging/Resample.c: precompute_coeffs, normalize_coeffs_8bpc, the horizontal then vertical
// 8-bit passes with 22-bit fixed-point coefficients and clip8). diffusers' VaeImageProcessor.resize
// calls exactly this (resample="lanczos" by default) when an init image or mask is not the size
// the pipeline works at, so this port gives the same pixels as diffusers, where sharp's lanczos3
// (libvips) gives pixels that differ by a level or two. Pixels are interleaved, `channels` per
// pixel (3 for RGB, 1 for L).

const PRECISION_BITS = 32 - 8 - 2;
const LANCZOS_SUPPORT = 3;

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

/** Pillow's lanczos_filter: the sinc truncated to [-3, 3). */
function lanczos(x: number): number {
  if (-3 <= x && x < 3) return sinc(x) * sinc(x / 3);
  return 0;
}

interface Coefficients {
  ksize: number;
  /** Per output pixel: first input index, then the number of inputs used. */
  bounds: Int32Array;
  /** Fixed-point weights, ksize per output pixel (normalize_coeffs_8bpc). */
  weights: Int32Array;
}

/** precompute_coeffs + normalize_coeffs_8bpc for resizing `inSize` pixels (box [0, inSize]) to `outSize`. */
function coefficients(inSize: number, outSize: number): Coefficients {
  const in0 = 0;
  const in1 = inSize;
  const scale = (in1 - in0) / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const support = LANCZOS_SUPPORT * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const pre = new Float64Array(outSize * ksize);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = in0 + (xx + 0.5) * scale;
    // C's (int) cast truncates toward zero.
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    const base = xx * ksize;
    for (let x = 0; x < xmax; x++) {
      const w = lanczos((x + xmin - center + 0.5) * ss);
      pre[base + x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) if (ww !== 0) pre[base + x] /= ww;
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  const weights = new Int32Array(pre.length);
  const one = 2 ** PRECISION_BITS;
  for (let i = 0; i < pre.length; i++) weights[i] = pre[i] < 0 ? Math.trunc(-0.5 + pre[i] * one) : Math.trunc(0.5 + pre[i] * one);
  return { ksize, bounds, weights };
}

/** Pillow's clip8: the fixed-point sum back to 0..255. */
function clip8(v: number): number {
  if (v >= 2 ** (PRECISION_BITS + 8)) return 255;
  if (v <= 0) return 0;
  return Math.floor(v / 2 ** PRECISION_BITS);
}

const ROUND = 2 ** (PRECISION_BITS - 1);

/**
 * Pillow's LANCZOS resize of an 8-bit image with `channels` interleaved channels. The same size
 * returns a copy, as Image.resize does.
 */
export function pilResizeLanczos(src: Uint8Array, width: number, height: number, channels: number, outWidth: number, outHeight: number): Uint8Array {
  if (src.length !== width * height * channels) throw new Error(`pilResizeLanczos: ${src.length} bytes is not ${width}x${height}x${channels}`);
  if (outWidth === width && outHeight === height) return Uint8Array.from(src);
  const needHorizontal = outWidth !== width;
  const needVertical = outHeight !== height;
  const horiz = coefficients(width, outWidth);
  const vert = coefficients(height, outHeight);
  // The rows the vertical pass reads: only those are resampled horizontally.
  const yFirst = vert.bounds[0];
  const yLast = vert.bounds[outHeight * 2 - 2] + vert.bounds[outHeight * 2 - 1];

  let image = src;
  let imageWidth = width;
  let rowOffset = 0;
  if (needHorizontal) {
    const rows = yLast - yFirst;
    const tmp = new Uint8Array(outWidth * rows * channels);
    const { ksize, bounds, weights } = horiz;
    for (let yy = 0; yy < rows; yy++) {
      const inRow = (yy + yFirst) * width * channels;
      const outRow = yy * outWidth * channels;
      for (let xx = 0; xx < outWidth; xx++) {
        const xmin = bounds[xx * 2];
        const xmax = bounds[xx * 2 + 1];
        const k = xx * ksize;
        for (let c = 0; c < channels; c++) {
          let ss = ROUND;
          for (let x = 0; x < xmax; x++) ss += src[inRow + (x + xmin) * channels + c] * weights[k + x];
          tmp[outRow + xx * channels + c] = clip8(ss);
        }
      }
    }
    image = tmp;
    imageWidth = outWidth;
    rowOffset = yFirst;
  }
  if (!needVertical) return image === src ? Uint8Array.from(src) : image;
  const out = new Uint8Array(imageWidth * outHeight * channels);
  const { ksize, bounds, weights } = vert;
  for (let yy = 0; yy < outHeight; yy++) {
    const ymin = bounds[yy * 2] - rowOffset;
    const ymax = bounds[yy * 2 + 1];
    const k = yy * ksize;
    for (let xx = 0; xx < imageWidth; xx++) {
      for (let c = 0; c < channels; c++) {
        let ss = ROUND;
        for (let y = 0; y < ymax; y++) ss += image[((y + ymin) * imageWidth + xx) * channels + c] * weights[k + y];
        out[(yy * imageWidth + xx) * channels + c] = clip8(ss);
      }
    }
  }
  return out;
}
