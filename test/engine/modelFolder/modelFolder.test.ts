import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readModelFolder } from '../../../src/engine/modelFolder/modelFolder';
import { ensureFixture } from '../../fixtures/tinyPipeline';
import { copyFixture, TempModel } from '../../fixtures/tempCopy';

function rejectsWith(p: Promise<unknown>, ...patterns: (RegExp | string)[]): Promise<void> {
  return assert.rejects(p, (err: Error) => {
    for (const pat of patterns) {
      if (typeof pat === 'string') assert.ok(err.message.includes(pat), `"${err.message}" should include "${pat}"`);
      else assert.match(err.message, pat);
    }
    assert.equal((err as { kind?: string }).kind, 'modelError');
    return true;
  });
}

describe('readModelFolder', () => {
  it('reads the facts of tiny-a from its files (factor 4, weights.pb)', async () => {
    const dir = await ensureFixture('tiny-a');
    const m = await readModelFolder(dir);
    assert.equal(m.dir, dir);
    assert.equal(m.textEncoder, path.join(dir, 'text_encoder', 'model.onnx'));
    assert.equal(m.unet, path.join(dir, 'unet', 'model.onnx'));
    assert.equal(m.vaeDecoder, path.join(dir, 'vae_decoder', 'model.onnx'));
    assert.equal(m.vaeEncoder, path.join(dir, 'vae_encoder', 'model.onnx'));
    assert.equal(m.tokenizerDir, path.join(dir, 'tokenizer'));
    assert.deepEqual(m.externalData, [path.join(dir, 'unet', 'weights.pb')]);
    assert.equal(m.schedulerConfig._class_name, 'PNDMScheduler');
    assert.equal(m.schedulerConfig.steps_offset, 1);
    assert.equal(m.vaeScaleFactor, 4);
    assert.equal(m.vaeScalingFactor, 0.18215);
    assert.equal(m.sampleSize, 8);
  });

  it('reads tiny-b (factor 8, model.onnx_data) and accepts a relative path', async () => {
    const dir = await ensureFixture('tiny-b');
    const m = await readModelFolder(path.relative(process.cwd(), dir));
    assert.equal(m.dir, dir);
    assert.equal(m.vaeScaleFactor, 8);
    assert.deepEqual(m.externalData, [path.join(dir, 'unet', 'model.onnx_data')]);
  });

  describe('problems, each naming the file and the fix', () => {
    let m: TempModel;
    beforeEach(async () => {
      m = await copyFixture('tiny-a');
    });
    afterEach(async () => {
      await m.remove();
    });

    it('defaults without the optional config files: factor 8, 0.18215, sample size 64, no VAE encoder', async () => {
      await fs.rm(path.join(m.dir, 'vae_decoder', 'config.json'));
      await fs.rm(path.join(m.dir, 'unet', 'config.json'));
      await fs.rm(path.join(m.dir, 'vae_encoder'), { recursive: true });
      const f = await readModelFolder(m.dir);
      assert.equal(f.vaeScaleFactor, 8);
      assert.equal(f.vaeScalingFactor, 0.18215);
      assert.equal(f.sampleSize, 64);
      assert.equal(f.vaeEncoder, undefined);
    });

    it('works without model_index.json when the component folders are there', async () => {
      await fs.rm(path.join(m.dir, 'model_index.json'));
      assert.equal((await readModelFolder(m.dir)).vaeScaleFactor, 4);
    });

    it('missing unet/model.onnx', async () => {
      await fs.rm(path.join(m.dir, 'unet', 'model.onnx'));
      await rejectsWith(
        readModelFolder(m.dir),
        `${path.join(m.dir, 'unet', 'model.onnx')} is missing: the model folder is incomplete; download it again or point courseIllustrator.modelPath (VS Code) or --model (CLI) at a folder in the diffusers ONNX layout`,
      );
    });

    it('missing external weights, or weights cut short', async () => {
      const weights = path.join(m.dir, 'unet', 'weights.pb');
      const bytes = await fs.readFile(weights);
      await fs.writeFile(weights, bytes.subarray(0, bytes.length - 10));
      await rejectsWith(readModelFolder(m.dir), `${weights} is cut short (${bytes.length - 10} of at least ${bytes.length} bytes)`, /download the model again/);
      await fs.rm(weights);
      await rejectsWith(readModelFolder(m.dir), `${weights} is missing: unet/model.onnx keeps its weights in it`);
    });

    it('an empty model.onnx', async () => {
      await fs.writeFile(path.join(m.dir, 'vae_decoder', 'model.onnx'), '');
      await rejectsWith(readModelFolder(m.dir), `${path.join(m.dir, 'vae_decoder', 'model.onnx')} is empty or cut short (0 bytes)`);
    });

    it('missing scheduler config', async () => {
      const file = path.join(m.dir, 'scheduler', 'scheduler_config.json');
      await fs.rm(file);
      await rejectsWith(readModelFolder(m.dir), `${file} is missing`, /download it again/);
    });

    it('damaged JSON and bad values', async () => {
      const sched = path.join(m.dir, 'scheduler', 'scheduler_config.json');
      await fs.writeFile(sched, '{"_class_name": "PNDMScheduler",');
      await rejectsWith(readModelFolder(m.dir), `${sched} is not valid JSON`);
      await fs.writeFile(sched, '[1, 2]');
      await rejectsWith(readModelFolder(m.dir), `${sched} must hold a JSON object`);
      await fs.writeFile(sched, '{}');
      const vae = path.join(m.dir, 'vae_decoder', 'config.json');
      await fs.writeFile(vae, '{"block_out_channels": 4}');
      await rejectsWith(readModelFolder(m.dir), `${vae}: block_out_channels must be a list`);
      await fs.writeFile(vae, '{"scaling_factor": "0.18"}');
      await rejectsWith(readModelFolder(m.dir), `${vae}: scaling_factor must be a positive number`);
    });

    it('a hostile scheduler_config.json: each unbounded number is refused with the file, the key and the range', async () => {
      const sched = path.join(m.dir, 'scheduler', 'scheduler_config.json');
      const original = JSON.parse(await fs.readFile(sched, 'utf8'));
      const cases: [Record<string, unknown>, string][] = [
        [{ num_train_timesteps: 1e9 }, 'num_train_timesteps must be a whole number from 1 to 10000, got 1000000000'],
        [{ num_train_timesteps: 0 }, 'num_train_timesteps must be a whole number from 1 to 10000, got 0'],
        [{ num_train_timesteps: 12.5 }, 'num_train_timesteps must be a whole number from 1 to 10000, got 12.5'],
        [{ steps_offset: 1e12 }, 'steps_offset must be a whole number from 0 to 10000, got 1000000000000'],
        [{ original_inference_steps: -1 }, 'original_inference_steps must be a whole number from 1 to 10000, got -1'],
        [{ beta_end: 7 }, 'beta_end must be a number between 0 and 1 (not 0 or 1), got 7'],
        [{ beta_start: 0 }, 'beta_start must be a number between 0 and 1 (not 0 or 1), got 0'],
        [{ beta_start: '0.1' }, 'beta_start must be a number between 0 and 1 (not 0 or 1), got "0.1"'],
        [{ trained_betas: new Array(10001).fill(0.01) }, 'trained_betas must be null or a list of 1 to 10000 numbers, got 10001 entries'],
        [{ trained_betas: [0.01, 1e308] }, 'trained_betas[1] must be a number between 0 and 1 (not 0 or 1), got 1e+308'],
      ];
      for (const [extra, message] of cases) {
        await fs.writeFile(sched, JSON.stringify({ ...original, ...extra }));
        await rejectsWith(readModelFolder(m.dir), `${sched}: ${message}; fix the file or download the model again.`);
      }
      // Python's words for the infinities are numbers too, and out of range as well.
      await fs.writeFile(sched, '{"_class_name": "PNDMScheduler", "beta_end": Infinity}');
      await rejectsWith(readModelFolder(m.dir), `${sched}: beta_end must be a number between 0 and 1 (not 0 or 1), got Infinity`);
      // null and missing keys take the scheduler's defaults.
      await fs.writeFile(sched, JSON.stringify({ ...original, trained_betas: null, num_train_timesteps: null }));
      assert.equal((await readModelFolder(m.dir)).schedulerConfig.num_train_timesteps, null);
    });

    it('unbounded sizes in the other configs, and config files too large to be configs', async () => {
      const unet = path.join(m.dir, 'unet', 'config.json');
      await fs.writeFile(unet, '{"sample_size": 100000}');
      await rejectsWith(readModelFolder(m.dir), `${unet}: sample_size must be a whole number from 1 to 512 (images of at most 2048 pixels), got 100000`);
      await fs.writeFile(unet, '{"sample_size": [64, 1e300]}');
      await rejectsWith(readModelFolder(m.dir), `${unet}: sample_size must be a whole number from 1 to 512`, 'got 1e+300');
      await fs.writeFile(unet, '{"sample_size": [64, 64]}');
      assert.equal((await readModelFolder(m.dir)).sampleSize, 64);
      const vae = path.join(m.dir, 'vae_decoder', 'config.json');
      await fs.writeFile(vae, '{"scaling_factor": NaN}');
      await rejectsWith(readModelFolder(m.dir), `${vae}: scaling_factor must be a positive number, got NaN`);
      await fs.writeFile(vae, '{"scaling_factor": -Infinity}');
      await rejectsWith(readModelFolder(m.dir), `${vae}: scaling_factor must be a positive number, got -Infinity`);
      await fs.writeFile(vae, `{"x": "${'a'.repeat(5 * 1024 * 1024)}"}`);
      await rejectsWith(readModelFolder(m.dir), `${vae} is 5.0 MB; a config file is a few kilobytes`);
    });

    it('Git LFS pointers instead of the weights', async () => {
      const pointer = 'version https://git-lfs.github.com/spec/v1\noid sha256:4c6a\nsize 3438167540\n';
      const weights = path.join(m.dir, 'unet', 'weights.pb');
      await fs.writeFile(weights, pointer);
      await rejectsWith(readModelFolder(m.dir), `${weights} is a Git LFS pointer, not the file itself`, 'git lfs pull');
      const graph = path.join(m.dir, 'text_encoder', 'model.onnx');
      await fs.writeFile(graph, pointer);
      await rejectsWith(readModelFolder(m.dir), `${graph} is a Git LFS pointer`);
    });

    it('a Hugging Face cache entry: points at the snapshot inside', async () => {
      const entry = path.join(path.dirname(m.dir), 'models--org--sd');
      const snapshot = path.join(entry, 'snapshots', '0123abc');
      await fs.mkdir(path.dirname(snapshot), { recursive: true });
      await fs.rename(m.dir, snapshot);
      await rejectsWith(readModelFolder(entry), `use ${snapshot}`);
    });

    it('missing tokenizer files', async () => {
      await fs.rm(path.join(m.dir, 'tokenizer', 'merges.txt'));
      await rejectsWith(readModelFolder(m.dir), `${path.join(m.dir, 'tokenizer', 'merges.txt')} is missing`);
    });

    it('component folders missing and no model_index.json', async () => {
      await fs.rm(path.join(m.dir, 'model_index.json'));
      await fs.rm(path.join(m.dir, 'vae_decoder'), { recursive: true });
      await rejectsWith(readModelFolder(m.dir), `${path.join(m.dir, 'vae_decoder')}${path.sep} is missing (and there is no model_index.json)`);
    });

    it('a component folder instead of the model folder, or the folder above the model', async () => {
      await rejectsWith(readModelFolder(path.join(m.dir, 'unet')), `is one component of a model; use the folder above it, ${m.dir}`);
      await rejectsWith(readModelFolder(path.dirname(m.dir)), `is not a model folder but holds one: use ${m.dir}`);
    });

    it('a PyTorch diffusers folder or an SDXL model', async () => {
      await fs.rm(path.join(m.dir, 'unet', 'model.onnx'));
      await fs.writeFile(path.join(m.dir, 'unet', 'diffusion_pytorch_model.safetensors'), 'x');
      await rejectsWith(readModelFolder(m.dir), /is a PyTorch diffusers folder .* needs the ONNX export/);
      await fs.mkdir(path.join(m.dir, 'text_encoder_2'));
      await rejectsWith(readModelFolder(m.dir), /holds an SDXL model/);
    });
  });

  it('a folder that does not exist, a file, an unrelated folder', async () => {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ci-layout-'));
    try {
      await rejectsWith(readModelFolder(path.join(tmp, 'nope')), `${path.join(tmp, 'nope')} does not exist`, 'courseIllustrator.modelPath');
      await fs.writeFile(path.join(tmp, 'f.txt'), 'x');
      await rejectsWith(readModelFolder(path.join(tmp, 'f.txt')), 'is not a folder');
      await rejectsWith(readModelFolder(tmp), `${tmp} does not look like a Stable Diffusion model folder`);
      await fs.writeFile(path.join(tmp, 'v1-5-pruned.safetensors'), 'x');
      await rejectsWith(readModelFolder(tmp), /single-file checkpoint \(v1-5-pruned\.safetensors\)/);
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  });
});
