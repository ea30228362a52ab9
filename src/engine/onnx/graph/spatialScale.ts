// How far below the graph's input resolution each image tensor is, in halvings: 0 for a UNet's
// `sample` and its 64×64 blocks, 1 after the first strided convolution, back down after each
// upsample. The graphs' shapes are symbolic (any image size), so this follows the ops that change
// the resolution instead of computing sizes; a convolution's work is its weight's size times its
// pixels, so this is what tells a 1280-channel convolution at 32×32 latents (0.28 s a UNet step
// on 2 cores) from one with the same weight at 8×8 (0.02 s).

import { intAttr, intsAttr, Node, OnnxGraph } from './onnxGraph';

/** Ops whose output has the resolution of their image input (crops and pads of a few pixels included). */
const SAME_RESOLUTION = new Set([
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Sqrt', 'Neg', 'Abs', 'Sigmoid', 'Tanh', 'Relu', 'LeakyRelu', 'Elu', 'Erf',
  'Gelu', 'FastGelu', 'QuickGelu', 'Softplus', 'Mish', 'HardSigmoid', 'HardSwish', 'Clip', 'Identity', 'Cast',
  'Concat', 'InstanceNormalization', 'BatchNormalization', 'GroupNormalization', 'Slice', 'Pad', 'Dropout',
]);

/**
 * The scale of every value it can follow (name → halvings below the graph's 4-D inputs, which
 * are 0). A value missing from the map is not known to be an image at all.
 */
export function spatialScales(g: OnnxGraph): Map<string, number> {
  const scale = new Map<string, number>();
  for (const input of g.graph.input) {
    if (input.name && !g.initializer(input.name) && input.type?.tensorType?.shape?.dim?.length === 4) scale.set(input.name, 0);
  }
  for (const n of g.nodes) {
    const s = outputScale(g, n, scale);
    if (s !== undefined) for (const out of n.output ?? []) if (out) scale.set(out, s);
  }
  return scale;
}

function outputScale(g: OnnxGraph, n: Node, scale: ReadonlyMap<string, number>): number | undefined {
  const first = scale.get(n.input?.[0] ?? '');
  switch (n.opType) {
    case 'Conv':
    case 'MaxPool':
    case 'AveragePool':
      return first === undefined ? undefined : shifted(first, intsAttr(n, 'strides'), 1);
    case 'Resize':
    case 'Upsample': {
      // Resize (opset 11+): X, roi, scales, sizes; Upsample and Resize-10: X, scales.
      const factors = g.constantValues(n.input?.[n.opType === 'Resize' && n.input.length > 2 ? 2 : 1]);
      if (first === undefined || factors?.length !== 4) return undefined;
      return shifted(first, factors.slice(2), -1);
    }
    case 'DepthToSpace':
    case 'SpaceToDepth': {
      const b = intAttr(n, 'blocksize');
      return first === undefined || !b ? undefined : shifted(first, [b, b], n.opType === 'DepthToSpace' ? -1 : 1);
    }
    case 'Reshape': {
      // Back to the shape of an image (how exports write GroupNorm: a Reshape to [N, G, -1] and back).
      const shape = g.from(n.input?.[1], 'Shape');
      return shape && !shape.attribute?.length ? scale.get(shape.input?.[0] ?? '') : undefined;
    }
    default:
      if (!SAME_RESOLUTION.has(n.opType ?? '') || ((n.domain ?? '') !== '' && n.domain !== 'com.microsoft')) return undefined;
      for (const i of n.input ?? []) {
        const s = scale.get(i);
        if (s !== undefined) return s;
      }
      return undefined;
  }
}

/** `s` moved by log2 of equal power-of-two factors (sign: +1 for strides, -1 for upsampling). */
function shifted(s: number, factors: number[] | undefined, sign: 1 | -1): number | undefined {
  if (!factors || factors.length === 0) return s;
  const [h, w] = factors;
  const k = Math.log2(h);
  return h === w && Number.isInteger(k) ? s + sign * k : undefined;
}
