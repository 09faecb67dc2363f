import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import {
  checkpointOf,
  decodeCheckpoint,
  encodeCheckpoint,
  resumeConfig,
  saveCheckpoint,
  trainerStateOf,
} from '@core/checkpoint/checkpoint';
import { type RunConfig, resolveRunConfig } from '@core/shared/config';
import { fingerprint, type LabelledDataset, takeFirst } from '@core/shared/dataset';
import type { KernelChoice } from '@core/engine/engine';
import { type EpochSummary, Trainer, type TrainerState } from '@core/training/trainer';
import { realDataset } from '../../../helpers/data';

// Timings differ run to run; `epochs` is the target of the run the epoch belonged to.
const withoutTimes = (history: EpochSummary[]) =>
  history.map(({ seconds, evaluationSeconds, samplesPerSecond, epochs, ...rest }) => rest);

async function train(
  config: RunConfig,
  data: LabelledDataset,
  options: { resume?: TrainerState; stopAfterEpoch?: number; kernels?: KernelChoice } = {},
) {
  const trainer: Trainer = await Trainer.create({
    config,
    train: data,
    resume: options.resume,
    kernels: options.kernels,
    onEpoch: (summary) => {
      if (summary.epoch === options.stopAfterEpoch) trainer.stop();
    },
  });
  try {
    const summary = await trainer.run();
    return { summary, state: trainer.getState() };
  } finally {
    await trainer.dispose();
  }
}

/** A state through a checkpoint file's bytes and back, as a resume from disk sees it. */
function throughCheckpoint(
  state: TrainerState,
  config: RunConfig,
  data: LabelledDataset,
): { state: TrainerState; config: RunConfig } {
  const checkpoint = decodeCheckpoint(
    encodeCheckpoint(checkpointOf(state, config, { datasetFingerprint: fingerprint(data) })),
    'c.safetensors',
  );
  return {
    state: trainerStateOf(checkpoint, 'c.safetensors'),
    config: resumeConfig(checkpoint.config, checkpoint.epochsDone, {}, 'c.safetensors'),
  };
}

function expectSameState(got: TrainerState, want: TrainerState): void {
  expect(got.epochsDone).toBe(want.epochsDone);
  expect(got.step).toBe(want.step);
  expect(got.shuffleState).toEqual(want.shuffleState);
  expect(got.parameters.weights).toEqual(want.parameters.weights);
  expect(got.parameters.biases).toEqual(want.parameters.biases);
  expect(got.moments.v.weights).toEqual(want.moments.v.weights);
  expect(withoutTimes(got.history)).toEqual(withoutTimes(want.history));
}

describe('training recipes in the trainer', () => {
  const everything = {
    hiddenSizes: [64, 32],
    batchSize: 50,
    seed: 3,
    validationFraction: 0.1,
    schedule: 'cosine',
    warmupEpochs: 1,
    weightDecay: 0.02,
    dropout: 0.2,
    shiftPixels: 2,
    flip: true,
    labelSmoothing: 0.1,
  } as const;

  it('resume exactly in the middle of a cosine schedule with every recipe on, from a checkpoint file', async () => {
    const data = takeFirst(await realDataset('train'), 1500);
    const config = resolveRunConfig({ ...everything, epochs: 4 });
    const straight = await train(config, data);
    const first = await train(config, data, { stopAfterEpoch: 2 });
    expect(first.summary.status).toBe('stopped');
    expect(first.state.epochsDone).toBe(2);
    const saved = throughCheckpoint(first.state, config, data);
    const resumed = await train(saved.config, data, { resume: saved.state });
    expectSameState(resumed.state, straight.state);
    // The schedule by hand: 27 steps an epoch (1350 samples / 50); the warm-up ends with epoch 1 at the full
    // rate, the cosine reaches half of it 1.5 epochs later and nearly 0 at the end.
    const rates = straight.summary.history.map((e) => e.learningRate!);
    expect(rates[0]).toBeCloseTo(0.001, 12);
    expect(rates[2]).toBeCloseTo(0.001 * 0.5 * (1 + Math.cos((Math.PI * (3 * 27 - 1 - 27)) / (3 * 27))), 12);
    expect(rates[3]).toBeLessThan(0.001 * 0.001);
    // And the recipes did something: the plain run differs.
    const plain = await train(
      resolveRunConfig({ hiddenSizes: [64, 32], batchSize: 50, seed: 3, validationFraction: 0.1, epochs: 1 }),
      data,
    );
    expect(plain.summary.history[0].cost).not.toBe(straight.summary.history[0].cost);
  });

  it('are the same on one thread and two', async () => {
    const data = takeFirst(await realDataset('train'), 800);
    const config = resolveRunConfig({ ...everything, epochs: 2 });
    const one = await train({ ...config, threads: 1 }, data, { kernels: 'wasm' });
    const two = await train({ ...config, threads: 2 }, data, { kernels: 'wasm' });
    expectSameState(two.state, one.state);
  });

  describe('early stopping', () => {
    // 600 real images: the validation cost stops improving after a few epochs of memorising.
    let data: LabelledDataset;
    const config = resolveRunConfig({
      hiddenSizes: [64],
      batchSize: 20,
      learningRate: 0.003,
      validationFraction: 0.25,
      epochs: 40,
      patience: 3,
      restoreBest: true,
    });
    beforeAll(async () => {
      data = takeFirst(await realDataset('train'), 600);
    });

    it('stops when the validation cost has not improved for `patience` epochs and hands back the best epoch', async () => {
      const run = await train(config, data);
      const costs = run.summary.history.map((e) => e.validationCost!);
      const best = costs.indexOf(Math.min(...costs)) + 1;
      expect(best).toBeGreaterThan(2);
      expect(run.summary.stoppedEarly).toBe(true);
      expect(run.summary.history).toHaveLength(best + 3);
      expect(run.summary.bestEpoch).toBe(best);
      expect(run.summary.restoredBest).toBe(true);
      expect(run.state.epochsDone).toBe(best);
      // The best epoch's state is that of a run that simply ended there.
      const shorter = await train({ ...config, epochs: best, patience: 0, restoreBest: false }, data);
      expectSameState(run.state, shorter.state);
      expect(run.state.best).toEqual({ epoch: best, validationCost: costs[best - 1], state: null });
    });

    it('resumes exactly during its patience, from a checkpoint file holding the best epoch', async () => {
      const straight = await train(config, data);
      const best = straight.summary.bestEpoch!;
      const first = await train(config, data, { stopAfterEpoch: best + 2 });
      expect(first.summary.status).toBe('stopped');
      expect(first.summary.restoredBest).toBe(false);
      expect(first.state.epochsDone).toBe(best + 2);
      expect(first.state.best?.state?.step).toBe(straight.state.step);
      const saved = throughCheckpoint(first.state, config, data);
      expect(saved.state.best?.state?.parameters.weights).toEqual(straight.state.parameters.weights);
      const resumed = await train(saved.config, data, { resume: saved.state });
      expect(resumed.summary.stoppedEarly).toBe(true);
      expect(resumed.summary.history).toHaveLength(best + 3);
      expectSameState(resumed.state, straight.state);
    });

    it('leaves an autosave that is marked finished early', async () => {
      const { TrainingRun } = await import('@core/training/training-run');
      const { loadCheckpoint } = await import('@core/checkpoint/checkpoint');
      const { tempDir } = await import('../../../helpers/data');
      const file = join(await tempDir('fmnist-early-'), 'autosave.safetensors');
      const run = await TrainingRun.create({
        config,
        train: data,
        test: null,
        data: { fingerprint: fingerprint(data), sources: null, history: null },
        autosaveFiles: [file],
      });
      const summary = await run.run();
      await run.dispose();
      expect(summary.stoppedEarly).toBe(true);
      const saved = await loadCheckpoint(file);
      expect(saved.finishedEarly).toBe(true);
      expect(saved.epochsDone).toBe(summary.bestEpoch);
      expect(saved.epochsDone).toBeLessThan(config.epochs);
      // A run stopped by hand at the same point is not finished: it can continue.
      const stopped = await train(config, data, { stopAfterEpoch: 3 });
      await saveCheckpoint(file, checkpointOf(stopped.state, config, { datasetFingerprint: fingerprint(data) }));
      expect((await loadCheckpoint(file)).finishedEarly).toBe(false);
    });

    it('keeps the last epoch without restoreBest', async () => {
      const run = await train({ ...config, restoreBest: false }, data);
      expect(run.summary.stoppedEarly).toBe(true);
      expect(run.summary.restoredBest).toBe(false);
      expect(run.state.epochsDone).toBe(run.summary.bestEpoch! + 3);
    });
  });
});

describe('the early-stopping memory in a checkpoint file', () => {
  it('is refused in one line when it is inconsistent, naming the file', async () => {
    const { initParameters, mlpShape } = await import('@core/shared/mlp');
    const parameters = initParameters(mlpShape([8]), 1);
    const zeros = {
      ...parameters,
      weights: parameters.weights.map((w) => new Float32Array(w.length)),
      biases: parameters.biases.map((b) => new Float32Array(b.length)),
    };
    const config = resolveRunConfig({ hiddenSizes: [8], epochs: 5, validationFraction: 0.2, restoreBest: true });
    const state: TrainerState = {
      epochsDone: 3,
      step: 9,
      shuffleState: [1, 2, 3, 4],
      parameters,
      moments: { m: zeros, v: zeros },
      history: [],
    };
    const history = [1, 2, 3].map((epoch) => ({
      epoch,
      epochs: 5,
      cost: 1,
      trainAccuracy: 0.5,
      validationCost: 1,
      validationAccuracy: 0.5,
      testCost: null,
      testAccuracy: null,
      seconds: 1,
      evaluationSeconds: 0,
      samplesPerSecond: 1,
    }));
    const file = (best: TrainerState['best']) =>
      encodeCheckpoint(checkpointOf({ ...state, history, best }, config, { datasetFingerprint: null }));
    // The same memory, whole, reads back as written.
    const whole = {
      epoch: 2,
      validationCost: 0.7,
      state: {
        step: 6,
        shuffleState: [5, 6, 7, 8] as [number, number, number, number],
        parameters,
        moments: { m: zeros, v: zeros },
      },
    };
    expect(decodeCheckpoint(file(whole), 'c.safetensors').optimizer?.best).toEqual(whole);
    expect(() => decodeCheckpoint(file({ ...whole, epoch: 4 }), 'c.safetensors')).toThrow(
      'c.safetensors: has an invalid best epoch (early stopping)',
    );
    expect(() => decodeCheckpoint(file({ ...whole, validationCost: -1 }), 'c.safetensors')).toThrow(
      'c.safetensors: has an invalid best validation cost (early stopping)',
    );
    expect(() => decodeCheckpoint(file({ ...whole, state: { ...whole.state, step: -2 } }), 'c.safetensors')).toThrow(
      'c.safetensors: has an invalid optimizer step count of the best epoch',
    );
  });
});
