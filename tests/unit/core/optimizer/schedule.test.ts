import { describe, expect, it } from 'vitest';
import { resolveRunConfig } from '@core/shared/config';
import { learningRateAt, type ScheduleSettings } from '@core/optimizer/schedule';

/** The rate of the run's `step`-th step (1-based) with `batches` steps an epoch. */
const rateAtStep = (settings: ScheduleSettings, step: number, batches: number): number =>
  learningRateAt(settings, Math.floor((step - 1) / batches) + 1, ((step - 1) % batches) + 1, batches);

describe('learning-rate schedules', () => {
  it('constant: the rate itself at every step (exactly: the notebook run is unchanged)', () => {
    const config = resolveRunConfig({ learningRate: 0.001 });
    for (const step of [1, 2, 469, 23_450]) expect(rateAtStep(config, step, 469)).toBe(0.001);
  });

  it('warm-up: rises linearly over the warm-up epochs, then the schedule takes over', () => {
    const config = resolveRunConfig({ learningRate: 0.01, warmupEpochs: 2, epochs: 10 });
    // 10 steps an epoch: 20 warm-up steps, the first at 1/20 of the rate.
    expect(rateAtStep(config, 1, 10)).toBeCloseTo(0.0005, 15);
    expect(rateAtStep(config, 10, 10)).toBeCloseTo(0.005, 15);
    expect(rateAtStep(config, 20, 10)).toBe(0.01);
    expect(rateAtStep(config, 21, 10)).toBe(0.01);
  });

  it('step decay: halves every 3 epochs, counted by whole epochs', () => {
    const config = resolveRunConfig({ learningRate: 0.008, schedule: 'step', stepEpochs: 3, stepFactor: 0.5 });
    // 5 steps an epoch: epochs 1–3 are steps 1–15, 4–6 are 16–30.
    expect(rateAtStep(config, 15, 5)).toBe(0.008);
    expect(rateAtStep(config, 16, 5)).toBe(0.004);
    expect(rateAtStep(config, 30, 5)).toBe(0.004);
    expect(rateAtStep(config, 31, 5)).toBe(0.002);
  });

  it('cosine: from the rate after warm-up to near 0 at the last step, half way at the middle', () => {
    const config = resolveRunConfig({ learningRate: 0.002, schedule: 'cosine', warmupEpochs: 1, epochs: 5 });
    // 4 steps an epoch: warm-up steps 1–4, then 16 decay steps 5–20.
    expect(rateAtStep(config, 4, 4)).toBe(0.002);
    expect(rateAtStep(config, 5, 4)).toBe(0.002); // cos(0) = 1
    // Step 13 is 8 of 16 decay steps in: cos(π/2) = 0, so half the rate.
    expect(rateAtStep(config, 13, 4)).toBeCloseTo(0.001, 15);
    // The last step: 15/16 of the way, 0.5·(1 + cos(15π/16)) = 0.0096074…
    expect(rateAtStep(config, 20, 4)).toBeCloseTo(0.002 * 0.009607359798384785, 15);
  });

  it('follows the epochs, not the step count, when a run goes on with data of another size', () => {
    const config = resolveRunConfig({ learningRate: 0.002, schedule: 'cosine', epochs: 20 });
    // Epoch 11 starts half way through the 20 epochs, whatever the batches an epoch: cos(π/2) = 0.
    expect(learningRateAt(config, 11, 1, 469)).toBeCloseTo(0.001, 15);
    expect(learningRateAt(config, 11, 1, 235)).toBeCloseTo(0.001, 15);
    // Its last batch is 1/20 further, on either size.
    expect(learningRateAt(config, 11, 235, 235)).toBeCloseTo(
      0.001 * (1 + Math.cos((Math.PI * (10 + 234 / 235)) / 20)),
      15,
    );
  });

  it('refuses a cosine warm-up as long as the run, and early stopping without a validation split', () => {
    expect(() => resolveRunConfig({ schedule: 'cosine', warmupEpochs: 5, epochs: 5 })).toThrow(
      'warm-up epochs must be fewer than the epochs (5) for the cosine schedule, got 5',
    );
    expect(() => resolveRunConfig({ patience: 3 })).toThrow(
      'patience needs a validation split (its cost decides): set the validation split above 0',
    );
    expect(() => resolveRunConfig({ schedule: 'linear' })).toThrow(
      'learning-rate schedule must be one of constant, step, cosine, got "linear"',
    );
  });
});
