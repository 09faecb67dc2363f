/**
 * The autosave beside the training: when checkpoints are written (the first and last epochs, then at most every
 * interval, whatever is unwritten at a pause or the end), that writes never pile up, and that the run's record
 * never names an epoch its checkpoint lacks. Then the same through a real run: a pause answers once the
 * trainer waits and the file holds the last whole epoch; a stop writes the epochs the interval had left.
 */

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint, type Checkpoint } from '@core/checkpoint/checkpoint';
import { resolveRunConfig } from '@core/shared/config';
import { fingerprint } from '@core/shared/dataset';
import type { EpochSummary } from '@core/shared/events';
import { type AutosaveFiles, AutosaveSchedule } from '@core/training/autosave';
import { Trainer, type TrainerState } from '@core/training/trainer';
import { TrainingRun } from '@core/training/training-run';
import { randomDataset, tempDir } from '../../../helpers/data';

const summary = (epoch: number): EpochSummary => ({ epoch }) as EpochSummary;
const stateAt = (epochsDone: number) => (): TrainerState => ({ epochsDone }) as TrainerState;
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A schedule over files that log their writes (held until released, when asked) and a clock the test sets. */
function scheduleOf(intervalMs: number, options: { holdWrites?: boolean; empty?: boolean } = {}) {
  const log: string[] = [];
  let clock = 0;
  const held: (() => void)[] = [];
  const files = {
    empty: options.empty ?? false,
    lastFailure: null,
    async write(checkpoint: Checkpoint): Promise<boolean> {
      log.push(`write begins ${checkpoint.epochsDone}`);
      if (options.holdWrites) await new Promise<void>((resolve) => held.push(resolve));
      log.push(`written ${checkpoint.epochsDone}`);
      return false;
    },
  } as unknown as AutosaveFiles;
  const schedule = new AutosaveSchedule({
    files,
    intervalMs,
    now: () => clock,
    checkpointOf: (state) => ({ epochsDone: state.epochsDone }) as Checkpoint,
    written: () => {},
    record: async (summaries) => {
      log.push(`recorded ${summaries.map((s) => s.epoch).join(',')}`);
    },
  });
  return {
    schedule,
    log,
    at: (ms: number) => (clock = ms),
    release: () => held.splice(0).forEach((resolve) => resolve()),
  };
}

/** Checks that every record names only epochs a finished write held. */
function recordsFollowWrites(log: string[]): void {
  let written = 0;
  for (const line of log) {
    const w = /^written (\d+)$/.exec(line);
    if (w) written = Math.max(written, Number(w[1]));
    const r = /^recorded ([\d,]+)$/.exec(line);
    if (r) for (const epoch of r[1].split(',').map(Number)) expect(epoch, line).toBeLessThanOrEqual(written);
  }
}

describe('autosave schedule', () => {
  it('writes the first epoch, then the first epoch a whole interval after the last write, then the last; records each after its write', async () => {
    const { schedule, log, at } = scheduleOf(3000);
    // Epoch e ends at e seconds; the run has 8 epochs.
    for (let epoch = 1; epoch <= 8; epoch++) {
      at(epoch * 1000);
      expect(schedule.epoch(summary(epoch), stateAt(epoch), epoch === 8)).toBeNull();
      await settle();
    }
    await schedule.flush(stateAt(8));
    // By hand: 1 (first), 4 (3 s after 1), 7 (3 s after 4), 8 (the last).
    expect(log).toEqual([
      'write begins 1',
      'written 1',
      'recorded 1',
      'write begins 4',
      'written 4',
      'recorded 2,3,4',
      'write begins 7',
      'written 7',
      'recorded 5,6,7',
      'write begins 8',
      'written 8',
      'recorded 8',
    ]);
  });

  it('lets epochs that end while a write is under way wait for a later one, and the flush write the last whole epoch', async () => {
    const { schedule, log, at, release } = scheduleOf(1000, { holdWrites: true });
    at(0);
    schedule.epoch(summary(1), stateAt(1), false);
    // The first write is still under way at epochs 2–4, though the interval has passed: nothing more begins.
    for (let epoch = 2; epoch <= 4; epoch++) {
      at(epoch * 5000);
      schedule.epoch(summary(epoch), stateAt(epoch), false);
      await settle();
    }
    expect(log).toEqual(['write begins 1']);
    // A pause: the flush writes the last whole epoch, after the write under way.
    const flushed = schedule.flush(stateAt(4));
    let done = false;
    void flushed.then(() => (done = true));
    await settle();
    expect(done).toBe(false);
    release();
    await settle();
    release();
    await flushed;
    expect(log).toEqual(['write begins 1', 'written 1', 'recorded 1', 'write begins 4', 'written 4', 'recorded 2,3,4']);
    recordsFollowWrites(log);
  });

  it('with an interval of 0, writes every epoch and hands each write to the trainer to wait for', async () => {
    const { schedule, log } = scheduleOf(0);
    for (let epoch = 1; epoch <= 3; epoch++) {
      const wait = schedule.epoch(summary(epoch), stateAt(epoch), epoch === 3);
      expect(wait).not.toBeNull();
      await wait;
      expect(log.at(-1)).toBe(`recorded ${epoch}`);
    }
    expect(log.filter((line) => line.startsWith('written'))).toEqual(['written 1', 'written 2', 'written 3']);
  });

  it('without autosave files, records every epoch, several in one write when they come faster than records', async () => {
    const { schedule, log } = scheduleOf(5000, { empty: true });
    // Five epochs before the first record's turn comes: one write for them all; then one more, alone.
    for (let epoch = 1; epoch <= 5; epoch++) schedule.epoch(summary(epoch), stateAt(epoch), false);
    await settle();
    schedule.epoch(summary(6), stateAt(6), true);
    await schedule.flush(stateAt(6));
    expect(log).toEqual(['recorded 1,2,3,4,5', 'recorded 6']);
  });
});

describe('autosave of a real run', () => {
  const train = randomDataset(600, 5);
  const config = resolveRunConfig({ epochs: 40, hiddenSizes: [16], threads: 1, batchSize: 50 });
  const data = { fingerprint: fingerprint(train), sources: null, history: null };

  it('answers a pause once the trainer waits, with its last whole epoch in the autosave, though the interval had not passed', async () => {
    const file = join(await tempDir('fmnist-autosave-pause-'), 'run.safetensors');
    let batchesSincePaused = 0;
    let paused: Promise<void> | null = null;
    let pausedAnswered = false;
    const run: TrainingRun = await TrainingRun.create({
      config,
      train,
      test: null,
      data,
      autosaveFiles: [file],
      autosaveIntervalMs: 3_600_000,
      onBatch: (progress) => {
        if (pausedAnswered) batchesSincePaused++;
        // Paused in the middle of epoch 4: epochs 2 and 3 were never written (the interval is an hour).
        if (progress.epoch === 4 && progress.batch === 5 && !paused)
          paused = run.pause().then(() => {
            pausedAnswered = true;
          });
      },
    });
    const finished = run.run();
    await expect.poll(() => pausedAnswered, { timeout: 10_000 }).toBe(true);
    const saved = await loadCheckpoint(file);
    expect(saved.epochsDone).toBe(3);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(batchesSincePaused).toBe(0);
    run.stop();
    const summary = await finished;
    expect(summary.status).toBe('stopped');
    expect((await loadCheckpoint(file)).epochsDone).toBe(3);
    await run.dispose();
  });

  it('writes the epochs the interval left unwritten when the run is stopped', async () => {
    const file = join(await tempDir('fmnist-autosave-stop-'), 'run.safetensors');
    let epochs = 0;
    const run: TrainingRun = await TrainingRun.create({
      config,
      train,
      test: null,
      data,
      autosaveFiles: [file],
      autosaveIntervalMs: 3_600_000,
      onEpoch: (s) => {
        epochs = s.epoch;
        if (s.epoch === 6) run.stop();
      },
    });
    const summary = await run.run();
    expect(epochs).toBe(6);
    expect(summary.epochsDone).toBe(6);
    expect((await loadCheckpoint(file)).epochsDone).toBe(6);
    await run.dispose();
  });
});

describe('trainer paused in the middle of an epoch', () => {
  it('gives the state of the last whole epoch: the same weights, moments, step and shuffle as at that epoch’s end', async () => {
    const train = randomDataset(500, 7);
    let atEpochEnd: TrainerState | null = null;
    let paused: Promise<void> | null = null;
    const trainer: Trainer = await Trainer.create({
      config: resolveRunConfig({ epochs: 5, hiddenSizes: [12], threads: 1, batchSize: 40 }),
      train,
      onEpoch: (s, state) => {
        if (s.epoch === 2) atEpochEnd = state();
      },
      onBatch: (progress) => {
        if (progress.epoch === 3 && progress.batch === 4 && !paused) paused = trainer.pause();
      },
    });
    const finished = trainer.run();
    await expect.poll(() => paused !== null, { timeout: 10_000 }).toBe(true);
    await paused;
    // Asked again while it waits: answered at once.
    await trainer.pause();
    const mid = trainer.lastEpochState();
    const end = atEpochEnd!;
    expect(mid.epochsDone).toBe(2);
    expect(mid.step).toBe(end.step);
    expect(mid.shuffleState).toEqual(end.shuffleState);
    // The live weights have moved on by three batches; the state given is the epoch's.
    expect(trainer.getParameters().weights[0]).not.toEqual(end.parameters.weights[0]);
    expect(mid.parameters.weights).toEqual(end.parameters.weights);
    expect(mid.parameters.biases).toEqual(end.parameters.biases);
    expect(mid.moments).toEqual(end.moments);
    trainer.stop();
    expect((await finished).epochsDone).toBe(2);
    await trainer.dispose();
  });
});
