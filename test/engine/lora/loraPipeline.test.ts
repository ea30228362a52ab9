import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Engine } from '../../../src/engine/engine';
import { readNpy } from '../../../src/engine/image/npy';
import { loraSet } from '../../../src/engine/lora/loraSet';
import { parseInfotext } from '../../../src/core/infotext';
import { copyFixture, TempModel } from '../../fixtures/tempCopy';
import { ensureFixture } from '../../fixtures/tinyPipeline';
import { WeightRandom } from '../../fixtures/onnx/random';
import { delta, kohyaTensors, mergedGraph, randomModule, safetensorsBytes, writeSafetensors } from './loraFixtures';

const C = 16;
const H = 32;
const Q = 'down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_q';
const CONV = 'down_blocks.0.resnets.0.conv1';
const TE_Q = 'text_model.encoder.layers.0.self_attn.q_proj';

describe('LoRAs in a whole job (tags, folders, infotext, warnings)', function () {
  this.timeout(180000);
  let tmp: string;
  let dir: string;
  let merged: TempModel;
  let engine: Engine;
  const rnd = new WeightRandom(77);
  const unet = { [Q]: randomModule(rnd, 4, C, C, [], 4), [CONV]: randomModule(rnd, 2, C, C, [3, 3], 2) };
  const te = { [TE_Q]: randomModule(rnd, 4, H, H, [], 4) };
  const files = () => ({ unet: path.join(dir, 'unet', 'model.onnx'), textEncoder: path.join(dir, 'text_encoder', 'model.onnx') });

  before(async () => {
    dir = await ensureFixture('tiny-lora');
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'lora-job-'));
    await writeSafetensors(path.join(tmp, 'loras', 'style.safetensors'), { ...kohyaTensors(unet, 'lora_unet_'), ...kohyaTensors(te, 'lora_te_') });
    // The same model with W + 0.7·(alpha/rank)·U·D merged in, made here from the test's own tensors.
    merged = await copyFixture('tiny-lora');
    const m = 0.7;
    await fs.writeFile(path.join(merged.dir, 'unet', 'model.onnx'), await mergedGraph(path.join(dir, 'unet', 'model.onnx'), new Map([
      ['onnx::MatMul_9001', delta(unet[Q], m, 'in-out')],
      ['down_blocks.0.resnets.0.conv1.weight', delta(unet[CONV], m, 'out-in')],
    ])));
    await fs.writeFile(path.join(merged.dir, 'text_encoder', 'model.onnx'), await mergedGraph(path.join(dir, 'text_encoder', 'model.onnx'), new Map([
      ['onnx::MatMul_2262', delta(te[TE_Q], m, 'in-out')],
    ])));
    engine = new Engine({ provider: 'cpu', threads: 1 });
  });
  after(async () => {
    await engine.dispose();
    await merged.remove();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  const job = { prompt: 'a red blood cell', seed: 11, steps: 4, guidance: 7.5, scheduler: 'euler' };
  const latents = async (model: string, extra: Record<string, unknown>, name: string) => {
    const npy = path.join(tmp, `${name}.npy`);
    const r = await engine.generate({ model, ...job, outFile: path.join(tmp, `${name}.png`), saveLatents: npy, overwrite: true, ...extra });
    return { data: (await readNpy(npy)).data, infotext: r.images[0].infotext };
  };

  it('<lora:NAME:MULT> gives the merged model\'s latents; the tag stays in the parameters with its hash', async () => {
    const got = await latents(dir, { prompt: `${job.prompt} <lora:style:0.7>`, loraDirs: [path.join(tmp, 'empty'), path.join(tmp, 'loras')] }, 'lora');
    const want = await latents(merged.dir, {}, 'merged');
    const base = await latents(dir, {}, 'base');
    let diff = 0;
    let effect = 0;
    for (let i = 0; i < want.data.length; i++) {
      diff = Math.max(diff, Math.abs(got.data[i] - want.data[i]));
      effect = Math.max(effect, Math.abs(base.data[i] - want.data[i]));
    }
    assert.ok(effect > 1e-2, `the LoRA changes the latents (${effect})`);
    assert.ok(diff < 1e-4, `LoRA branches vs merged weights: ${diff}`);
    const info = parseInfotext(got.infotext);
    assert.equal(info.prompt, 'a red blood cell <lora:style:0.7>');
    const hash = (await loraSet(files(), 'cpu', [{ path: path.join(tmp, 'loras', 'style.safetensors'), multiplier: 0.7, name: 'style' }])).applied[0].shortHash;
    assert.match(hash, /^[0-9a-f]{12}$/);
    assert.equal(info.fields['Lora hashes'], `style: ${hash}`);
    assert.match(got.infotext, new RegExp(`Lora hashes: "style: ${hash}"`));
  });

  it('multiplier 0, and back to no LoRA on the same engine, give the base latents exactly', async () => {
    const base = await latents(dir, {}, 'base2');
    const zero = await latents(dir, { loras: [{ path: path.join(tmp, 'loras', 'style.safetensors'), multiplier: 0 }] }, 'zero');
    await latents(dir, { loras: [{ path: path.join(tmp, 'loras', 'style.safetensors'), multiplier: 1 }] }, 'one');
    const again = await latents(dir, {}, 'again');
    assert.deepEqual([...zero.data], [...base.data]);
    assert.deepEqual([...again.data], [...base.data]);
    assert.doesNotMatch(base.infotext, /Lora hashes/);
  });

  it('an unknown name says which folders were searched', async () => {
    await assert.rejects(engine.generate({ model: dir, ...job, prompt: 'x <lora:nope>', loraDirs: [path.join(tmp, 'loras')], outDir: tmp }),
      /<lora:nope>: there is no nope\.safetensors in the LoRA folder .*loras\. Check the name/);
    await assert.rejects(engine.generate({ model: dir, ...job, prompt: 'x <lora:nope>', outDir: tmp }), /no LoRA folder is set: give --lora-dir DIR/);
  });

  it('warns about keys it does not apply, and refuses a LoRA for another model', async () => {
    const other = randomModule(rnd, 2, C, C);
    const file = await writeSafetensors(path.join(tmp, 'mixed.safetensors'), {
      ...kohyaTensors({ [Q]: other, 'up_blocks.3.attentions.2.transformer_blocks.0.attn1.to_k': other }, 'lora_unet_'),
      ...kohyaTensors({ 'down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k': other }, 'lora_unet_'), // to_k is 32 -> 16 here
      'lora_unet_mid_block_resnets_0_conv1.hada_w1_a': other.down,
    });
    const set = await loraSet(files(), 'cpu', [{ path: file, multiplier: 1, name: 'mixed' }]);
    assert.equal(set.applied[0].modules, 1);
    assert.equal(set.warnings.length, 1);
    assert.match(set.warnings[0], /^LoRA mixed: 3 keys not applied: /);
    assert.match(set.warnings[0], /hada_w1_a: not a LoRA key this engine knows/);
    assert.match(set.warnings[0], /up_blocks_3_attentions_2_transformer_blocks_0_attn1_to_k: no such layer in this model/);
    assert.match(set.warnings[0], /attn2_to_k: the LoRA is 16 -> 16 but .*to_k\/MatMul is 32 -> 16/);

    const sdxl = path.join(tmp, 'sdxl.safetensors');
    await fs.writeFile(sdxl, safetensorsBytes(kohyaTensors({ 'input_blocks.4.1.proj_in': other }, 'lora_unet_')));
    await assert.rejects(loraSet(files(), 'cpu', [{ path: sdxl, multiplier: 1, name: 'sdxl' }]), /changes none of this model's layers .* is it a LoRA for Stable Diffusion 1\.5\?/);
    const broken = path.join(tmp, 'broken.safetensors');
    await fs.writeFile(broken, Buffer.from('not a safetensors file at all'));
    await assert.rejects(engine.generate({ model: dir, ...job, loras: [{ path: broken, multiplier: 1 }], outDir: tmp }), /broken\.safetensors is not a valid \.safetensors file/);
  });
});
