/**
 * The learning rate of each Adam step, from where the step is in the run counted in epochs: batch b of B in
 * epoch e is at (e − 1) + b/B. A linear warm-up over the first warmupEpochs (from lr/(warmupEpochs·B) at the
 * first step to lr), then the schedule: constant; step decay (× stepFactor every stepEpochs epochs); or
 * cosine, from lr after the warm-up down to 0 at the end of the last epoch. A function of that position only,
 * so a resumed run takes the same rates as one that never stopped, and a run continued on data of another
 * size stays on its schedule.
 */

import type { RunConfig } from '@core/shared/config';

export type ScheduleSettings = Pick<
  RunConfig,
  'learningRate' | 'epochs' | 'schedule' | 'warmupEpochs' | 'stepEpochs' | 'stepFactor'
>;

/** The rate of batch `batch` (1-based) of `batches` in epoch `epoch` (1-based). */
export function learningRateAt(settings: ScheduleSettings, epoch: number, batch: number, batches: number): number {
  const warmup = settings.warmupEpochs;
  // Epochs done when this step ends.
  const position = epoch - 1 + batch / batches;
  let factor = position <= warmup ? position / warmup : 1;
  if (settings.schedule === 'step') {
    factor *= settings.stepFactor ** Math.floor((epoch - 1) / settings.stepEpochs);
  } else if (settings.schedule === 'cosine' && position > warmup) {
    // 0 at the first step after the warm-up, approaching 1 at the last step.
    const progress = (epoch - 1 + (batch - 1) / batches - warmup) / (settings.epochs - warmup);
    factor *= 0.5 * (1 + Math.cos(Math.PI * progress));
  }
  return settings.learningRate * factor;
}
