// diffusers' EulerAncestralDiscreteScheduler (k-diffusion's sample_euler_ancestral, A1111's "Euler a").
// Every step draws fresh noise from the generator, shaped like the model output, after the Euler
// move, exactly where diffusers draws it, so that the torch-compatible stream stays in step.

import type { TorchGenerator } from '../rng/torchGenerator';
import type { Scheduler, SchedulerConfig, SchedulerStepOutput } from './scheduler';
import {
  TIMESTEP_SPACINGS,
  alphaTablesFromConfig,
  configChoice,
  configInt,
  spacedTimesteps,
  type TimestepSpacing,
} from './betas';
import {
  checkSameLength,
  drawNoise,
  indexForTimestep,
  initNoiseSigmaFor,
  interpAtTimestep,
  scaleBySigma,
  trainingSigmas,
} from './sigmas';

const NAME = 'EulerAncestralDiscreteScheduler';
const f32 = Math.fround;

export class EulerAncestralDiscreteScheduler implements Scheduler {
  readonly numTrainTimesteps: number;
  readonly predictionType: 'epsilon' | 'v_prediction';
  readonly timestepSpacing: TimestepSpacing;
  readonly stepsOffset: number;
  private readonly trainSigmas: Float64Array;
  timesteps: number[];
  /** One more entry than timesteps: the sigma after the last step (0). */
  sigmas: Float32Array;
  private stepIndex: number | null = null;

  constructor(config: SchedulerConfig) {
    const tables = alphaTablesFromConfig(config, NAME, undefined, true);
    this.numTrainTimesteps = tables.numTrainTimesteps;
    if (config.prediction_type === 'sample') {
      throw new Error(
        `${NAME}: scheduler_config.json key "prediction_type" = "sample" is not implemented by this scheduler ` +
          '(as in diffusers); use "epsilon" or "v_prediction", or another scheduler.',
      );
    }
    this.predictionType = configChoice(config, 'prediction_type', ['epsilon', 'v_prediction'] as const, 'epsilon', NAME);
    this.timestepSpacing = configChoice(config, 'timestep_spacing', TIMESTEP_SPACINGS, 'linspace', NAME);
    this.stepsOffset = configInt(config, 'steps_offset', 0, NAME);
    this.trainSigmas = trainingSigmas(tables.alphasCumprod);
    const n = this.numTrainTimesteps;
    this.sigmas = new Float32Array(n + 1);
    for (let i = 0; i < n; i++) this.sigmas[i] = this.trainSigmas[n - 1 - i];
    this.timesteps = Array.from({ length: n }, (_, i) => n - 1 - i);
  }

  get initNoiseSigma(): number {
    return initNoiseSigmaFor(this.sigmas, this.timestepSpacing);
  }

  setTimesteps(numInferenceSteps: number): void {
    const timesteps = spacedTimesteps({
      spacing: this.timestepSpacing,
      numTrainTimesteps: this.numTrainTimesteps,
      numInferenceSteps,
      stepsOffset: this.stepsOffset,
      roundLinspace: false,
    }).map(f32);
    const sigmas = timesteps.map((t) => interpAtTimestep(t, this.trainSigmas));
    this.sigmas = Float32Array.from([...sigmas, 0]);
    this.timesteps = timesteps;
    this.stepIndex = null;
  }

  private currentIndex(timestep: number): number {
    if (this.stepIndex === null) this.stepIndex = indexForTimestep(this.timesteps, timestep, NAME);
    return this.stepIndex;
  }

  scaleModelInput(sample: Float32Array, timestep: number): Float32Array {
    return scaleBySigma(sample, this.sigmas[this.currentIndex(timestep)]);
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, generator?: TorchGenerator): SchedulerStepOutput {
    checkSameLength(NAME, modelOutput, sample);
    const i = this.currentIndex(timestep);
    if (i + 1 >= this.sigmas.length) {
      throw new Error(`${NAME}.step: called more times than there are timesteps; call setTimesteps again.`);
    }
    const sigma = this.sigmas[i];
    const sigmaTo = this.sigmas[i + 1];
    // The scalar coefficients are float32 tensors in diffusers: round each operation the same way.
    const to2 = f32(sigmaTo * sigmaTo);
    const from2 = f32(sigma * sigma);
    const sigmaUp = f32(Math.sqrt(f32(f32(to2 * f32(from2 - to2)) / from2)));
    const sigmaDown = f32(Math.sqrt(f32(to2 - f32(sigmaUp * sigmaUp))));
    const dt = f32(sigmaDown - sigma);
    const vOut = -sigma / Math.sqrt(sigma * sigma + 1);
    const vIn = 1 / (sigma * sigma + 1);
    const prev = new Float32Array(sample.length);
    const pred = new Float32Array(sample.length);
    for (let k = 0; k < sample.length; k++) {
      const s = sample[k];
      const m = modelOutput[k];
      const x0 = this.predictionType === 'epsilon' ? s - sigma * m : m * vOut + s * vIn;
      pred[k] = x0;
      prev[k] = s + ((s - x0) / sigma) * dt;
    }
    const noise = drawNoise(generator, modelOutput.length, NAME);
    for (let k = 0; k < prev.length; k++) prev[k] = prev[k] + noise[k] * sigmaUp;
    this.stepIndex = i + 1;
    return { prevSample: prev, predOriginalSample: pred };
  }

  /** Noises clean samples to the sigma of `timestep` (img2img / inpainting), as diffusers' add_noise. */
  addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array {
    const sigma = this.sigmas[indexForTimestep(this.timesteps, timestep, NAME)];
    return Float32Array.from(original, (v, k) => v + noise[k] * sigma);
  }
}
