/**
 * A training run keeps no reference to the data sets it was created with: the engine has its own copy, so
 * a host that drops its copies (the CLI) gets their memory back while the run goes on.
 */

import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { collectGarbage } from '../../../../src/cli/memory';
import { resolveRunConfig } from '@core/shared/config';
import { fingerprint, isUnread, type LabelledData, type LabelledDataset } from '@core/shared/dataset';
import { openIdxDataset } from '@core/data/idx';
import { TrainingRun } from '@core/training/training-run';
import { randomDataset, tempDir, toIdx, writeTemp } from '../../../helpers/data';

async function createRun(): Promise<{ run: TrainingRun; train: WeakRef<Uint8Array>; test: WeakRef<Uint8Array> }> {
  const train = randomDataset(300, 3);
  const test = randomDataset(100, 4);
  const run = await TrainingRun.create({
    config: resolveRunConfig({ epochs: 2, hiddenSizes: [16], threads: 1 }),
    train,
    test,
    data: { fingerprint: fingerprint(train), sources: null, history: null },
    autosaveFiles: [],
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

describe('training run on IDX data left unread', () => {
  async function unread(dataset: LabelledDataset, name: string): Promise<LabelledData> {
    const dir = await tempDir();
    const files = toIdx(dataset);
    const opened = await openIdxDataset(
      await writeTemp(dir, `${name}-images.gz`, gzipSync(files.images)),
      await writeTemp(dir, `${name}-labels`, files.labels),
    );
    expect(isUnread(opened)).toBe(true);
    return opened;
  }

  async function trained(
    train: LabelledData,
    test: LabelledData,
    limit: number,
  ): Promise<{ parameters: number[]; trainedOn: string }> {
    let trainedOn = '';
    const run = await TrainingRun.create({
      config: resolveRunConfig({ epochs: 1, hiddenSizes: [16], threads: 1, limit }),
      train,
      test,
      data: (print) => {
        trainedOn = print;
        return { fingerprint: print, sources: null, history: null };
      },
      autosaveFiles: [],
    });
    await run.run();
    const parameters = Array.from(run.state().parameters.weights[0].subarray(0, 64));
    await run.dispose();
    expect(run.data.fingerprint).toBe(trainedOn);
    return { parameters, trainedOn };
  }

  it('reads the images into the engine: the same training and fingerprint as from the data in memory', async () => {
    const train = randomDataset(300, 3);
    const test = randomDataset(100, 4);
    for (const limit of [0, 120]) {
      const fromFiles = await trained(await unread(train, 'train'), await unread(test, 'test'), limit);
      const fromMemory = await trained(train, test, limit);
      expect(fromFiles.parameters).toEqual(fromMemory.parameters);
      // The fingerprint is of the whole training set, the limit notwithstanding.
      expect(fromFiles.trainedOn).toBe(fingerprint(train));
      expect(fromMemory.trainedOn).toBe(fingerprint(train));
    }
  });

  it('is not created when the data turns out to be wrong for it', async () => {
    const train = randomDataset(300, 3);
    const create = TrainingRun.create({
      config: resolveRunConfig({ epochs: 1, hiddenSizes: [16], threads: 1 }),
      train: await unread(train, 'other'),
      test: null,
      data: () => {
        throw new Error('trained on other data');
      },
      autosaveFiles: [],
    });
    await expect(create).rejects.toThrow('trained on other data');
  });
});
