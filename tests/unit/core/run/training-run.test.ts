/**
 * A training run keeps no reference to the data sets it was created with: the engine has its own copy, so
 * a host that drops its copies (the CLI) gets their memory back while the run goes on.
 */

import { describe, expect, it } from 'vitest';
import { collectGarbage } from '../../../../src/cli/memory';
import { resolveRunConfig } from '../../../../src/core/config';
import { fingerprint } from '../../../../src/core/data/dataset';
import { TrainingRun } from '../../../../src/core/run/training-run';
import { randomDataset } from '../../../helpers/data';

async function createRun(): Promise<{ run: TrainingRun; train: WeakRef<Uint8Array>; test: WeakRef<Uint8Array> }> {
  const train = randomDataset(300, 3);
  const test = randomDataset(100, 4);
  const run = await TrainingRun.create({
    config: resolveRunConfig({ epochs: 2, hiddenSizes: [16], threads: 1 }),
    train,
    test,
    data: { fingerprint: fingerprint(train), sources: null, history: null },
    autosaveFile: null,
    onBatch: () => {},
    onEpoch: () => {},
    onProgress: () => {},
    keepEpochModel: true,
  });
  return { run, train: new WeakRef(train.images), test: new WeakRef(test.images) };
}

describe('training run', () => {
  it('lets the data sets it was created with be collected while it trains on', async () => {
    const { run, train, test } = await createRun();
    // A few turns of the event loop: WeakRefs hold their targets until the current job has ended.
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      collectGarbage();
    }
    expect(train.deref()).toBeUndefined();
    expect(test.deref()).toBeUndefined();
    const summary = await run.run();
    expect(summary.status).toBe('finished');
    expect(summary.history).toHaveLength(2);
    await run.dispose();
  });
});
