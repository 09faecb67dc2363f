/**
 * The learning rate of each Adam step. A linear warm-up over the first warmupEpochs (from lr/S at the first
 * step to lr, S steps an epoch), then the schedule: constant; step decay (× stepFactor every stepEpochs
 * epochs); or cosine, from lr after the warm-up down to 0 at the end of the last epoch. A function of the
 * step count only, so a resumed run takes the same rates as one that never stopped.
 */

import type { RunConfig } from '../config';

export type ScheduleSettings = Pick<RunConfig, 'learningRate' | 'epochs' | 'schedule' | 'warmupEpochs' | 'stepEpochs' | 'stepFactor'>;

/** The rate of step `step` (1-based) of a run with `stepsPerEpoch` steps an epoch. */
export function learningRateAt(settings: ScheduleSettings, step: number, stepsPerEpoch: number): number {
  const warmupSteps = settings.warmupEpochs * stepsPerEpoch;
  let factor = step <= warmupSteps ? step / warmupSteps : 1;
  if (settings.schedule === 'step') {
    // Epochs completed before this step, whole.
    const epoch = Math.floor((step - 1) / stepsPerEpoch);
    factor *= settings.stepFactor ** Math.floor(epoch / settings.stepEpochs);
  } else if (settings.schedule === 'cosine' && step > warmupSteps) {
    const decaySteps = (settings.epochs - settings.warmupEpochs) * stepsPerEpoch;
    // 0 at the first step after the warm-up, approaching 1 at the last step.
    const progress = (step - 1 - warmupSteps) / decaySteps;
    factor *= 0.5 * (1 + Math.cos(Math.PI * progress));
  }
  return settings.learningRate * factor;
}
