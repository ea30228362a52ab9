// A nearest-neighbour 2× upsample followed by a 3×3 convolution (diffusers' Upsample2D, in the
// UNet and the VAE decoder) as one convolution at the lower resolution. Every output pixel of
// the pair reads a 2×2 window of the small image, whose weights are sums of the 3×3 kernel's
// taps, a different sum for each of the four pixel parities: 16 multiply-adds per input pixel and
// channel pair where the pair needs 36 (9 on each of 4 upsampled pixels). So one Conv with a 2×2
// kernel and four outputs per channel, a Slice per parity (each parity's window starts one pixel
// further) and DepthToSpace to interleave them. The sums only reorder the arithmetic: results
// agree to float rounding. The upsampled image is never made, either.
//
// The new weights are 16/9 of the originals, computed from them by one Gemm that onnxruntime
// folds when the session is created (as winogradConv.ts does), so the graph carries none.

import { attr, Node, NodeWriter, OnnxGraph } from './onnxGraph';
import { plain3x3Convolutions } from './winogradConv';

export interface UpsampleConvOptions {
  /** Bytes the new weights may take, smallest first (the originals stay mapped from the model's file). */
  budgetBytes: number;
}

export interface UpsampleConvResult {
  /** Upsample and convolution pairs rewritten. */
  rewritten: number;
  /** The new weights' bytes. */
  weightBytes: number;
}

interface Pair {
  resize: Node;
  conv: Node;
  K: number;
  C: number;
}

/**
 * Resize modes that map output index 2i and 2i+1 to input index i when the scale is 2 (with
 * half_pixel, x = i ∓ 0.25 rounds to i; with asymmetric, i + 0.5 must round down).
 */
const NEAREST_TO_FLOOR: Record<string, readonly string[]> = {
  asymmetric: ['floor', 'round_prefer_floor'],
  half_pixel: ['round_prefer_floor', 'round_prefer_ceil'],
  pytorch_half_pixel: ['round_prefer_floor', 'round_prefer_ceil'],
};

/** Resize-then-Conv pairs this rewrite can take (opset 13 and later, as plain3x3Convolutions). */
export function upsampleConvPairs(g: OnnxGraph): Pair[] {
  const outputs = new Set(g.graph.output.map((o) => o.name));
  const pairs: Pair[] = [];
  for (const conv of plain3x3Convolutions(g)) {
    const resize = g.from(conv.input![0], 'Resize');
    if (!resize || (resize.domain ?? '') !== '' || !nearest2x(g, resize)) continue;
    const up = resize.output![0];
    if (outputs.has(up) || g.consumersOf(up).length !== 1) continue;
    const [K, C] = g.initializer(conv.input![1])!.dims!.map(Number);
    pairs.push({ resize, conv, K, C });
  }
  return pairs;
}

function nearest2x(g: OnnxGraph, n: Node): boolean {
  const str = (name: string, fallback: string) => {
    const s = n.attribute?.find((a) => a.name === name)?.s;
    return s && s.length ? Buffer.from(s).toString() : fallback;
  };
  if (n.attribute?.some((a) => a.name === 'axes' || (a.name === 'exclude_outside' && Number(a.i ?? 0) !== 0))) return false;
  if (str('mode', 'nearest') !== 'nearest') return false;
  const allowed = NEAREST_TO_FLOOR[str('coordinate_transformation_mode', 'half_pixel')];
  if (!allowed?.includes(str('nearest_mode', 'round_prefer_floor'))) return false;
  const [, roi, scales, sizes] = n.input ?? [];
  if (roi && g.constantValues(roi)?.length !== 0) return false;
  if (sizes) return false;
  const s = g.constantValues(scales);
  return s?.length === 4 && s[0] === 1 && s[1] === 1 && s[2] === 2 && s[3] === 2;
}

export function upsampleConvolutions(g: OnnxGraph, o: UpsampleConvOptions): UpsampleConvResult {
  const result: UpsampleConvResult = { rewritten: 0, weightBytes: 0 };
  const pairs = upsampleConvPairs(g).sort((x, y) => x.K * x.C - y.K * y.C);
  const replaced = new Set<Node>();
  const added: Node[] = [];
  for (const pair of pairs) {
    const bytes = pair.K * pair.C * 16 * 4;
    if (result.weightBytes + bytes > o.budgetBytes) continue;
    added.push(...rewrite(g, pair));
    replaced.add(pair.resize).add(pair.conv);
    result.rewritten += 1;
    result.weightBytes += bytes;
  }
  if (replaced.size === 0) return result;
  g.replaceNodes(replaced, added);
  // The scales the Resize nodes read: Constant nodes (torch's export) or initializers.
  g.removeDeadNodes();
  g.removeUnreadInitializers([...replaced].flatMap((r) => (r.opType === 'Resize' ? r.input ?? [] : [])));
  g.sortNodes();
  return result;
}

function rewrite(g: OnnxGraph, pair: Pair): Node[] {
  const { resize, conv, K, C } = pair;
  const x = resize.input![0];
  const [, wName, bName] = conv.input as string[];
  const y = conv.output![0];
  const writer = new NodeWriter(g, `${conv.name || y}_upsample`);
  const { float, int64, node } = writer;
  const sums = float('sums', [16, 9], subpixelSums());
  // [16 = (a, b, u, v), K·C] → [(a, b), K, C, (u, v)] → [4K, C, 2, 2]: output channel
  // (a·2 + b)·K + k holds parity (a, b) of output channel k, DepthToSpace's DCR order.
  const flatW = node('Reshape', [wName, int64('w_flat_shape', [K * C, 9])], 'w_flat');
  const summed = node('Gemm', [sums, flatW], 'summed', [attr.int('transB', 1)]);
  const grouped = node('Transpose', [node('Reshape', [summed, int64('summed_shape', [4, 4, K, C])], 'summed_4d')], 'grouped', [attr.ints('perm', [0, 2, 3, 1])]);
  const weight = node('Reshape', [grouped, int64('weight_shape', [4 * K, C, 2, 2])], 'weight');
  const bias = bName ? [node('Concat', [bName, bName, bName, bName], 'bias', [attr.int('axis', 0)])] : [];
  // Output index p reads rows p-1 and p: parity 0 of row i is at p = i, parity 1 at p = i + 1.
  const all = node('Conv', [x, weight, ...bias], 'conv', [attr.ints('kernel_shape', [2, 2]), attr.ints('pads', [1, 1, 1, 1])]);
  const size = node('Slice', [node('Shape', [x], 'shape'), int64('two', [2]), int64('four', [4])], 'size');
  const parities: string[] = [];
  const axes = int64('axes', [1, 2, 3]);
  for (const a of [0, 1]) for (const b of [0, 1]) {
    const start = int64(`start_${a}${b}`, [(a * 2 + b) * K, a, b]);
    const end = node('Concat', [int64(`channels_end_${a}${b}`, [(a * 2 + b + 1) * K]), node('Add', [size, int64(`offset_${a}${b}`, [a, b])], `end_hw_${a}${b}`)], `end_${a}${b}`, [attr.int('axis', 0)]);
    parities.push(node('Slice', [all, start, end, axes], `parity_${a}${b}`));
  }
  node('DepthToSpace', [node('Concat', parities, 'parities', [attr.int('axis', 1)])], 'interleaved', [attr.int('blocksize', 2), attr.str('mode', 'DCR')], y);
  return writer.nodes;
}

/**
 * Row (a·8 + b·4 + u·2 + v), column (s·3 + t): whether 3×3 tap (s, t) adds to 2×2 tap (u, v) of
 * parity (a, b). Along one axis, parity 0 reads pixels i-1, i with taps w0 and w1 + w2; parity 1
 * reads i, i+1 with w0 + w1 and w2.
 */
export function subpixelSums(): Float32Array {
  const axis = [[[1, 0, 0], [0, 1, 1]], [[1, 1, 0], [0, 0, 1]]]; // [parity][u][s]
  const m = new Float32Array(16 * 9);
  for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) for (let u = 0; u < 2; u++) for (let w = 0; w < 2; w++) {
    for (let s = 0; s < 3; s++) for (let t = 0; t < 3; t++) m[(a * 8 + b * 4 + u * 2 + w) * 9 + s * 3 + t] = axis[a][u][s] * axis[b][w][t];
  }
  return m;
}
