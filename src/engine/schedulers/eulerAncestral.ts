// diffusers' EulerAncestralDiscreteScheduler (k-diffusion's sample_euler_ancestral, A1111's "Euler a").
// Every step draws fresh noise from the generator, shaped like the model output, after the Euler
// move, exactly where diffusers draws it, so that the torch-compatible stream stays in step.

import type { TorchGenerator } from '../rng/torchGenerator';
import type { Scheduler, SchedulerConfig, SchedulerStepOutput } from './scheduler';
import { TIMESTEP_SPACINGS, alphaTablesFromConfig, configChoice, configInt, type TimestepSpacing } from './betas';
import { SigmaScheduler } from './sigmaScheduler';
import { drawNoise, interpAtTimestep, predictOriginalAtSigma, trainingSigmas } from './sigmas';

const NAME = 'EulerAncestralDiscreteScheduler';
const f32 = Math.fround;

export class EulerAncestralDiscreteScheduler extends SigmaScheduler implements Scheduler {
  readonly numTrainTimesteps: number;
  readonly predictionType: 'epsilon' | 'v_prediction';
  readonly timestepSpacing: TimestepSpacing;
  readonly stepsOffset: number;
  private readonly trainSigmas: Float64Array;

  constructor(config: SchedulerConfig) {
    super(NAME);
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
    this.useTrainingSchedule(this.trainSigmas);
  }

  setTimesteps(numInferenceSteps: number): void {
    const timesteps = this.spacedTimesteps(numInferenceSteps);
    const sigmas = timesteps.map((t) => interpAtTimestep(t, this.trainSigmas));
    this.sigmas = Float32Array.from([...sigmas, 0]);
    this.timesteps = timesteps;
    this.stepIndex = null;
    this.beginIndex = null;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, generator?: TorchGenerator): SchedulerStepOutput {
    const i = this.beginStep(modelOutput, timestep, sample);
    const sigma = this.sigmas[i];
    const sigmaTo = this.sigmas[i + 1];
    // The scalar coefficients are float32 tensors in diffusers: round each operation the same way.
    const to2 = f32(sigmaTo * sigmaTo);
    const from2 = f32(sigma * sigma);
    const sigmaUp = f32(Math.sqrt(f32(f32(to2 * f32(from2 - to2)) / from2)));
    const sigmaDown = f32(Math.sqrt(f32(to2 - f32(sigmaUp * sigmaUp))));
    const dt = f32(sigmaDown - sigma);
    const x0 = predictOriginalAtSigma(this.predictionType, modelOutput, sample, sigma);
    const prev = new Float32Array(sample.length);
    for (let k = 0; k < sample.length; k++) prev[k] = sample[k] + ((sample[k] - x0[k]) / sigma) * dt;
    const noise = drawNoise(generator, modelOutput.length, NAME);
    for (let k = 0; k < prev.length; k++) prev[k] = prev[k] + noise[k] * sigmaUp;
    this.stepIndex = i + 1;
    return { prevSample: prev, predOriginalSample: Float32Array.from(x0) };
  }
}
