// A one-graph model folder (graph and weights.pb, as large exports keep them) run twice on the
// same input `x`: with a convolution plan and without, for tests that compare a rewrite with the
// file's own graph.

import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ConvolutionPlanName } from '../../src/engine/onnx/graph/prepareGraph';
import { ModelSession } from '../../src/engine/onnx/session';
import { WeightRandom } from '../fixtures/onnx/random';

export interface PlanComparison {
  notes: { fast: string[]; plain: string[] };
  fast: ort.Tensor;
  plain: ort.Tensor;
}

export async function comparePlan(built: { model: Uint8Array; external?: Uint8Array }, plan: ConvolutionPlanName, dims: number[]): Promise<PlanComparison> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ci-plan-'));
  try {
    const file = path.join(dir, 'model.onnx');
    await fs.writeFile(file, built.model);
    if (built.external) await fs.writeFile(path.join(dir, 'weights.pb'), built.external);
    const feeds = { x: new ort.Tensor('float32', new WeightRandom(4).normals(dims.reduce((p, d) => p * d), 1), dims) };
    const run = async (convolutions?: ConvolutionPlanName) => {
      const s = await ModelSession.create(file, { provider: 'cpu', threads: 1, label: plan, convolutions });
      try {
        return { notes: s.notes, y: (await s.run(feeds)).y };
      } finally {
        await s.dispose();
      }
    };
    const fast = await run(plan);
    const plain = await run();
    return { notes: { fast: fast.notes, plain: plain.notes }, fast: fast.y, plain: plain.y };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
