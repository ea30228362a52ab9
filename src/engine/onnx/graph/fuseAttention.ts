// Rewrites the attention blocks of a diffusers export into com.microsoft MultiHeadAttention.
//
// Why: torch.onnx writes diffusers' attention as head reshapes, Q·Kᵀ, a scale, an add of zeros
// (baddbmm with beta 0), Softmax and ·V. At 64×64 latents every self-attention score tensor is
// 2 × 8 × 4096 × 4096 floats (1 GiB), and four element-wise passes run over it. onnxruntime's
// CPU MultiHeadAttention kernel takes the projected Q, K and V (3-D, no bias, no mask) and
// computes the same softmax(Q·Kᵀ·scale)·V in tiles (flash attention), without the score tensor.
//
// The pattern, per attention (names as in the export):
//   Qp ─Reshape[B,S,H,D]─Transpose(0,2,1,3)─Reshape[B·H,S,D]───────────────┐
//   Kp ─Reshape─Transpose(0,2,1,3)─Reshape─Transpose(0,2,1)─────────────MatMul─(Mul|Div scale)─(Add zeros)─(Cast)─Softmax─(Cast)─┐
//   Vp ─Reshape─Transpose(0,2,1,3)─Reshape─────────────────────────────────────────────────────────────────────────────────MatMul─Reshape[B,H,S,D]─Transpose(0,2,1,3)─Reshape[B,S,C] = O
// becomes O = MultiHeadAttention(Qp, Kp, Vp; num_heads = H, scale). Values the old chain also
// fed elsewhere stay computed; nodes left without consumers are removed.

import { Node, OnnxGraph, intsAttr, tensorValues } from './onnxGraph';

export interface AttentionFusion {
  fused: number;
  /** Attention-like Softmax nodes left as they were, with the reason. */
  skipped: string[];
}

interface Match {
  q: string;
  k: string;
  v: string;
  out: string;
  heads: number;
  /** undefined: 1/sqrt(head size), the kernel's default. */
  scale: number | undefined;
  /** The node producing `out`, replaced by MultiHeadAttention. */
  last: Node;
  name: string;
}

export function fuseAttention(g: OnnxGraph): AttentionFusion {
  const matches: Match[] = [];
  const skipped: string[] = [];
  for (const softmax of g.nodes.filter((n) => n.opType === 'Softmax')) {
    let m = matchAttention(g, softmax);
    if (typeof m === 'string') {
      const sdpa = matchSdpa(g, softmax);
      if (typeof sdpa !== 'string') m = sdpa;
    }
    if (typeof m === 'string') skipped.push(`${softmax.name}: ${m}`);
    else matches.push(m);
  }
  if (matches.length === 0) return { fused: 0, skipped };
  const added: Node[] = matches.map((m) => ({
    opType: 'MultiHeadAttention',
    domain: 'com.microsoft',
    name: `${m.name}/MultiHeadAttention`,
    input: [m.q, m.k, m.v],
    output: [m.out],
    attribute: [
      { name: 'num_heads', type: 2 /* INT */, i: m.heads },
      // Without a scale attribute the kernel uses 1/sqrt(head size), as torch's SDPA does.
      ...(m.scale === undefined ? [] : [{ name: 'scale', type: 1 /* FLOAT */, f: m.scale }]),
    ],
  }));
  g.replaceNodes(new Set(matches.map((m) => m.last)), added);
  g.useOpset('com.microsoft', 1);
  g.removeDeadNodes();
  g.sortNodes();
  return { fused: matches.length, skipped };
}

function matchAttention(g: OnnxGraph, softmax: Node): Match | string {
  const axis = softmax.attribute?.find((a) => a.name === 'axis');
  if (axis && ![-1, 2, 3].includes(Number(axis.i))) return 'softmax is not over the last axis';
  // Scores: (Cast)(Add(scaled, zeros) | scaled), scaled = Mul(MatMul, c) | Div(MatMul, c) | MatMul.
  let scores = skipCast(g, softmax.input?.[0]);
  const add = g.from(scores, 'Add');
  if (add) {
    const [a, b] = add.input ?? [];
    if (isZeros(g, b)) scores = a;
    else if (isZeros(g, a)) scores = b;
    else return 'the scores get a non-zero bias or mask';
  }
  let scale = 1;
  let scoresNode = g.producer(scores);
  if (scoresNode?.opType === 'Mul' || scoresNode?.opType === 'Div') {
    const [a, b] = scoresNode.input ?? [];
    const cb = scalar(g, b);
    const ca = scoresNode.opType === 'Mul' ? scalar(g, a) : undefined;
    if (cb !== undefined) {
      scale = scoresNode.opType === 'Mul' ? cb : 1 / cb;
      scores = a;
    } else if (ca !== undefined) {
      scale = ca;
      scores = b;
    } else return 'the scores are scaled by a non-constant';
    scoresNode = g.producer(scores);
  }
  if (scoresNode?.opType !== 'MatMul') return 'no Q·Kᵀ MatMul before the softmax';
  const [q3, kT] = scoresNode.input ?? [];
  const kTranspose = g.from(kT, 'Transpose');
  if (!kTranspose || !samePerm(intsAttr(kTranspose, 'perm'), [0, 2, 1])) return 'Kᵀ is not a (0,2,1) transpose';
  const q = headsToBatch(g, q3);
  const k = headsToBatch(g, kTranspose.input?.[0]);
  if (typeof q === 'string') return `query: ${q}`;
  if (typeof k === 'string') return `key: ${k}`;

  // Probabilities · V, then back from heads-in-batch to [B, S, C].
  const pv = timesV(g, softmax);
  if (typeof pv === 'string') return pv;
  const v = headsToBatch(g, pv.input?.[1]);
  if (typeof v === 'string') return `value: ${v}`;
  const back = batchToHeads(g, pv.output?.[0]);
  if (typeof back === 'string') return `output: ${back}`;
  if (q.heads !== k.heads || q.heads !== v.heads || q.heads !== back.heads) return 'Q, K, V and the output disagree on the number of heads';
  return {
    q: q.input,
    k: k.input,
    v: v.input,
    out: back.last.output![0],
    heads: q.heads,
    scale,
    last: back.last,
    name: blockName(softmax),
  };
}

/** X[B,S,C] ─Reshape[B,S,H,D]─Transpose(0,2,1,3)─Reshape[B·H,S,D]: returns X and H. */
function headsToBatch(g: OnnxGraph, value: string | null | undefined): { input: string; heads: number } | string {
  const r2 = g.from(value, 'Reshape');
  const t = g.from(r2?.input?.[0], 'Transpose');
  const r1 = g.from(t?.input?.[0], 'Reshape');
  if (!r2 || !t || !r1) return 'not a Reshape, Transpose, Reshape chain';
  if (!samePerm(intsAttr(t, 'perm'), [0, 2, 1, 3])) return 'the heads transpose is not (0,2,1,3)';
  const heads = shapeEntry(g, r1.input?.[1], 2, 4);
  if (heads === undefined) return 'the number of heads is not a constant of the graph';
  return { input: r1.input![0], heads };
}

/** Y[B·H,S,D] ─Reshape[B,H,S,D]─Transpose(0,2,1,3)─Reshape[B,S,C]: returns the last Reshape and H. */
function batchToHeads(g: OnnxGraph, value: string | null | undefined): { last: Node; heads: number } | string {
  const r1 = onlyUser(g, value);
  const t = onlyUser(g, r1?.output?.[0]);
  const r2 = onlyUser(g, t?.output?.[0]);
  if (r1?.opType !== 'Reshape' || t?.opType !== 'Transpose' || r2?.opType !== 'Reshape') return 'not a Reshape, Transpose, Reshape chain';
  if (!samePerm(intsAttr(t, 'perm'), [0, 2, 1, 3])) return 'the heads transpose is not (0,2,1,3)';
  const heads = shapeEntry(g, r1.input?.[1], 1, 4);
  if (heads === undefined) return 'the number of heads is not a constant of the graph';
  return { last: r2, heads };
}

/** Entry `index` of a Reshape's target shape of rank `rank`, when it is a constant. */
function shapeEntry(g: OnnxGraph, shape: string | null | undefined, index: number, rank: number): number | undefined {
  const whole = g.constantValues(shape);
  if (whole) return whole.length === rank && whole[index] > 0 ? whole[index] : undefined;
  const concat = g.from(shape, 'Concat');
  if (!concat || concat.input?.length !== rank) return undefined;
  const part = g.constantValues(concat.input[index]);
  return part?.length === 1 && part[0] > 0 ? part[0] : undefined;
}

/**
 * torch 2's export of F.scaled_dot_product_attention (diffusers' AttnProcessor2_0), heads kept
 * as their own dimension: Q, K, V each X ─Reshape[B,S,H,D]─Transpose(0,2,1,3); scores =
 * (Q·√s)·(Kᵀ·√s), or Q·Kᵀ·s; Softmax; ·V; then Transpose(0,2,1,3)─Reshape[B,S,C]. Without an
 * explicit scale, torch computes √s from the shape (s = 1/√D): then the kernel's default.
 */
function matchSdpa(g: OnnxGraph, softmax: Node): Match | string {
  let scores = skipCast(g, softmax.input?.[0]);
  let scale: number | undefined;
  const mulScores = g.from(scores, 'Mul');
  if (mulScores) {
    const [a, b] = mulScores.input ?? [];
    const c = scalar(g, b) ?? scalar(g, a);
    if (c === undefined) return 'the scores are scaled by a non-constant';
    scale = c;
    scores = scalar(g, b) !== undefined ? a : b;
  }
  const mm = g.from(scores, 'MatMul');
  if (!mm) return 'no Q·Kᵀ MatMul before the softmax';
  const q = unscaled(g, mm.input?.[0]);
  const k = unscaled(g, mm.input?.[1]);
  if (typeof q === 'string' || typeof k === 'string') return typeof q === 'string' ? q : (k as string);
  if (q.factor !== undefined || k.factor !== undefined) {
    if (scale !== undefined) return 'the scores are scaled twice';
    if (typeof q.factor === 'number' && typeof k.factor === 'number') scale = q.factor * k.factor;
    else if (q.factor !== k.factor || typeof q.factor !== 'string' || !fromShape(g, q.factor)) return 'Q and K are scaled differently';
    // else: the same √s from the query's shape on both, s = 1/√D: the kernel's default.
  }
  const q4 = headsFirst(g, q.value);
  if (typeof q4 === 'string') return `query: ${q4}`;
  // Kᵀ: Transpose(0,1,3,2) of K in [B,H,S,D], or straight from [B,S,H,D] with (0,2,3,1).
  const kT = g.from(k.value, 'Transpose');
  let k4: { input: string; heads: number } | string = 'Kᵀ is not a transpose';
  if (kT && samePerm(intsAttr(kT, 'perm'), [0, 1, 3, 2])) k4 = headsFirst(g, kT.input?.[0]);
  else if (kT && samePerm(intsAttr(kT, 'perm'), [0, 2, 3, 1])) {
    const r = g.from(kT.input?.[0], 'Reshape');
    const heads = r && shapeEntry(g, r.input?.[1], 2, 4);
    k4 = r && heads ? { input: r.input![0], heads } : 'Kᵀ does not come from a head reshape';
  }
  if (typeof k4 === 'string') return `key: ${k4}`;
  const pv = timesV(g, softmax);
  if (typeof pv === 'string') return pv;
  const v4 = headsFirst(g, pv.input?.[1]);
  if (typeof v4 === 'string') return `value: ${v4}`;
  const t = onlyUser(g, pv.output?.[0]);
  const r = onlyUser(g, t?.output?.[0]);
  if (t?.opType !== 'Transpose' || !samePerm(intsAttr(t, 'perm'), [0, 2, 1, 3]) || r?.opType !== 'Reshape') return 'output: not a Transpose(0,2,1,3), Reshape chain';
  if (q4.heads !== k4.heads || q4.heads !== v4.heads) return 'Q, K and V disagree on the number of heads';
  return { q: q4.input, k: k4.input, v: v4.input, out: r.output![0], heads: q4.heads, scale, last: r, name: blockName(softmax) };
}

/** X ─Mul(√s)─ or X: the value and its factor (a number, or the name of a computed one). */
function unscaled(g: OnnxGraph, value: string | null | undefined): { value: string; factor?: number | string } | string {
  const mul = g.from(value, 'Mul');
  if (!mul) return value ? { value } : 'a missing input';
  const [a, b] = mul.input ?? [];
  const cb = scalar(g, b);
  if (cb !== undefined) return { value: a!, factor: cb };
  const ca = scalar(g, a);
  if (ca !== undefined) return { value: b!, factor: ca };
  return { value: a!, factor: b! };
}

/** X[B,S,C] ─Reshape[B,S,H,D]─Transpose(0,2,1,3): returns X and H. */
function headsFirst(g: OnnxGraph, value: string | null | undefined): { input: string; heads: number } | string {
  const t = g.from(value, 'Transpose');
  const r = g.from(t?.input?.[0], 'Reshape');
  if (!t || !r || !samePerm(intsAttr(t, 'perm'), [0, 2, 1, 3])) return 'not a Reshape, Transpose(0,2,1,3) chain';
  const heads = shapeEntry(g, r.input?.[1], 2, 4);
  return heads === undefined ? 'the number of heads is not a constant of the graph' : { input: r.input![0], heads };
}

/** A √(1/√D) computed from a tensor's shape, as torch's export of SDPA's default scale is. */
function fromShape(g: OnnxGraph, value: string): boolean {
  if (g.producer(value)?.opType !== 'Sqrt') return false;
  const seen = new Set<string>();
  const walk = (v: string | null | undefined, depth: number): boolean => {
    const n = g.producer(v);
    if (!n || depth > 8 || seen.has(v!)) return false;
    seen.add(v!);
    return n.opType === 'Shape' || (n.input ?? []).some((i) => walk(i, depth + 1));
  };
  return walk(value, 0);
}

/** The MatMul of the probabilities (through a Cast, if any) with V. */
function timesV(g: OnnxGraph, softmax: Node): Node | string {
  let pv = onlyUser(g, softmax.output?.[0]);
  if (pv?.opType === 'Cast') pv = onlyUser(g, pv.output?.[0]);
  return pv?.opType === 'MatMul' ? pv : 'the probabilities do not go straight into a MatMul with V';
}

/** The attention block's scope, e.g. "/down_blocks.1/attentions.0/transformer_blocks.0/attn1". */
function blockName(softmax: Node): string {
  return (softmax.name ?? 'attention').replace(/\/Softmax[^/]*$/, '');
}

/** The one node using `value` for its data; Shape nodes reading only its dimensions do not count. */
function onlyUser(g: OnnxGraph, value: string | null | undefined): Node | undefined {
  const users = g.consumersOf(value).filter((n) => n.opType !== 'Shape');
  return users.length === 1 ? users[0] : undefined;
}

function skipCast(g: OnnxGraph, value: string | null | undefined): string | undefined {
  const cast = g.from(value, 'Cast');
  return (cast ? cast.input?.[0] : value) ?? undefined;
}

/** A value that is all zeros: a zero constant, or Mul(anything, 0) as baddbmm with beta 0 exports. */
function isZeros(g: OnnxGraph, value: string | null | undefined): boolean {
  const c = g.constantValues(value);
  if (c) return c.every((x) => x === 0);
  const mul = g.from(value, 'Mul');
  if (!mul) return false;
  return (mul.input ?? []).some((i) => {
    const v = g.constantValues(i);
    return v !== undefined && v.length === 1 && v[0] === 0;
  }) && (mul.input ?? []).some((i) => {
    // The other factor must be finite for 0·x to be 0: ConstantOfShape of a finite fill value.
    const src = g.producer(i);
    if (src?.opType !== 'ConstantOfShape') return false;
    const fill = src.attribute?.find((a) => a.name === 'value')?.t;
    return !fill || (tensorValues(fill) ?? [NaN]).every(Number.isFinite);
  });
}

function scalar(g: OnnxGraph, value: string | null | undefined): number | undefined {
  const v = g.constantValues(value);
  return v && v.length === 1 && Number.isFinite(v[0]) ? v[0] : undefined;
}

function samePerm(a: number[] | undefined, b: number[]): boolean {
  return !!a && a.length === b.length && a.every((x, i) => x === b[i]);
}
