// Where img2img and inpainting start: the generator draws in diffusers' order (encoder samples
// and noise), the initial latents, the 9-channel UNet's extra channels and the 4-channel blend.
// Every test would fail if one draw moved: the noise drawn before the encoder sample, the masked
// image's sample skipped for a 4-channel UNet, or the image encoded where diffusers does not.
import * as assert from 'node:assert/strict';
import { TorchGenerator } from '../../../src/engine/rng/torchGenerator';
import { createScheduler } from '../../../src/engine/schedulers/index';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { blendOutsideMask, readChannelConfig, startFromImage } from '../../../src/engine/pipeline/imageToImage';
import { GraphBuilder } from '../../fixtures/onnx/graph';
import type { LatentDistribution } from '../../../src/engine/pipeline/vaeEncoder';
import { SD15_CONFIG } from '../schedulers/helpers';

const f32 = Math.fround;
const C = 4;
const PLANE = 6 * 5;
const N = C * PLANE;
const SF = 0.18215;

function dist(phase: number): LatentDistribution {
  return {
    mean: Float32Array.from({ length: N }, (_, i) => f32(Math.sin(i + phase) * 3)),
    std: Float32Array.from({ length: N }, (_, i) => f32(0.05 + (i % 7) / 50)),
    channels: C,
    height: 6,
    width: 5,
  };
}

/** sampleLatents written out: scaling_factor * (mean + std * eps). */
function sample(d: LatentDistribution, eps: Float32Array): Float32Array {
  return Float32Array.from(d.mean, (m, i) => f32(f32(SF) * f32(m + f32(d.std[i] * eps[i]))));
}

/** The seed's stream cut in blocks of N: block k is the (k+1)-th randn(N) call. */
function blocks(seed: number, count: number): Float32Array[] {
  const g = new TorchGenerator(seed);
  return Array.from({ length: count }, () => g.randn(N));
}

const MASK = Float32Array.from({ length: PLANE }, (_, i) => (i % 5 >= 3 ? 1 : 0));

describe('img2img and inpainting starts (diffusers\' draw order)', () => {
  it('img2img: the encoder sample is drawn first, then the noise; latents = add_noise(sample, noise, timesteps[0])', () => {
    const scheduler = createScheduler('euler', SD15_CONFIG);
    scheduler.setTimesteps(10);
    const image = dist(0);
    const start = startFromImage({ scheduler, steps: 10, strength: 0.6, generator: new TorchGenerator(11), encoded: { image },
      scalingFactor: SF, latentChannels: C, latentSize: PLANE, inpaint: false });
    const [eps, noise] = blocks(11, 2);
    const reference = createScheduler('euler', SD15_CONFIG);
    reference.setTimesteps(10);
    // t_start = 4: sigma of the 5th timestep.
    const expected = reference.addNoise(sample(image, eps), noise, reference.timesteps[4]);
    assert.deepEqual(start.timesteps, reference.timesteps.slice(4));
    assert.deepEqual(start.noise, noise);
    assert.deepEqual(start.latents, expected);
    // The other order gives other latents: this test sees a swapped draw.
    assert.notDeepEqual(start.latents, reference.addNoise(sample(image, noise), eps, reference.timesteps[4]));
    assert.equal(start.extra, undefined);
    assert.equal(start.afterStep, undefined);
  });

  it('inpainting, 4-channel UNet: image sample, noise, then the masked image\'s sample (drawn though unused); the blend after each step', () => {
    const scheduler = createScheduler('ddim', SD15_CONFIG);
    scheduler.setTimesteps(10);
    const image = dist(0);
    const generator = new TorchGenerator(5);
    const start = startFromImage({ scheduler, steps: 10, strength: 0.5, generator, encoded: { image, latentMask: MASK },
      scalingFactor: SF, latentChannels: C, latentSize: PLANE, inpaint: true, inpaintingUnet: false });
    const [eps, noise, , next] = blocks(5, 4);
    const original = sample(image, eps);
    assert.deepEqual(start.noise, noise);
    assert.deepEqual(start.latents, scheduler.addNoise(original, noise, start.timesteps[0]));
    assert.deepEqual(generator.randn(N), next, 'three blocks drawn before the denoising loop');
    const current = Float32Array.from({ length: N }, (_, i) => i / 10);
    // After step k (not the last): the original re-noised to timesteps[k + 1] outside the mask.
    const blended = start.afterStep!(current, 1);
    assert.deepEqual(blended, blendOutsideMask(scheduler.addNoise(original, noise, start.timesteps[2]), current, MASK, C));
    for (let c = 0; c < C; c++) {
      assert.equal(blended[c * PLANE + 3], current[c * PLANE + 3], 'repainted: the step\'s latents');
      assert.notEqual(blended[c * PLANE + 1], current[c * PLANE + 1], 'kept: the re-noised original');
    }
    // After the last step: the original itself.
    assert.deepEqual(start.afterStep!(current, start.timesteps.length - 1), blendOutsideMask(original, current, MASK, C));
  });

  it('inpainting, 4-channel UNet at strength 1: the image is still encoded first; the start is noise * init_noise_sigma', () => {
    const scheduler = createScheduler('euler', SD15_CONFIG);
    scheduler.setTimesteps(8);
    const image = dist(1);
    const generator = new TorchGenerator(9);
    const start = startFromImage({ scheduler, steps: 8, strength: 1, generator, encoded: { image, latentMask: MASK },
      scalingFactor: SF, latentChannels: C, latentSize: PLANE, inpaint: true, inpaintingUnet: false });
    const [, noise, , next] = blocks(9, 4);
    const sigma = f32(scheduler.initNoiseSigma);
    assert.deepEqual(start.latents, Float32Array.from(noise, (v) => v * sigma));
    assert.deepEqual(start.timesteps, scheduler.timesteps);
    assert.deepEqual(generator.randn(N), next);
  });

  it('inpainting, 9-channel UNet at strength 1: no image sample; noise, then the masked image\'s; UNet input = latents, mask, masked latents', () => {
    const scheduler = createScheduler('pndm', SD15_CONFIG);
    scheduler.setTimesteps(6);
    const masked = dist(2);
    const generator = new TorchGenerator(21);
    const start = startFromImage({ scheduler, steps: 6, strength: 1, generator, encoded: { masked, latentMask: MASK },
      scalingFactor: SF, latentChannels: C, latentSize: PLANE, inpaint: true, inpaintingUnet: true });
    const [noise, eps, next] = blocks(21, 3);
    assert.deepEqual(start.latents, noise, 'PNDM\'s init_noise_sigma is 1');
    assert.deepEqual(start.extra, Float32Array.from([...MASK, ...sample(masked, eps)]));
    assert.equal(start.afterStep, undefined);
    assert.deepEqual(generator.randn(N), next);
  });

  it('inpainting, 9-channel UNet below strength 1: image sample, noise, masked image sample', () => {
    const scheduler = createScheduler('dpmpp-2m', SD15_CONFIG);
    scheduler.setTimesteps(10);
    const image = dist(0);
    const masked = dist(2);
    const start = startFromImage({ scheduler, steps: 10, strength: 0.7, generator: new TorchGenerator(4), encoded: { image, masked, latentMask: MASK },
      scalingFactor: SF, latentChannels: C, latentSize: PLANE, inpaint: true, inpaintingUnet: true });
    const [eps, noise, epsMasked] = blocks(4, 3);
    const reference = createScheduler('dpmpp-2m', SD15_CONFIG);
    reference.setTimesteps(10);
    reference.setBeginIndex!(3);
    assert.deepEqual(start.latents, reference.addNoise(sample(image, eps), noise, reference.timesteps[3]));
    assert.deepEqual(start.extra!.subarray(PLANE), sample(masked, epsMasked));
  });

  it('4 or 9 UNet channels: unet/config.json in_channels as diffusers reads it, else the graph\'s sample input or first convolution', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-channels-'));
    try {
      fs.mkdirSync(path.join(dir, 'unet'));
      fs.writeFileSync(path.join(dir, 'unet', 'config.json'), JSON.stringify({ in_channels: 9 }));
      assert.deepEqual(await readChannelConfig(dir), { unetInChannels: 9, latentChannels: 4 });
      // No config, the channel axis dynamic (as diffusers' conversion script exports it): conv_in's weights tell.
      fs.rmSync(path.join(dir, 'unet', 'config.json'));
      const g = new GraphBuilder('unet');
      const x = g.input('sample', 'float32', ['batch', 'channels', 'height', 'width']);
      g.op('Conv', [x, g.weight('conv_in', new Float32Array(8 * 9 * 9), [8, 9, 3, 3])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, 'out_sample');
      g.output('out_sample', 'float32', ['batch', 8, 'height', 'width']);
      fs.writeFileSync(path.join(dir, 'unet', 'model.onnx'), g.build().model);
      fs.mkdirSync(path.join(dir, 'vae_decoder'));
      fs.writeFileSync(path.join(dir, 'vae_decoder', 'config.json'), JSON.stringify({ latent_channels: 4 }));
      assert.deepEqual(await readChannelConfig(dir), { unetInChannels: 9, latentChannels: 4 });
      fs.writeFileSync(path.join(dir, 'unet', 'config.json'), JSON.stringify({ in_channels: 'nine' }));
      await assert.rejects(readChannelConfig(dir), /in_channels must be a whole number/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the blend is (1 - mask) * proper + mask * latents in float32, the mask broadcast over channels', () => {
    const proper = Float32Array.from({ length: 2 * 2 }, (_, i) => i + 0.5);
    const latents = Float32Array.from({ length: 2 * 2 }, (_, i) => -i);
    assert.deepEqual(Array.from(blendOutsideMask(proper, latents, Float32Array.from([0, 1]), 2)), [0.5, -1, 2.5, -3]);
  });
});
