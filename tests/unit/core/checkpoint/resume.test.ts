import { describe, expect, it } from 'vitest';
import {
  checkpointOf,
  decodeCheckpoint,
  encodeCheckpoint,
  resumeConfig,
  trainerStateOf,
} from '@core/checkpoint/checkpoint';
import { resolveRunConfig } from '@core/shared/config';
import { fingerprint, takeFirst } from '@core/shared/dataset';
import { type EpochSummary, Trainer } from '@core/training/trainer';
import { realDataset } from '../../../helpers/data';

// Timings differ run to run, and `epochs` is the target the run had when the epoch ended (2, then 4).
const withoutTimes = (history: EpochSummary[]) =>
  history.map(({ seconds, evaluationSeconds, samplesPerSecond, epochs, ...rest }) => rest);

describe('resuming from a checkpoint', () => {
  it('gives exactly the weights and history of the run that never stopped', async () => {
    const train = takeFirst(await realDataset('train'), 3000);
    const test = takeFirst(await realDataset('test'), 500);
    const config = resolveRunConfig({
      epochs: 4,
      hiddenSizes: [96, 48],
      validationFraction: 0.1,
      seed: 11,
      batchSize: 64,
    });

    const straight = await Trainer.create({ config, train, test });
    await straight.run();
    const expected = straight.getState();
    await straight.dispose();

    const first = await Trainer.create({ config: { ...config, epochs: 2 }, train, test });
    await first.run();
    const saved = encodeCheckpoint(
      checkpointOf(first.getState(), { ...config, epochs: 2 }, { datasetFingerprint: fingerprint(train) }),
    );
    await first.dispose();

    const checkpoint = decodeCheckpoint(saved, 'half.safetensors');
    const resumed = await Trainer.create({
      config: resumeConfig(checkpoint.config, checkpoint.epochsDone, { epochs: 4 }, 'half.safetensors'),
      train,
      test,
      resume: trainerStateOf(checkpoint, 'half.safetensors'),
    });
    const summary = await resumed.run();
    const got = resumed.getState();
    await resumed.dispose();

    expect(summary.epochsDone).toBe(4);
    expect(got.step).toBe(expected.step);
    expect(got.shuffleState).toEqual(expected.shuffleState);
    expect(got.parameters.weights).toEqual(expected.parameters.weights);
    expect(got.parameters.biases).toEqual(expected.parameters.biases);
    expect(got.moments.v.weights).toEqual(expected.moments.v.weights);
    expect(withoutTimes(got.history)).toEqual(withoutTimes(expected.history));
  });

  it('refuses to resume weights-only files and changed settings', async () => {
    const { initParameters, mlpShape } = await import('@core/shared/mlp');
    const parameters = initParameters(mlpShape([8]), 1);
    const weightsOnly = decodeCheckpoint(
      encodeCheckpoint({
        parameters,
        config: null,
        epochsDone: 0,
        history: [],
        datasetFingerprint: null,
        appVersion: null,
        createdAt: null,
        optimizer: null,
      }),
      'w.safetensors',
    );
    expect(() => trainerStateOf(weightsOnly, 'w.safetensors')).toThrow(
      'w.safetensors: holds only model weights (no optimizer state): it can be evaluated or exported, not resumed',
    );
    const config = resolveRunConfig({ hiddenSizes: [8], epochs: 3 });
    const state = {
      epochsDone: 3,
      step: 9,
      shuffleState: [1, 2, 3, 4] as [number, number, number, number],
      parameters,
      moments: { m: parameters, v: parameters },
      history: [],
    };
    const checkpoint = checkpointOf(state, config, { datasetFingerprint: null });
    expect(() => resumeConfig(checkpoint.config, 3, { epochs: 5, seed: 2 }, 'c')).toThrow(
      'seed cannot change when resuming: the model was trained with 1, got 2',
    );
    expect(() => resumeConfig(checkpoint.config, 3, { epochs: 3 }, 'c')).toThrow(/already has 3 epochs/);
    expect(resumeConfig(checkpoint.config, 3, { epochs: 5, threads: 2 }, 'c')).toEqual({
      ...config,
      epochs: 5,
      threads: 2,
    });
  });
});

describe('stopping mid-epoch', () => {
  it('leaves exactly the state of the last whole epoch, so resuming equals the run that never stopped', async () => {
    const train = takeFirst(await realDataset('train'), 2000);
    const config = resolveRunConfig({ epochs: 3, hiddenSizes: [40], batchSize: 50, seed: 4 });
    const straight = await Trainer.create({ config, train });
    await straight.run();
    const expected = straight.getState();
    await straight.dispose();

    const stopper: Trainer = await Trainer.create({
      config,
      train,
      // Stop in the middle of epoch 2: its first 5 batches are done and must be abandoned.
      onBatch: (p) => {
        if (p.epoch === 2 && p.batch === 5) stopper.stop();
      },
    });
    const summary = await stopper.run();
    const stopped = stopper.getState();
    await stopper.dispose();
    expect(summary.status).toBe('stopped');
    expect(stopped.epochsDone).toBe(1);
    expect(stopped.step).toBe(40);

    const resumed = await Trainer.create({ config, train, resume: stopped });
    await resumed.run();
    const got = resumed.getState();
    await resumed.dispose();
    expect(got.parameters.weights).toEqual(expected.parameters.weights);
    expect(got.step).toBe(expected.step);
  });
});
