/** Checkpoints for tests that need a model file but no training: fresh He-normal weights, no optimizer state. */

import { saveCheckpoint } from '@core/checkpoint/checkpoint';
import { type RunConfig, resolveRunConfig } from '@core/shared/config';
import { initParameters, mlpShape } from '@core/shared/mlp';

/** Writes an untrained, weights-only checkpoint; `settings` false for none recorded (as a bare state dict). */
export async function writeUntrainedCheckpoint(
  path: string,
  hiddenSizes: number[],
  options: { seed?: number; settings?: Partial<RunConfig> | false } = {},
): Promise<void> {
  const seed = options.seed ?? 1;
  await saveCheckpoint(path, {
    parameters: initParameters(mlpShape(hiddenSizes), seed),
    config: options.settings === false ? null : resolveRunConfig({ hiddenSizes, seed, ...options.settings }),
    epochsDone: 0,
    history: [],
    datasetFingerprint: null,
    appVersion: null,
    createdAt: null,
    optimizer: null,
  });
}
