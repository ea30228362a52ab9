// The VAE encoder: the rewrite of diffusers' exported graph (which samples inside itself with an
// unseeded RandomNormalLike) into one that outputs the distribution's mean and std, checked
// against the graph's own computation; encoders that output the parameters; the cache; the
// sampling with the torch generator.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ModelSession } from '../../../src/engine/onnx/session';
import { OnnxGraph } from '../../../src/engine/onnx/graph/onnxGraph';
import { LATENT_MEAN, LATENT_STD, exposeLatentDistribution } from '../../../src/engine/onnx/graph/vaeEncoderGraph';
import { TorchGenerator } from '../../../src/engine/rng/torchGenerator';
import { encodeLatentDistribution, sampleLatents, vaeEncoderGraph } from '../../../src/engine/pipeline/vaeEncoder';
import { toFloat32 } from '../../../src/engine/pipeline/tensors';
import { float32ToFloat16 } from '../../../src/engine/onnx/float16';
import { GraphBuilder } from '../../fixtures/onnx/graph';
import { buildVaeEncoder } from '../../fixtures/onnx/vae';
import { ensureFixture } from '../../fixtures/tinyPipeline';

const f32 = Math.fround;
const H = 32;
const W = 24;

/** A smooth test picture in [-1, 1], [1, 3, H, W]. */
function picture(): Float32Array {
  const out = new Float32Array(3 * H * W);
  for (let c = 0; c < 3; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) out[(c * H + y) * W + x] = f32(Math.sin(x / 5 + c) * Math.cos(y / 7 - c) * 0.9);
  return out;
}

async function runGraph(bytes: Uint8Array, image: Float32Array, fp16 = false): Promise<Record<string, Float32Array>> {
  const s = await ort.InferenceSession.create(bytes);
  try {
    const input = fp16 ? new ort.Tensor('float16', float32ToFloat16(image), [1, 3, H, W]) : new ort.Tensor('float32', image, [1, 3, H, W]);
    const out = await s.run({ sample: input });
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, toFloat32(v as ort.Tensor)]));
  } finally {
    await s.release();
  }
}

describe('VAE encoder: the latent distribution instead of an unseeded sample', function () {
  this.timeout(60000);
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-vaeenc-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('the fixture exports like diffusers: two runs of the same image give different latents', async () => {
    const bytes = buildVaeEncoder({ factor: 4, fp16: false });
    // RandomNormalLike, then a Cast, then the Mul by std: diffusers 0.30.3's SD v1.5 export
    // (../shared/data/sd15-structure) casts the draw, and that real form must be taken.
    const graph = new OnnxGraph(bytes);
    const draw = graph.nodes.find((n) => n.opType === 'RandomNormalLike');
    assert.deepEqual(graph.consumersOf(draw?.output?.[0]).map((n) => n.opType), ['Cast']);
    assert.deepEqual(graph.consumersOf(graph.consumersOf(draw?.output?.[0])[0].output?.[0]).map((n) => n.opType), ['Mul']);
    const s = await ort.InferenceSession.create(bytes);
    try {
      const feeds = { sample: new ort.Tensor('float32', picture(), [1, 3, H, W]) };
      const a = toFloat32((await s.run(feeds)).latent_sample);
      const b = toFloat32((await s.run(feeds)).latent_sample);
      assert.equal(a.length, 4 * (H / 4) * (W / 4));
      assert.notDeepEqual(a, b);
    } finally {
      await s.release();
    }
  });

  for (const fp16 of [false, true]) {
    it(`the rewrite outputs the mean and std the graph itself computes${fp16 ? ' (float16 export, through its Cast)' : ''}`, async () => {
      const g = new OnnxGraph(buildVaeEncoder({ factor: 4, fp16 }));
      const note = exposeLatentDistribution(g);
      assert.match(note ?? '', /latent_mean, latent_std/);
      assert.deepEqual(g.graph.output.map((o) => o.name), [LATENT_MEAN, LATENT_STD]);
      assert.ok(!g.nodes.some((n) => n.opType?.startsWith('Random')), 'no draw left');
      if (!fp16) assert.ok(!g.nodes.some((n) => n.opType === 'Cast'), 'nor its Cast');
      const image = picture();
      const rewritten = await runGraph(g.encode(), image, fp16);
      const { latent_mean: mean, latent_std: std } = rewritten;
      assert.ok(std.every((v) => v > 0.01 && v < 1), 'std = exp(0.5 * logvar) of the fixture');
      // The same graph with its draw replaced by the constant 0: the output is the mean, bit for bit.
      const zero = (await runGraph(buildVaeEncoder({ factor: 4, fp16, encoderNoise: 0 }), image, fp16)).latent_sample;
      assert.deepEqual(zero, mean);
      if (!fp16) {
        // ... and forced to 1: mean + std, one float32 addition.
        const one = (await runGraph(buildVaeEncoder({ factor: 4, fp16, encoderNoise: 1 }), image)).latent_sample;
        assert.deepEqual(one, Float32Array.from(mean, (m, i) => f32(m + std[i])));
      }
    });
  }

  it('leaves a graph that draws nothing alone, and refuses one that draws in another way', () => {
    const g = new GraphBuilder('plain');
    g.input('sample', 'float32', [1, 3, H, W]);
    g.op('Identity', ['sample'], {}, 'latent_parameters');
    g.output('latent_parameters', 'float32', [1, 3, H, W]);
    assert.equal(exposeLatentDistribution(new OnnxGraph(g.build().model)), undefined);

    const odd = new GraphBuilder('odd');
    const x = odd.input('sample', 'float32', [1, 3, H, W]);
    const eps = odd.op('RandomNormalLike', [x], { dtype: 1 });
    odd.op('Add', [x, eps], {}, 'latent_sample');
    odd.output('latent_sample', 'float32', [1, 3, H, W]);
    assert.throws(() => exposeLatentDistribution(new OnnxGraph(odd.build().model)), /not as mean \+ std \* noise.*not to one Mul/);
  });

  it('an encoder that outputs the parameters (optimum\'s latent_parameters) runs as it is: mean, and std = exp(0.5 * clamp(logvar, -30, 20))', async () => {
    const g = new GraphBuilder('moments');
    const x = g.input('sample', 'float32', ['batch', 3, 'height', 'width']);
    const pooled = g.op('AveragePool', [x], { kernel_shape: [4, 4], strides: [4, 4] });
    const w = new Float32Array(8 * 3).map((_, i) => ((i * 7) % 5) / 5 - 0.4);
    const b = new Float32Array([0.1, -0.2, 0.3, 0, -4, 40, -50, -1]);
    g.op('Conv', [pooled, g.weight('w', w, [8, 3, 1, 1]), g.weight('b', b, [8])], { kernel_shape: [1, 1] }, 'latent_parameters');
    g.output('latent_parameters', 'float32', ['batch', 8, 'lh', 'lw']);
    const dir = path.join(tmp, 'moments', 'vae_encoder');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'model.onnx'), g.build().model);
    const file = path.join(dir, 'model.onnx');
    assert.equal(await vaeEncoderGraph({ dir: path.dirname(dir), vaeEncoder: file }), undefined, 'no rewrite');
    const session = await ModelSession.create(file, { provider: 'cpu', threads: 1, label: 'vaeEncoder' });
    try {
      const image = picture();
      const dist = await encodeLatentDistribution(session, image, H, W, 4, () => assert.fail('no warning'));
      const params = toFloat32((await session.run({ sample: new ort.Tensor('float32', image, [1, 3, H, W]) })).latent_parameters);
      const plane = (H / 4) * (W / 4);
      assert.deepEqual(dist.mean, params.slice(0, 4 * plane));
      assert.deepEqual([dist.channels, dist.height, dist.width], [4, H / 4, W / 4]);
      for (let i = 0; i < 4 * plane; i++) {
        const logvar = Math.min(Math.max(params[4 * plane + i], -30), 20);
        assert.equal(dist.std[i], f32(Math.exp(f32(0.5 * logvar))));
      }
      // The clamp: channel 5's logvar is about 40 (std e^10), channel 6's about -50 (std e^-15).
      assert.equal(dist.std[plane], f32(Math.exp(10)));
      assert.equal(dist.std[2 * plane], f32(Math.exp(-15)));
    } finally {
      await session.dispose();
    }
  });

  it('vaeEncoderGraph: rewrites a diffusers export once, in memory, weights read from the model folder; a model without vae_encoder/ is a clear error', async () => {
    const model = await ensureFixture('tiny-a');
    const folder = { dir: model, vaeEncoder: path.join(model, 'vae_encoder', 'model.onnx') };
    const graph = await vaeEncoderGraph(folder);
    assert.ok(graph && graph.notes.length > 0);
    assert.equal(await vaeEncoderGraph(folder), graph, 'made once');
    const session = await ModelSession.create(folder.vaeEncoder, { provider: 'cpu', threads: 1, label: 'vaeEncoder', graph });
    try {
      assert.deepEqual(session.notes, graph.notes);
      assert.deepEqual(session.outputs.map((o) => o.name), [LATENT_MEAN, LATENT_STD]);
      const dist = await encodeLatentDistribution(session, picture(), H, W, 4, () => undefined);
      const again = await encodeLatentDistribution(session, picture(), H, W, 4, () => undefined);
      assert.deepEqual(again, dist, 'deterministic');
    } finally {
      await session.dispose();
    }
    await assert.rejects(vaeEncoderGraph({ dir: model, vaeEncoder: undefined }),
      /--init-image needs the model's VAE encoder.*vae_encoder[/\\]model\.onnx is missing.*models pull sd15-onnx/);
  });

  it('samples as DiagonalGaussianDistribution.sample: randn of the mean\'s size first, mean + std * eps, then * scaling_factor', () => {
    const mean = Float32Array.from({ length: 64 }, (_, i) => f32(Math.sin(i)));
    const std = Float32Array.from({ length: 64 }, (_, i) => f32(0.05 + i / 1000));
    const g = new TorchGenerator(42);
    const x = sampleLatents({ mean, std, channels: 4, height: 4, width: 4 }, g, 0.18215);
    const ref = new TorchGenerator(42);
    const eps = ref.randn(64);
    const sf = f32(0.18215);
    assert.deepEqual(x, Float32Array.from(mean, (m, i) => f32(sf * f32(m + f32(std[i] * eps[i])))));
    assert.deepEqual(g.randn(3), ref.randn(3), 'the stream goes on after exactly 64 draws');
  });
});
