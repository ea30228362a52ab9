import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { OnnxGraph } from '../../../src/engine/onnx/graph/onnxGraph';
import { fuseAttention } from '../../../src/engine/onnx/graph/fuseAttention';
import { ModelSession } from '../../../src/engine/onnx/session';
import { ATTENTION_SIZES, AttentionVariant, buildAttention, buildSdpaAttention } from '../../fixtures/attentionGraph';
import { WeightRandom } from '../../fixtures/onnx/random';

const { batch: B, seq: S, context: L, channels: C } = ATTENTION_SIZES;

function feeds(variant: AttentionVariant): Record<string, ort.Tensor> {
  const rnd = new WeightRandom(99);
  const f: Record<string, ort.Tensor> = { hidden_states: new ort.Tensor('float32', rnd.normals(B * S * C, 1), [B, S, C]) };
  if (variant === 'unet-cross') f.encoder_hidden_states = new ort.Tensor('float32', rnd.normals(B * L * C, 1), [B, L, C]);
  return f;
}

async function run(model: Uint8Array, variant: AttentionVariant): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'disabled', logSeverityLevel: 4 });
  try {
    return (await s.run(feeds(variant))).out.data as Float32Array;
  } finally {
    await s.release();
  }
}

function maxRelativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

describe('attention fusion (diffusers exports -> com.microsoft MultiHeadAttention)', () => {
  for (const [variant, heads] of [['unet-self', 2], ['unet-cross', 2], ['vae', 1]] as const) {
    it(`rewrites ${variant} attention into one MultiHeadAttention with the same output`, async () => {
      const { model } = buildAttention(variant);
      const g = new OnnxGraph(model);
      const before = g.nodes.length;
      const r = fuseAttention(g);
      assert.deepEqual(r, { fused: 1, skipped: [] });
      const ops = g.nodes.map((n) => n.opType);
      assert.ok(!ops.includes('Softmax'), `no Softmax left: ${ops.join(' ')}`);
      const mha = g.nodes.filter((n) => n.opType === 'MultiHeadAttention');
      assert.equal(mha.length, 1);
      assert.equal(mha[0].domain, 'com.microsoft');
      assert.equal(Number(mha[0].attribute?.find((a) => a.name === 'num_heads')?.i), heads);
      const scale = mha[0].attribute?.find((a) => a.name === 'scale')?.f ?? NaN;
      assert.ok(Math.abs(scale - 1 / Math.sqrt(C / heads)) < 1e-6, `scale ${scale}`);
      assert.ok(g.nodes.length < before, `${before} -> ${g.nodes.length} nodes`);
      const err = maxRelativeError(await run(g.encode(), variant), await run(model, variant));
      console.log(`      · ${variant}: ${before} -> ${g.nodes.length} nodes, max relative error ${err.toExponential(2)}`);
      assert.ok(err < 1e-5, `max relative error ${err}`);
    });
  }

  for (const dynamic of [false, true]) {
    it(`rewrites torch 2's scaled_dot_product_attention export (scale ${dynamic ? 'from the shape' : 'constant'}) with the same output`, async () => {
      const { model } = buildSdpaAttention(dynamic);
      const g = new OnnxGraph(model);
      const r = fuseAttention(g);
      assert.deepEqual(r, { fused: 1, skipped: [] });
      const mha = g.nodes.find((n) => n.opType === 'MultiHeadAttention');
      assert.equal(Number(mha?.attribute?.find((a) => a.name === 'num_heads')?.i), 2);
      const scale = mha?.attribute?.find((a) => a.name === 'scale')?.f;
      if (dynamic) assert.equal(scale, undefined, 'the kernel\'s default, 1/sqrt(head size)');
      else assert.ok(Math.abs((scale ?? 0) - 1 / Math.sqrt(C / 2)) < 1e-6);
      const err = maxRelativeError(await run(g.encode(), 'unet-cross'), await run(model, 'unet-cross'));
      console.log(`      · sdpa ${dynamic ? 'dynamic' : 'constant'}: max relative error ${err.toExponential(2)}`);
      assert.ok(err < 1e-5, `max relative error ${err}`);
    });
  }

  it('leaves attention with a real bias on the scores alone, and says why', () => {
    const { model } = buildAttention('masked');
    const g = new OnnxGraph(model);
    const before = g.encode().length;
    const r = fuseAttention(g);
    assert.equal(r.fused, 0);
    assert.equal(r.skipped.length, 1);
    assert.match(r.skipped[0], /non-zero bias or mask/);
    assert.equal(g.encode().length, before, 'the graph is unchanged');
  });

  it('runs the rewritten graph in ModelSession with the weights read from the model folder, not copied', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ci-mha-'));
    try {
      const { model, external } = buildAttention('unet-cross', 'weights.pb');
      assert.ok(external && external.length > 0, 'the fixture keeps its weights in weights.pb, as large exports do');
      const file = path.join(dir, 'model.onnx');
      await fs.writeFile(file, model);
      await fs.writeFile(path.join(dir, 'weights.pb'), external);
      const fused = await ModelSession.create(file, { provider: 'cpu', threads: 1, label: 'unet' });
      const plain = await ModelSession.create(file, { provider: 'cpu', threads: 1, label: 'unet', rewrite: false });
      try {
        assert.deepEqual(fused.notes, ['1 attention block as MultiHeadAttention']);
        assert.deepEqual(plain.notes, []);
        assert.deepEqual(fused.inputs, plain.inputs);
        const a = (await fused.run(feeds('unet-cross'))).out.data as Float32Array;
        const b = (await plain.run(feeds('unet-cross'))).out.data as Float32Array;
        assert.ok(maxRelativeError(a, b) < 1e-5);
      } finally {
        await fused.dispose();
        await plain.dispose();
      }
      // A missing weights file is still reported as such, through the file's own graph.
      await fs.rm(path.join(dir, 'weights.pb'));
      await assert.rejects(ModelSession.create(file, { provider: 'cpu', threads: 1, label: 'unet' }), /weights\.pb is missing/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
