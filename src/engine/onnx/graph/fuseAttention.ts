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
  scale: number;
  /** The node producing `out`, replaced by MultiHeadAttention. */
  last: Node;
  name: string;
}

export function fuseAttention(g: OnnxGraph): AttentionFusion {
  const matches: Match[] = [];
  const skipped: string[] = [];
  for (const softmax of g.nodes.filter((n) => n.opType === 'Softmax')) {
    const m = matchAttention(g, softmax);
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
      { name: 'scale', type: 1 /* FLOAT */, f: m.scale },
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
  if (axis && Number(axis.i) !== -1 && Number(axis.i) !== 2) return 'softmax is not over the last axis';
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
  let pv = onlyUser(g, softmax.output?.[0]);
  if (pv?.opType === 'Cast') pv = onlyUser(g, pv.output?.[0]);
  if (pv?.opType !== 'MatMul') return 'the probabilities do not go straight into a MatMul with V';
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
    name: (softmax.name ?? 'attention').replace(/\/Softmax[^/]*$/, ''),
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
