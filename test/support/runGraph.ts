import * as ort from 'onnxruntime-node';

/** Runs a one-input graph (`x`, [N, ...]) on one thread at 'extended', as the engine optimises, and returns its output `y`. */
export async function runGraph(model: Uint8Array, x: Float32Array, dims: number[]): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, graphOptimizationLevel: 'extended' });
  try {
    return (await s.run({ x: new ort.Tensor('float32', x, dims) })).y.data as Float32Array;
  } finally {
    await s.release();
  }
}
