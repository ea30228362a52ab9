// The VAE encoder as diffusers' ONNX conversion script exports it
// (scripts/convert_stable_diffusion_checkpoint_to_onnx.py: `vae.encode(sample).latent_dist.sample()`)
// draws its latent sample inside the graph: DiagonalGaussianDistribution splits the moments into
// mean and logvar, clamps logvar to [-30, 20], takes std = exp(0.5 * logvar), and returns
// mean + std * eps with eps from an unseeded RandomNormalLike, so no two runs agree and no seed
// can reproduce diffusers' image. This rewrite makes the graph output the distribution itself,
// `latent_mean` and `latent_std` (the inputs of that final Mul/Add), and drops the draw; the
// pipeline then samples with the torch-compatible generator exactly as
// DiagonalGaussianDistribution.sample does (randn of the mean's shape, mean + std * eps).

import { onnx } from 'onnx-proto';
import { Node, OnnxGraph } from './onnxGraph';

export const LATENT_MEAN = 'latent_mean';
export const LATENT_STD = 'latent_std';

const RANDOM_OPS = new Set(['RandomNormalLike', 'RandomNormal', 'RandomUniformLike', 'RandomUniform']);

/** Nodes that draw random numbers (ai.onnx domain). */
export function randomNodes(g: OnnxGraph): Node[] {
  return g.nodes.filter((n) => (n.domain ?? '') === '' && RANDOM_OPS.has(n.opType ?? ''));
}

/**
 * Rewrites `g` in place so that it outputs `latent_mean` and `latent_std` instead of the sampled
 * latents. Returns a note for logs, or undefined when the graph draws nothing (an export that
 * already outputs the distribution's parameters, used as it is). Throws, saying what it found,
 * when the graph draws noise in some other way than mean + std * eps.
 */
export function exposeLatentDistribution(g: OnnxGraph): string | undefined {
  const randoms = randomNodes(g);
  if (randoms.length === 0) return undefined;
  const fail = (what: string): never => {
    throw new Error(
      `the VAE encoder draws its latents inside the graph (${randoms.map((n) => n.opType).join(', ')}), but not as ` +
        `mean + std * noise the way diffusers' DiagonalGaussianDistribution.sample exports: ${what}`,
    );
  };
  if (randoms.length !== 1) fail(`${randoms.length} random nodes instead of one`);
  const random = randoms[0];
  if (random.opType !== 'RandomNormalLike' && random.opType !== 'RandomNormal') fail(`${random.opType} is not a normal distribution`);
  // diffusers 0.30's export casts the noise (randn_tensor's .to()) before the Mul.
  let eps = random.output?.[0];
  let uses = g.consumersOf(eps);
  while (uses.length === 1 && (uses[0].opType === 'Cast' || uses[0].opType === 'Identity')) {
    eps = uses[0].output?.[0];
    uses = g.consumersOf(eps);
  }
  const mul = uses[0];
  if (uses.length !== 1 || mul.opType !== 'Mul' || mul.input?.length !== 2) fail(`the noise goes to ${uses.map((n) => n.opType).join(', ') || 'nothing'}, not to one Mul`);
  const std = mul.input!.find((i) => i !== eps);
  if (!std || g.producer(std)?.opType !== 'Exp') fail('the noise is not multiplied by exp(0.5 * logvar)');
  const scaled = mul.output?.[0];
  const sums = g.consumersOf(scaled);
  const add = sums[0];
  if (sums.length !== 1 || add.opType !== 'Add' || add.input?.length !== 2) fail('std * noise is not added to the mean');
  const mean = add.input!.find((i) => i !== scaled);
  if (!mean) fail('the mean is missing');
  // The sample may reach the output through Casts (a float16 export computing in float32) or Identities.
  const tail: Node[] = [];
  let sample = add.output?.[0];
  const isOutput = (v: string | undefined) => g.graph.output.some((o) => o.name === v);
  while (!isOutput(sample)) {
    const next = g.consumersOf(sample);
    if (next.length !== 1 || (next[0].opType !== 'Cast' && next[0].opType !== 'Identity')) fail('mean + std * noise is not the graph output');
    tail.push(next[0]);
    sample = next[0].output?.[0];
  }
  const at = g.graph.output.findIndex((o) => o.name === sample);

  const old = g.graph.output[at];
  // mean and std go the sample's way to the output: the same Casts, then an Identity naming them.
  const route = (input: string, output: string): Node[] => {
    const nodes: Node[] = [];
    let v = input;
    tail.forEach((n, i) => {
      const o = `course_illustrator_${output}_${i}`;
      nodes.push(onnx.NodeProto.create({ ...n, name: o, input: [v], output: [o] }));
      v = o;
    });
    nodes.push(onnx.NodeProto.create({ opType: 'Identity', name: `course_illustrator_${output}`, input: [v], output: [output] }));
    return nodes;
  };
  g.replaceNodes(new Set([add, ...tail]), [...route(mean!, LATENT_MEAN), ...route(std!, LATENT_STD)]);
  const info = (name: string) => onnx.ValueInfoProto.create({ name, type: old.type ? onnx.TypeProto.create(old.type) : undefined });
  g.graph.output.splice(at, 1, info(LATENT_MEAN), info(LATENT_STD));
  const removed = g.removeDeadNodes();
  if (randomNodes(g).length > 0) fail('the draw is still used after the rewrite');
  g.sortNodes();
  return `outputs the latent distribution (${LATENT_MEAN}, ${LATENT_STD}) instead of an unseeded sample (${removed} nodes of the draw removed)`;
}
