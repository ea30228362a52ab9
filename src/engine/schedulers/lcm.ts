// diffusers' LCMScheduler (Latent Consistency Models, arXiv 2310.04378): a few timesteps picked
// from the distillation schedule, the consistency boundary condition (c_skip, c_out) on the
// predicted x0, and fresh noise from the generator on every step but the last.

import type { TorchGenerator } from '../rng/torchGenerator';
import type { Scheduler, SchedulerConfig, SchedulerStepOutput } from './scheduler';
import { AlphaScheduler } from './alphaScheduler';
import {
  alphaTablesFromConfig,
  axpbyF32,
  clipPredictedSample,
  configBool,
  configChoice,
  configInt,
  configNumber,
  descendingTimesteps,
  predictOriginalF32,
  readSampleClipping,
  TIMESTEP_SPACINGS,
  type SampleClipping,
  type TimestepSpacing,
} from './betas';
import { PREDICTION_TYPES, type PredictionType } from './ddim';

const f32 = Math.fround;
const NAME = 'LCMScheduler';
const SIGMA_DATA_SQUARED = 0.25; // sigma_data = 0.5

export class LCMScheduler extends AlphaScheduler implements Scheduler {
  readonly originalInferenceSteps: number;
  readonly timestepScaling: number;
  readonly predictionType: PredictionType;
  /** Read and validated for diffusers parity; LCM's schedule ignores it (diffusers does too). */
  readonly timestepSpacing: TimestepSpacing;
  readonly clipping: SampleClipping;
  private stepIndex: number | undefined;
  /** diffusers' _begin_index: set by the pipeline (img2img), cleared by setTimesteps. */
  private beginIndex: number | undefined;

  constructor(config: SchedulerConfig) {
    super(
      NAME,
      alphaTablesFromConfig(
        config,
        NAME,
        { numTrainTimesteps: 1000, betaStart: 0.00085, betaEnd: 0.012, betaSchedule: 'scaled_linear' },
        true,
      ),
      configBool(config, 'set_alpha_to_one', true, NAME),
    );
    this.originalInferenceSteps = configInt(config, 'original_inference_steps', 50, NAME, 1);
    this.timestepScaling = configNumber(config, 'timestep_scaling', 10, NAME);
    this.predictionType = configChoice(config, 'prediction_type', PREDICTION_TYPES, 'epsilon', NAME);
    this.timestepSpacing = configChoice(config, 'timestep_spacing', TIMESTEP_SPACINGS, 'leading', NAME);
    configInt(config, 'steps_offset', 0, NAME);
    this.clipping = readSampleClipping(config, NAME, false);
    this.timesteps = descendingTimesteps(this.numTrainTimesteps);
  }

  /**
   * `strength` < 1 (img2img) shortens the distillation schedule the timesteps are taken from, as
   * diffusers' set_timesteps(strength=...) does.
   */
  setTimesteps(numInferenceSteps: number, strength = 1): void {
    this.checkStepCount(numInferenceSteps);
    const originalSteps = this.originalInferenceSteps;
    if (originalSteps > this.numTrainTimesteps) {
      throw new Error(
        `${NAME}: original_inference_steps (${originalSteps}) cannot be larger than num_train_timesteps ` +
          `(${this.numTrainTimesteps}); fix scheduler/scheduler_config.json.`,
      );
    }
    if (numInferenceSteps > this.numTrainTimesteps) {
      throw new Error(
        `${NAME}.setTimesteps: ${numInferenceSteps} steps is more than num_train_timesteps (${this.numTrainTimesteps}).`,
      );
    }
    // The distillation schedule: every k-th training timestep, k = N // original_steps.
    const k = Math.floor(this.numTrainTimesteps / originalSteps);
    const originCount = Math.floor(originalSteps * strength);
    const origin: number[] = [];
    for (let i = originCount; i >= 1; i--) origin.push(i * k - 1);
    if (Math.floor(origin.length / numInferenceSteps) < 1) {
      throw new Error(
        `${NAME}.setTimesteps: ${numInferenceSteps} steps is more than the ${originCount} timesteps of the LCM ` +
          `schedule (original_inference_steps ${originalSteps} x strength ${strength}); use at most ${originCount} steps.`,
      );
    }
    if (numInferenceSteps > originalSteps) {
      throw new Error(
        `${NAME}.setTimesteps: ${numInferenceSteps} steps is more than original_inference_steps (${originalSteps}).`,
      );
    }
    // Evenly spaced indices: floor(np.linspace(0, len, num, endpoint=False)).
    const stride = origin.length / numInferenceSteps;
    this.timesteps = Array.from({ length: numInferenceSteps }, (_, i) => origin[Math.floor(i * stride)]);
    this.numInferenceSteps = numInferenceSteps;
    this.stepIndex = undefined;
    this.beginIndex = undefined;
  }

  /** diffusers' set_begin_index: the first step's index, whatever timestep it is given. */
  setBeginIndex(beginIndex: number): void {
    if (!Number.isInteger(beginIndex) || beginIndex < 0 || beginIndex >= this.timesteps.length) {
      throw new Error(`${NAME}.setBeginIndex: ${beginIndex} is not an index of the ${this.timesteps.length} timesteps.`);
    }
    this.beginIndex = beginIndex;
  }

  /** The consistency-model boundary condition at `timestep`, in float32 (c_skip, c_out). */
  boundaryScalings(timestep: number): { cSkip: number; cOut: number } {
    const scaled = f32(timestep * f32(this.timestepScaling));
    const denominator = f32(f32(scaled * scaled) + SIGMA_DATA_SQUARED);
    return {
      cSkip: f32(SIGMA_DATA_SQUARED / denominator),
      cOut: f32(scaled / f32(Math.sqrt(denominator))),
    };
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, generator?: TorchGenerator): SchedulerStepOutput {
    const numInferenceSteps = this.requireTimesteps();
    this.checkSameLength(modelOutput, sample);
    if (this.stepIndex === undefined) this.stepIndex = this.beginIndex ?? this.indexForTimestep(timestep);
    const index = this.stepIndex;

    const prevTimestep = index + 1 < this.timesteps.length ? this.timesteps[index + 1] : timestep;
    const alphaProdT = this.alphaProd(timestep);
    const alphaProdPrev = this.alphaProd(prevTimestep);
    const sqrtAlpha = f32(Math.sqrt(alphaProdT));
    const sqrtBeta = f32(Math.sqrt(f32(1 - alphaProdT)));
    const { cSkip, cOut } = this.boundaryScalings(timestep);

    const predOriginal = predictOriginalF32(this.predictionType, modelOutput, sample, sqrtAlpha, sqrtBeta);
    clipPredictedSample(predOriginal, this.clipping);

    const denoised = axpbyF32(cOut, predOriginal, cSkip, sample);

    let prevSample = denoised;
    // No noise on the last step (so none at all for one-step sampling).
    if (index !== numInferenceSteps - 1) {
      if (!generator) {
        throw new Error(`${NAME}.step: every step but the last draws noise; pass the generator that drew the initial noise.`);
      }
      const noise = generator.randn(modelOutput.length);
      prevSample = axpbyF32(f32(Math.sqrt(alphaProdPrev)), denoised, f32(Math.sqrt(f32(1 - alphaProdPrev))), noise);
    }
    this.stepIndex = index + 1;
    // The LCM pipeline decodes `denoised`; it is also the preview.
    return { prevSample, predOriginalSample: denoised };
  }

  /** The first step's index: the second match when a timestep repeats, as diffusers picks it. */
  private indexForTimestep(timestep: number): number {
    const matches: number[] = [];
    this.timesteps.forEach((t, i) => {
      if (t === timestep) matches.push(i);
    });
    if (matches.length === 0) {
      throw new Error(`${NAME}.step: timestep ${timestep} is not in the schedule (${this.timesteps.join(', ')}).`);
    }
    return matches.length > 1 ? matches[1] : matches[0];
  }
}
