// Which model parameter each initializer of an exported ONNX graph holds, read from the nodes
// that use it. torch.onnx names nodes by module scope (`/down_blocks.0/resnets.0/conv1/Conv`),
// and the slot says the role: a Conv's or Gemm's 2nd input is `<module>.weight`, the 3rd its
// bias; a MatMul's 2nd input is a Linear weight stored transposed ([in, out], often named
// `onnx::MatMul_N`); a Mul by a constant is a norm's weight and an Add its bias (GroupNorm and
// LayerNorm are exported as arithmetic, with weights reshaped to [C, 1, 1]); a Gather's table is
// an embedding.
//
// The exporter merges initializers with equal values (the ones and zeros of freshly initialised
// norms, biases) and feeds the other users through Identity nodes: a trained checkpoint has
// different values there, so `unshare` first gives every user its own initializer.

import { onnx } from 'onnx-proto';
import { Node, OnnxGraph, intAttr } from '../onnx/graph/onnxGraph';
import { ModelError } from '../hub/errors';

export interface ParamSlot {
  /** The initializer (after unsharing) that receives the parameter. */
  initializer: string;
  /** diffusers parameter name, e.g. `down_blocks.0.resnets.0.conv1.weight`. */
  param: string;
  /** `transpose`: a Linear weight [out, in] (or a 1x1 conv [out, in, 1, 1]) stored as [in, out]. */
  layout: 'same' | 'transpose';
  dims: number[];
  dataType: number;
}

const FLOATS = new Set<number>([onnx.TensorProto.DataType.FLOAT, onnx.TensorProto.DataType.FLOAT16]);

/** Gives each Identity-fed user of an initializer its own copy (the Identity's output becomes an initializer). */
export function unshare(g: OnnxGraph): number {
  const graphOutputs = new Set(g.graph.output.map((o) => o.name));
  const remove = new Set<Node>();
  for (const node of g.nodes) {
    if (node.opType !== 'Identity') continue;
    const src = g.initializer(node.input?.[0] ?? '');
    const out = node.output?.[0];
    if (!src || !out || graphOutputs.has(out)) continue;
    g.addInitializer({ ...src, name: out });
    remove.add(node);
  }
  if (remove.size === 0) return 0;
  g.replaceNodes(remove, []);
  for (const t of [...g.graph.initializer]) {
    if (t.name && g.consumersOf(t.name).length === 0 && !graphOutputs.has(t.name)) g.removeInitializer(t.name);
  }
  return remove.size;
}

interface Use {
  node: Node;
  index: number;
  param?: string;
  layout?: 'same' | 'transpose';
  problem?: string;
}

function moduleOf(node: Node): string | undefined {
  const parts = (node.name ?? '').split('/').filter(Boolean);
  return parts.length >= 2 ? parts.slice(0, -1).join('.') : undefined;
}

function useOf(node: Node, index: number): Use {
  const module = moduleOf(node);
  if (!module) return { node, index };
  const op = node.opType;
  const at = (param: string, layout: 'same' | 'transpose' = 'same'): Use => ({ node, index, param: `${module}.${param}`, layout });
  if (op === 'Conv' && index === 1) return at('weight');
  if ((op === 'Conv' || op === 'Gemm') && index === 2) return at('bias');
  if (op === 'Gemm' && index === 1) return at('weight', intAttr(node, 'transB') === 1 ? 'same' : 'transpose');
  if (op === 'MatMul' && index === 1) return at('weight', 'transpose');
  if (op === 'Gather' && index === 0) return at('weight');
  if (op === 'Mul') return at('weight');
  if (op === 'Add') return at('bias');
  return { node, index, problem: `input ${index} of the ${op} node ${node.name}` };
}

/**
 * The parameter slots of a graph, with every initializer that holds a parameter in exactly one
 * slot (initializers used for two parameters are split). Float initializers used only by
 * unscoped nodes are constants of the graph, not parameters: `constants` lists them, kept as
 * they are. Throws when an initializer is used in a way no parameter is.
 */
export function paramSlots(g: OnnxGraph, what: string): { slots: ParamSlot[]; constants: string[] } {
  const slots: ParamSlot[] = [];
  const constants: string[] = [];
  const problems: string[] = [];
  for (const t of [...g.graph.initializer]) {
    const name = t.name ?? '';
    if (!FLOATS.has(t.dataType ?? 0)) continue;
    const uses: Use[] = [];
    for (const node of g.consumersOf(name)) {
      (node.input ?? []).forEach((inp, i) => {
        if (inp === name) uses.push(useOf(node, i));
      });
    }
    const scoped = uses.filter((u) => u.param !== undefined || u.problem !== undefined);
    if (scoped.length === 0) {
      constants.push(name);
      continue;
    }
    const unknown = scoped.find((u) => u.problem);
    if (unknown) {
      problems.push(`${name} (${unknown.problem})`);
      continue;
    }
    // One slot per distinct parameter; the first keeps the initializer, the others get copies.
    const byParam = new Map<string, Use[]>();
    for (const u of scoped) byParam.set(`${u.param}|${u.layout}`, [...(byParam.get(`${u.param}|${u.layout}`) ?? []), u]);
    let first = true;
    for (const group of byParam.values()) {
      let target = name;
      if (!first) {
        target = `${name}__${group[0].param}`;
        g.addInitializer({ ...t, name: target });
        for (const u of group) u.node.input![u.index] = target;
      }
      first = false;
      slots.push({ initializer: target, param: group[0].param!, layout: group[0].layout!, dims: (t.dims ?? []).map(Number), dataType: t.dataType ?? 0 });
    }
    // An initializer also read by unscoped nodes keeps its value for them under a copy.
    const plain = uses.filter((u) => u.param === undefined && u.problem === undefined);
    if (plain.length > 0) {
      const keep = `${name}__constant`;
      g.addInitializer({ ...t, name: keep });
      for (const u of plain) u.node.input![u.index] = keep;
      constants.push(keep);
    }
  }
  if (problems.length > 0) {
    throw new ModelError(
      'badInput',
      `${what}: ${problems.length} initializer(s) are used in a way no model parameter is, e.g. ${problems.slice(0, 3).join('; ')}. ` +
        'The base model must be a plain torch.onnx export of SD 1.5 (not optimised or fused); use sd15-onnx or another diffusers ONNX export as --base.',
    );
  }
  const seen = new Map<string, string>();
  for (const s of slots) {
    const other = seen.get(s.param);
    if (other) throw new ModelError('badInput', `${what}: the parameter ${s.param} appears twice (initializers ${other} and ${s.initializer}); the base graph is not a plain export.`);
    seen.set(s.param, s.initializer);
  }
  return { slots, constants };
}

/** Whether a checkpoint tensor of `shape` fits `slot`; else a description of the mismatch. */
export function shapeProblem(shape: number[], slot: ParamSlot): string | undefined {
  const squeeze = (d: number[]) => d.filter((x) => x !== 1);
  if (slot.layout === 'transpose') {
    // [out, in] or [out, in, 1, 1] -> [in, out]
    const core = shape.length > 2 && shape.slice(2).every((x) => x === 1) ? shape.slice(0, 2) : shape;
    if (core.length === 2 && slot.dims.length === 2 && core[0] === slot.dims[1] && core[1] === slot.dims[0]) return undefined;
  } else if (squeeze(shape).join('x') === squeeze(slot.dims).join('x')) {
    return undefined;
  }
  return `[${shape.join(', ')}] in the checkpoint, [${slot.dims.join(', ')}] in the base graph${slot.layout === 'transpose' ? ' (stored transposed)' : ''}`;
}
