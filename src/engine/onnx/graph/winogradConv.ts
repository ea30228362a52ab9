// 3×3 convolutions by Winograd's minimal filtering (Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2015), written as plain ONNX ops so onnxruntime's CPU kernels
// run it: the input cut into overlapping a×a tiles and transformed (one Conv with a fixed
// kernel), one batched MatMul per tile position against the transformed weights, and the
// inverse transform (a MatMul) put back in place by DepthToSpace. F(4×4, 3×3) needs 36
// multiplications for 16 outputs where the direct convolution needs 144: on SD v1.5's shapes
// (2 cores) one convolution took 0.3-0.5 of onnxruntime's own Conv, at 2-3e-6 relative error.
// The transforms cost a pass over memory each, so the gain shrinks with fewer channels.
//
// The cost is memory: the transformed weights are (a/3)² times the originals (4× for F(4×4),
// 1.8× for F(2×2)). Either the graph computes them from the original weights with constant
// nodes, which onnxruntime folds every time it creates the session ('fold'), or they are left
// for the caller to compute once and store in a file the session maps ('stored',
// winogradWeights.ts). Only the convolutions with the smallest weights are rewritten, within a
// budget of extra bytes: in UNets and VAEs those are the ones at the largest spatial sizes,
// where the work is.

import { onnx } from 'onnx-proto';
import { attr, intAttr, intsAttr, Node, NodeWriter, OnnxGraph, opsetVersion } from './onnxGraph';
import { spatialScales } from './spatialScale';

const T = onnx.TensorProto.DataType;

interface Transform {
  /** Output tile size m; input tiles are a = m + 2. */
  m: number;
  BT: number[][];
  G: number[][];
  AT: number[][];
  /**
   * The share of a 3×3 convolution's time it saved on SD v1.5's shapes (2 cores): F(4×4) took
   * 0.32-0.42 of onnxruntime's Conv, F(2×2) 0.43-0.55.
   */
  saved: number;
}

/** F(2×2, 3×3). */
const F2: Transform = {
  m: 2,
  BT: [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
  G: [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]],
  AT: [[1, 1, 1, 0], [0, 1, -1, -1]],
  saved: 0.5,
};

/** F(4×4, 3×3), points 0, ±1, ±2. */
const F4: Transform = {
  m: 4,
  BT: [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0], [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]],
  G: [[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6], [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]],
  AT: [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]],
  saved: 0.6,
};

export interface WinogradOptions {
  /** Bytes the transformed weights may add to the graph's, spent on the smallest weights first. */
  budgetBytes: number;
  /**
   * Fewest input and output channels for F(4×4); F(2×2), whose transforms cost more per
   * multiplication saved, needs twice as many. Measured on 2 cores: F(4×4) still pays at 128
   * channels (0.75-0.9 of Conv at 512×512, on warm memory), F(2×2) not at 128 (1.05-1.2).
   */
  minChannels: number;
  /**
   * 'fold' (the default): the graph computes the transformed weights from the model's own, and
   * onnxruntime folds them each time a session is created. 'stored': each becomes an initializer
   * without data, listed in the result's `stored`, for the caller to fill.
   */
  weights?: 'fold' | 'stored';
  /**
   * The sides of the graph's 4-D input are known to be multiples of this (the caller knows the
   * sizes: the VAE decoder's and the UNet's latents). A convolution whose input is then known to
   * be whole tiles (its level, spatialScale.ts, times this is a multiple of m) has the
   * convolution that cuts the tiles pad by one itself, and nothing padded at the end or cropped
   * (two copies of each input and output the general case makes). Wrong for other sizes: the last
   * tiles would be dropped.
   */
  aligned?: number;
}

/** A transformed weight the caller gives the data of (WinogradOptions.weights 'stored'). */
export interface StoredWinogradWeight {
  /** The new initializer in the graph: float, [a², K, C], no data yet. */
  name: string;
  /** The convolution's weight, [K, C, 3, 3], as the model holds it (inline or external); gone from the graph. */
  source: onnx.ITensorProto;
  /** Output tile size (4 or 2). */
  m: number;
}

export interface WinogradResult {
  /** Convolutions rewritten as F(4×4) and as F(2×2). */
  f4: number;
  f2: number;
  /** Their weights before and after. */
  floatBytes: number;
  transformedBytes: number;
  /** With weights 'stored': the initializers to fill, in graph order of their convolutions. */
  stored: StoredWinogradWeight[];
  /** Of the rewritten, those on whole tiles (WinogradOptions.aligned): nothing padded or cropped. */
  whole: number;
}

interface Candidate {
  node: Node;
  K: number;
  C: number;
  bytes: number;
  /** Halvings of its input below the graph's input resolution (spatialScale.ts), if known. */
  scale: number | undefined;
}

/** A transformed weight has a² values where the original has 9. */
const growth = (f: Transform) => (f.m + 2) ** 2 / 9;

/**
 * Which convolutions go by which form, within the budget: the most time saved per byte added
 * first. A convolution's time is its weight times its pixels, so one at twice the resolution
 * saves four times as much for the same bytes; F(2×2) saves most of what F(4×4) does for a
 * quarter of the bytes, so it comes first and F(4×4) replaces it where bytes are left. (Taking
 * the smallest weights first, as before, spent the UNet's budget on 640-channel convolutions at
 * 32×32 latents and left the 1280-channel upsample there, 0.28 s of a 6.4 s step, to Conv.)
 */
function chooseTransforms(candidates: readonly Candidate[], o: WinogradOptions): Map<Candidate, Transform> {
  const deepest = Math.max(0, ...candidates.map((c) => c.scale ?? 0));
  /** Taking `f` for `c`, in place of `replaces` when given (taken only where that was). */
  interface Step { c: Candidate; f: Transform; replaces?: Transform; cost: number; saved: number; order: number }
  const steps: Step[] = [];
  candidates.forEach((c, order) => {
    const work = c.bytes * 4 ** -(c.scale ?? deepest);
    const step = (f: Transform, replaces?: Transform): Step => ({
      c, f, replaces, order,
      cost: c.bytes * (growth(f) - (replaces ? growth(replaces) : 1)),
      saved: work * (f.saved - (replaces?.saved ?? 0)),
    });
    const channels = Math.min(c.C, c.K);
    if (channels >= 2 * o.minChannels) steps.push(step(F2), step(F4, F2));
    else if (channels >= o.minChannels) steps.push(step(F4));
  });
  steps.sort((x, y) => y.saved / y.cost - x.saved / x.cost || x.cost - y.cost || x.order - y.order);
  const choice = new Map<Candidate, Transform>();
  let extra = 0;
  for (const s of steps) {
    if ((s.replaces && choice.get(s.c) !== s.replaces) || extra + s.cost > o.budgetBytes) continue;
    choice.set(s.c, s.f);
    extra += s.cost;
  }
  return choice;
}

/**
 * Conv nodes this rewrite (and upsampleConv.ts) can take: 3×3, stride 1, padding 1, no dilation
 * or groups, a constant float32 weight used once; opset 13 or later.
 */
export function plain3x3Convolutions(g: OnnxGraph): Node[] {
  if (opsetVersion(g) < 13) return [];
  const used = new Map<string, number>();
  for (const n of g.nodes) for (const i of n.input ?? []) if (i) used.set(i, (used.get(i) ?? 0) + 1);
  const ones = (v: number[] | undefined, length: number) => !v || (v.length === length && v.every((x) => x === 1));
  return g.nodes.filter((n) => {
    if (n.opType !== 'Conv' || (n.domain ?? '') !== '') return false;
    const [, wName, bName] = n.input ?? [];
    const w = g.initializer(wName ?? '');
    if (!w || w.dataType !== T.FLOAT || used.get(wName) !== 1) return false;
    const dims = w.dims?.map(Number) ?? [];
    if (dims.length !== 4 || dims[2] !== 3 || dims[3] !== 3) return false;
    if (bName && (g.initializer(bName)?.dataType !== T.FLOAT || used.get(bName) !== 1)) return false;
    const autoPad = n.attribute?.find((a) => a.name === 'auto_pad')?.s;
    if (autoPad && autoPad.length && Buffer.from(autoPad).toString() !== 'NOTSET') return false;
    const pads = intsAttr(n, 'pads');
    return (intAttr(n, 'group') ?? 1) === 1 && ones(intsAttr(n, 'strides'), 2) && ones(intsAttr(n, 'dilations'), 2)
      && pads?.length === 4 && pads.every((p) => p === 1);
  });
}

export function winogradConvolutions(g: OnnxGraph, o: WinogradOptions): WinogradResult {
  const result: WinogradResult = { f4: 0, f2: 0, floatBytes: 0, transformedBytes: 0, stored: [], whole: 0 };
  const scales = spatialScales(g);
  const candidates: Candidate[] = plain3x3Convolutions(g).map((node) => {
    const dims = g.initializer(node.input![1])!.dims!.map(Number);
    return { node, K: dims[0], C: dims[1], bytes: dims[0] * dims[1] * 36, scale: scales.get(node.input![0]) };
  });
  const choice = chooseTransforms(candidates, o);
  // Rewritten smallest weights first (stable: graph order among equals), the order the stored
  // weights' file and its name (winogradWeights.ts) have always had.
  candidates.sort((x, y) => x.bytes - y.bytes);
  const replaced = new Set<Node>();
  const added: Node[] = [];
  for (const c of candidates) {
    const f = choice.get(c);
    if (!f) continue;
    const source = g.initializer(c.node.input![1])!;
    const stored = o.weights === 'stored' ? `${c.node.name || c.node.output![0]}_winograd_weights` : undefined;
    const whole = onWholeTiles(c, f, o.aligned);
    added.push(...rewrite(g, c, f, stored, whole));
    if (whole) result.whole += 1;
    if (stored) result.stored.push({ name: stored, source, m: f.m });
    replaced.add(c.node);
    if (f === F4) result.f4 += 1;
    else result.f2 += 1;
    result.floatBytes += c.bytes;
    result.transformedBytes += c.bytes * growth(f);
  }
  if (replaced.size === 0) return result;
  g.replaceNodes(replaced, added);
  // A stored weight replaces the original, which nothing reads any more.
  for (const w of result.stored) g.removeInitializer(w.source.name!);
  g.sortNodes();
  return result;
}

/** Whether `c`'s input sides are multiples of f's tile, given the graph input's are of `multiple`. */
function onWholeTiles(c: Candidate, f: Transform, multiple: number | undefined): boolean {
  if (!multiple || c.scale === undefined) return false;
  const side = multiple * 2 ** -c.scale;
  return Number.isInteger(side) && side % f.m === 0;
}

/**
 * The nodes that compute `c.node`'s output by `f`, from its own weight and bias; with `stored`,
 * from that initializer (added here, data to come) instead of its weight.
 */
function rewrite(g: OnnxGraph, c: Candidate, f: Transform, stored: string | undefined, aligned: boolean): Node[] {
  const n = c.node;
  const [x, wName, bName] = n.input as string[];
  const y = n.output![0];
  const { m } = f;
  const a = m + 2;
  const A2 = a * a;
  const writer = new NodeWriter(g, `${n.name || y}_winograd`);
  const { float, int64, node, name: v } = writer;
  float('input_transform', [A2, 1, 1, a, a], inputTransform(f));
  float('output_transform', [m * m, A2], outputTransform(f));
  const { int, ints, str } = attr;
  // Tiles per side, ceil(size / m), and the padding that makes the last tile whole.
  const size = node('Slice', [node('Shape', [x], 'shape'), int64('two', [2]), int64('four', [4])], 'size');
  const tiles = node('Div', [node('Add', [size, int64('m_minus_1', [m - 1])], 'size_up'), int64('m', [m])], 'tiles');
  // [N, C, H, W] as [N, 1, C, H, W]: the transform (a Conv over H and W, channels as depth)
  // then gives the tile position as the second axis, the order the batched MatMul wants.
  const x5 = node('Unsqueeze', [x, int64('axis_1', [1])], 'x5');
  const weights = stored ? storedWeights(g, stored, [A2, c.K, c.C]) : foldedWeights(writer, f, wName, c);
  const cut = [ints('kernel_shape', [1, a, a]), ints('strides', [1, m, m])];
  let tilesIn: string;
  if (aligned) {
    tilesIn = node('Conv', [x5, v('input_transform')], 'tiles_in', [...cut, ints('pads', [0, 1, 1, 0, 1, 1])]);
  } else {
    const padEnd = node('Sub', [node('Add', [node('Mul', [tiles, v('m')], 'covered'), int64('one', [1])], 'covered_1'), size], 'pad_end');
    const pads = node('Concat', [int64('pad_begin', [0, 0, 0, 1, 1]), int64('zeros', [0, 0, 0]), padEnd], 'pads', [int('axis', 0)]);
    tilesIn = node('Conv', [node('Pad', [x5, pads], 'padded'), v('input_transform')], 'tiles_in', cut);
  }
  const flat = node('Reshape', [tilesIn, int64('flat_tiles', [0, 0, 0, -1])], 'tiles_flat'); // [N, A2, C, tiles]
  const products = node('MatMul', [weights, flat], 'products'); // [N, A2, K, tiles]
  const productsFlat = node('Reshape', [products, int64('flat_products', [0, 0, -1])], 'products_flat');
  const tilesOut = node('MatMul', [v('output_transform'), productsFlat], 'tiles_out'); // [N, m·m, K·tiles]
  const outShape = node('Concat', [int64('depth', [0, m * m * c.K]), tiles], 'out_shape', [int('axis', 0)]);
  // Channel (i·m + j)·K + k is output k at (i, j) of its tile: DepthToSpace's DCR order.
  // Aligned, the last of DepthToSpace and the bias Add gives the output; else a crop follows.
  const uncropped = aligned ? y : v(bName ? 'biased' : 'whole');
  const whole = node('DepthToSpace', [node('Reshape', [tilesOut, outShape], 'tiles_4d')], 'whole', [int('blocksize', m), str('mode', 'DCR')], bName ? v('whole') : uncropped);
  if (bName) node('Add', [whole, node('Reshape', [bName, int64('bias_shape', [1, c.K, 1, 1])], 'bias')], 'biased', [], uncropped);
  if (!aligned) node('Slice', [uncropped, int64('origin', [0, 0]), size, int64('axes_hw', [2, 3])], 'crop', [], y);
  return writer.nodes;
}

/**
 * The weights as G w Gᵀ, [A2, K, C], computed in the graph from the model's own weight, which
 * stays where it is (mapped from the model's file): onnxruntime folds these constant nodes when
 * the session is created, so the rewritten graph carries no weights and is made without reading
 * them. One product, U = (G ⊗ G) w, rather than K·C small ones (seconds to fold) or several
 * steps (each folded result another copy).
 */
function foldedWeights(writer: NodeWriter, f: Transform, wName: string, c: Candidate): string {
  const { float, int64, node, name: v } = writer;
  const A2 = (f.m + 2) ** 2;
  float('GG', [A2, 9], weightTransform(f));
  const flatW = node('Reshape', [wName, int64('w_flat_shape', [c.K * c.C, 9])], 'w_flat');
  const u = node('Gemm', [v('GG'), flatW], 'u', [attr.int('transB', 1)]); // [A2, K·C]
  return node('Reshape', [u, int64('u_shape', [A2, c.K, c.C])], 'weights');
}

function storedWeights(g: OnnxGraph, name: string, dims: number[]): string {
  g.addInitializer({ name, dataType: T.FLOAT, dims });
  return name;
}

/**
 * A 3×3 weight [K, C, 3, 3] as F(m×m, 3×3) multiplies it: G w Gᵀ for every (k, c), laid out
 * [a², K, C] as the rewritten graph reads it. Summed in double and rounded once.
 */
export function transformWinogradWeight(w: Float32Array, K: number, C: number, m: number): Float32Array {
  const f = m === F4.m ? F4 : m === F2.m ? F2 : undefined;
  if (!f) throw new Error(`no Winograd transform with ${m}×${m} output tiles`);
  if (w.length !== K * C * 9) throw new Error(`a [${K}, ${C}, 3, 3] weight has ${K * C * 9} values, not ${w.length}`);
  const a = m + 2;
  const out = new Float32Array(a * a * K * C);
  const plane = K * C;
  const gw = new Float64Array(a * 3);
  for (let kc = 0; kc < plane; kc++) {
    const base = kc * 9;
    // G w: [a, 3]
    for (let i = 0; i < a; i++) {
      const g0 = f.G[i][0], g1 = f.G[i][1], g2 = f.G[i][2];
      for (let v = 0; v < 3; v++) gw[i * 3 + v] = g0 * w[base + v] + g1 * w[base + 3 + v] + g2 * w[base + 6 + v];
    }
    // (G w) Gᵀ: [a, a]
    for (let i = 0; i < a; i++) {
      const r0 = gw[i * 3], r1 = gw[i * 3 + 1], r2 = gw[i * 3 + 2];
      for (let j = 0; j < a; j++) out[(i * a + j) * plane + kc] = r0 * f.G[j][0] + r1 * f.G[j][1] + r2 * f.G[j][2];
    }
  }
  return out;
}

/** Kernel [i·a + j][u][v] = Bᵀ[i][u] · Bᵀ[j][v]: tile d to Bᵀ d B. */
function inputTransform(f: Transform): Float32Array {
  const a = f.m + 2;
  const k = new Float32Array(a ** 4);
  for (let i = 0; i < a; i++) for (let j = 0; j < a; j++) for (let u = 0; u < a; u++) for (let v = 0; v < a; v++) {
    k[((i * a + j) * a + u) * a + v] = f.BT[i][u] * f.BT[j][v];
  }
  return k;
}

/** Row (i·a + j), column (u·3 + v) = G[i][u] · G[j][v]: a 3×3 weight to G w Gᵀ. */
function weightTransform(f: Transform): Float32Array {
  const a = f.m + 2;
  const t = new Float32Array(a * a * 9);
  for (let i = 0; i < a; i++) for (let j = 0; j < a; j++) for (let u = 0; u < 3; u++) for (let v = 0; v < 3; v++) {
    t[(i * a + j) * 9 + u * 3 + v] = f.G[i][u] * f.G[j][v];
  }
  return t;
}

/** Row (p·m + q), column (i·a + j) = Aᵀ[p][i] · Aᵀ[q][j]: products to Aᵀ M A. */
function outputTransform(f: Transform): Float32Array {
  const a = f.m + 2;
  const t = new Float32Array(f.m * f.m * a * a);
  for (let p = 0; p < f.m; p++) for (let q = 0; q < f.m; q++) for (let i = 0; i < a; i++) for (let j = 0; j < a; j++) {
    t[(p * f.m + q) * a * a + i * a + j] = f.AT[p][i] * f.AT[q][j];
  }
  return t;
}

